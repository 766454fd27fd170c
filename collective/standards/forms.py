"""Forms of standards: a checklist, delivering work against one."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from collective.web.forms import MultiCheckboxField


class ChecklistForm(FlaskForm):
    kind = StringField("Kind of work", validators=[DataRequired(), Length(max=80)],
                       description="e.g. Bookkeeping clean-up")
    items = TextAreaField(
        "Items", validators=[DataRequired(), Length(max=5000)],
        description="One a line. Start a line with + when a second member (not the one who "
                    "delivered) must confirm it afterwards.")
    is_active = BooleanField("Offered when work is delivered", default=True)


class DeliverForm(FlaskForm):
    """Mark work delivered: the kind's checklist (or none), and the items done."""

    checklist_id = SelectField("Kind of work", coerce=int, validate_choice=True)
    ticked = MultiCheckboxField("Done at delivery", coerce=int, validate_choice=True)
    version = HiddenField()
    note = StringField("Note (optional)", validators=[Optional(), Length(max=500)])

"""Forms for the ledger pages."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, StringField
from wtforms.validators import DataRequired, Length, Optional


class AsOfForm(FlaskForm):
    """Pick the date balances are shown as of (a GET form, no CSRF needed)."""

    class Meta:
        csrf = False

    as_of = DateField("As of", validators=[Optional()])


class ReverseForm(FlaskForm):
    """Confirm a reversal, with an optional reason."""

    memo = StringField("Why is it reversed?", validators=[Optional(), Length(max=400)])


class CheckLedgerForm(FlaskForm):
    """Check the whole ledger now (a button: it reads every entry)."""


class CloseMonthForm(FlaskForm):
    """Close one month (the button names it)."""


class ReopenMonthForm(FlaskForm):
    """Reopen a closed month: the reason is recorded."""

    reason = StringField("Why reopen it?", validators=[DataRequired(), Length(max=400)])


class CloseYearForm(FlaskForm):
    """The year-end close: confirmed, and forced only with a reason."""

    confirm = BooleanField("Post the closing entry and close every month of the year",
                           validators=[DataRequired("tick the box to confirm the close")])
    force = BooleanField("Close even though some months are not reconciled")
    reason = StringField("Why close it anyway?", validators=[Optional(), Length(max=400)])

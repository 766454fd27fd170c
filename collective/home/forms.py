"""The form of /me: the person's own settings across their collectives."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import Length, NumberRange, Optional

from collective.web.forms import AsciiIntegerField


class WeekSettingsForm(FlaskForm):
    weekly_capacity_hours = AsciiIntegerField(
        "Hours a week you work, across all your collectives",
        validators=[Optional(), NumberRange(min=0, max=168)],
        description="Coordinators' suggestions count your work in your other collectives "
                    "against this. Left empty: the most you offer any one collective.")
    display_currency = StringField(
        "Currency to add your earnings up in", validators=[Optional(), Length(max=3)],
        description="An ISO code such as USD, EUR or PHP. Left empty: your first "
                    "collective's currency.")
    is_other_work_private = BooleanField(
        "Show my work in other collectives to coordinators only as hours, without naming "
        "the collective")

"""Forms of skills proven by work: endorsing a colleague and the public profile."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from collective.pool.evidence.models import NOTE_MAX
from collective.web.forms import MultiCheckboxField, ascii_int, valid_id


def _member_id(value: object) -> int | None:
    try:
        number = ascii_int(str(value))
    except ValueError:
        return None
    return number if valid_id(number) else None


class EndorseForm(FlaskForm):
    """Endorse a colleague who worked the pitch for one of its skills (choices are set by
    the view from the pitch)."""

    receiver_id = SelectField("Colleague", coerce=_member_id, validate_choice=True,
                              validators=[InputRequired(message="Choose a colleague.")])
    skill = SelectField("For the skill", validate_choice=True,
                        validators=[DataRequired(message="Choose a skill.")])
    note = TextAreaField("What they did well", description=f"At most {NOTE_MAX} characters. "
                         "Your colleagues see it on their profile, with your name; if they "
                         "publish their profile, it shows there without your name.",
                         validators=[DataRequired(message="Say in a few words what they "
                                                  "did well."), Length(max=NOTE_MAX)])


class PublicProfileForm(FlaskForm):
    """Which skills the public profile shows, and whether it is published."""

    skills = MultiCheckboxField("Skills to show", choices=[])
    is_published = BooleanField("Publish my profile at a public address")

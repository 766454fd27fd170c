"""Forms for signing in, profiles, collectives, roles, invitations and the audit log."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from collective.audit.actions import ACTIONS
from collective.members.models import MembershipStatus, Role
from collective.web.forms import AsciiIntegerField, MultiCheckboxField
from collective.web.member_field import MemberField

ROLE_CHOICES = [(r.value, r.value.capitalize()) for r in Role]
#: The id of the <datalist> of IANA names that the timezone_field macro writes on the page.
TIMEZONE_LIST = "timezone-names"


def timezone_field(label: str = "Timezone", *, required: bool = True, default: str | None = None,
                   description: str = "Type to search the list, like Manila or Asia/Manila"
                   ) -> StringField:
    """A timezone picked from the IANA names: a text input tied to their <datalist>, so it
    searches without script; the service matches the name case-insensitively."""
    return StringField(label, default=default, description=description,
                       validators=[DataRequired() if required else Optional(), Length(max=64)],
                       render_kw={"list": TIMEZONE_LIST, "autocomplete": "off",
                                  "spellcheck": "false"})


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    remember = BooleanField("Keep me signed in")
    next = HiddenField()


class RegisterForm(FlaskForm):
    name = StringField("Your name", validators=[DataRequired(), Length(max=120)])
    email = EmailField("E-mail", validators=[DataRequired(), Email(check_deliverability=False),
                                             Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(min=10, max=200)])
    confirm = PasswordField("Repeat the password",
                            validators=[DataRequired(), EqualTo("password", "Passwords differ")])
    timezone = timezone_field("Your timezone", default="UTC")
    next = HiddenField()


class PasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired()])
    password = PasswordField("New password", validators=[DataRequired(), Length(min=10, max=200)])
    confirm = PasswordField("Repeat the new password",
                            validators=[DataRequired(), EqualTo("password", "Passwords differ")])


def parse_skills(text: str) -> dict[str, int]:
    """Read 'bookkeeping 5, tax prep 4' (one per comma or line) into {name: level}."""
    skills: dict[str, int] = {}
    for chunk in text.replace("\n", ",").split(","):
        chunk = chunk.strip()
        if not chunk:
            continue
        name, _, level = chunk.rpartition(" ")
        if not name or not level.isdigit() or not 1 <= int(level) <= 5:
            raise ValueError(f"write each skill as a name and a level 1-5, like 'editing 4' "
                             f"(not {chunk!r})")
        skills[name.strip()] = int(level)
    return skills


def check_skills(form: FlaskForm, field) -> None:
    """Inline validator: parse a skills field into form.parsed_skills, or a field error."""
    try:
        form.parsed_skills = parse_skills(field.data or "")
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc


def format_skills(skills) -> str:
    """The inverse of parse_skills, for filling the form."""
    return ", ".join(f"{s.name} {s.level}" for s in skills)


class SkillsField(TextAreaField):
    """Skills as text: filled from a user's Skill rows as 'bookkeeping 5, tax prep 4', so a
    post that leaves the field out validates the text, never the rows (issue 13's fuzz)."""

    def process_data(self, value):
        self.data = value if value is None or isinstance(value, str) else format_skills(value)


class ProfileForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    timezone = timezone_field("Your timezone")
    country = StringField("Country (two letters)",
                          validators=[Optional(),
                                      Regexp(r"^[A-Za-z]{2}$", message="Two letters, like PH")])
    skills = SkillsField("Skills with a level from 1 to 5",
                           description="For example: bookkeeping 5, tax prep 4, spreadsheets 5")

    validate_skills = check_skills


class CapacityForm(FlaskForm):
    weekly_capacity_hours = AsciiIntegerField(
        "Hours a week you offer this collective",
        validators=[InputRequired(), NumberRange(min=0, max=168)],
    )


class CollectiveForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    slug = StringField("Short name for links", validators=[
        DataRequired(), Length(max=40),
        Regexp(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$",
               message="Lower-case letters, digits and dashes only")])
    base_currency = StringField("Base currency (ISO code)", default="USD",
                                validators=[DataRequired(), Length(min=3, max=3)])
    timezone = timezone_field(
        "The collective's timezone", required=False,
        description="Its days and months follow this zone; yours unless you pick another")


class RolesForm(FlaskForm):
    roles = MultiCheckboxField("Roles", choices=ROLE_CHOICES)

    def validate_roles(self, field):
        if not field.data:
            raise ValidationError("Choose at least one role")


class StatusForm(FlaskForm):
    status = SelectField("Status",
                         choices=[(s.value, s.value.capitalize()) for s in MembershipStatus])
    note = StringField("Reason (shown in the directory)", validators=[Optional(), Length(max=200)])


class InvitationForm(FlaskForm):
    email = EmailField("Their e-mail (optional)",
                       description="When given, the link is mailed to it, and only the "
                                   "account with this e-mail can accept.",
                       validators=[Optional(), Email(check_deliverability=False), Length(max=254)])
    roles = MultiCheckboxField("Roles", choices=ROLE_CHOICES, default=[Role.MEMBER.value])

    def validate_roles(self, field):
        if not field.data:
            raise ValidationError("Choose at least one role")


class ConfirmForm(FlaskForm):
    """An empty form: a button with a CSRF token."""


class VoteForm(FlaskForm):
    choice = SelectField("Your vote", choices=[
        ("agree", "Agree"), ("abstain", "Abstain"), ("disagree", "Disagree"),
        ("block", "Block (stops the proposal)")], validators=[DataRequired()])
    reason = TextAreaField("Reason (optional; others see it)",
                           validators=[Optional(), Length(max=1000)])


#: Who may propose share-rule changes, as the settings form offers it.
RULE_PROPOSERS = [("members", "Every member"),
                  ("managers", "Coordinators and treasurers only")]


class SettingsForm(FlaskForm):
    """The collective's settings a treasurer changes."""

    rule_proposers = RadioField("Who may propose share-rule changes", choices=RULE_PROPOSERS,
                                validators=[InputRequired()],
                                description="Every member votes on them either way.")


def _stripped(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class ForgotPasswordForm(FlaskForm):
    email = EmailField("Your e-mail address", filters=[_stripped], validators=[
        DataRequired(), Email(check_deliverability=False), Length(max=254)])


class ResetPasswordForm(FlaskForm):
    password = PasswordField("New password", validators=[DataRequired(), Length(min=10, max=200)])
    confirm = PasswordField("Repeat the new password",
                            validators=[DataRequired(), EqualTo("password", "Passwords differ")])


class EmailChangeForm(FlaskForm):
    """A new address for the account, confirmed by a link mailed to it. The address is
    checked by the service (members/confirmations.py), so a bad one gets its message there."""

    email = EmailField("New e-mail address", filters=[_stripped],
                       validators=[DataRequired(), Length(max=254)])
    current_password = PasswordField("Current password", validators=[DataRequired()])


class AuditFilterForm(FlaskForm):
    """Which events of the audit log to show (a GET form: the link can be bookmarked)."""

    class Meta:
        csrf = False

    action = SelectField("Action", default="", choices=[
        ("", "Any"), *ACTIONS.items()])
    member = MemberField("Member", blank=(0, "Anyone"), default=0)
    date_from = DateField("From", validators=[Optional()])
    date_to = DateField("To", validators=[Optional()])

    def validate_date_to(self, field) -> None:
        """The range may not end before it starts."""
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("the end is before the start")

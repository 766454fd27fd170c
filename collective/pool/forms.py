"""Forms of the work pool: clients, pitches, allocation, time, payments, rules, votes."""
from __future__ import annotations

import uuid

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
)

from collective.members.forms import check_skills
from collective.members.models import VoteChoice
from collective.money import MoneyError, check_currency, parse_amount
from collective.pool.models import SplitMethod

METHOD_CHOICES = [(SplitMethod.HOURS.value, "By logged hours"),
                  (SplitMethod.EQUAL.value, "Equally"),
                  (SplitMethod.WEIGHTS.value, "By allocation weights")]


class FiniteDecimalField(DecimalField):
    """A DecimalField that refuses NaN and infinity (which would break range checks)."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and not self.data.is_finite():
            self.data = None
            raise ValueError("Not a valid number")


class MoneyFormMixin:
    """Parse an amount field against a currency field into exact minor units."""

    def parsed_amount(self, amount_field, currency: str) -> int | None:
        """The amount in minor units, or None after adding a field error."""
        try:
            return parse_amount(amount_field.data or "", currency)
        except MoneyError as exc:
            amount_field.errors = [*amount_field.errors, str(exc)]
            return None


def currency_error(field) -> bool:
    """Add an error to a currency field that is not ISO 4217; True if it was bad."""
    try:
        field.data = check_currency(field.data or "")
    except MoneyError as exc:
        field.errors = [*field.errors, str(exc)]
        return True
    return False


class ClientForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    country = StringField("Country (two letters)", validators=[
        Optional(), Regexp(r"^[A-Za-z]{2}$", message="Two letters, like AU")])
    contact = StringField("Contact", validators=[Optional(), Length(max=200)])
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=5000)])


class PitchForm(FlaskForm, MoneyFormMixin):
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    client_id = SelectField("Client", coerce=int, validators=[InputRequired()])
    description = TextAreaField("Description", validators=[Optional(), Length(max=10000)])
    required_skills = TextAreaField("Skills needed, with the level (1-5)",
                                    description="For example: bookkeeping 4, spreadsheets 3")
    estimated_hours = IntegerField("Estimated hours", default=0,
                                   validators=[InputRequired(), NumberRange(min=0, max=100_000)])
    value = StringField("Value", default="0", validators=[DataRequired(), Length(max=30)])
    value_currency = StringField("Currency", validators=[DataRequired(), Length(min=3, max=3)])
    deadline_on = DateField("Deadline", validators=[Optional()])
    finder_id = SelectField("Found by", coerce=int, default=0)

    validate_required_skills = check_skills


class TransitionForm(FlaskForm):
    state = SelectField("Move to", validators=[DataRequired()])
    version = HiddenField()
    note = StringField("Note", validators=[Optional(), Length(max=500)])


class VolunteerForm(FlaskForm):
    note = StringField("What you would bring", validators=[Optional(), Length(max=500)])


class AllocationForm(FlaskForm):
    membership_id = SelectField("Member", coerce=int, validators=[InputRequired()])
    role = SelectField("Role", choices=[("contributor", "Contributor"), ("lead", "Lead")])
    weight = IntegerField("Weight", default=1, validators=[InputRequired(),
                                                           NumberRange(min=1, max=10_000)])
    weekly_hours = IntegerField("Hours a week", default=5,
                                validators=[InputRequired(), NumberRange(min=0, max=168)])
    version = HiddenField()


class TimeForm(FlaskForm):
    allocation_id = SelectField("Work", coerce=int, validators=[InputRequired()])
    worked_on = DateField("Day", validators=[InputRequired()])
    hours = StringField("Hours", description="1.5 or 1:30",
                        validators=[DataRequired(), Length(max=10)])
    note = StringField("Note", validators=[Optional(), Length(max=500)])


def new_request_key() -> str:
    """A fresh key that makes one submitted payout form post once."""
    return uuid.uuid4().hex


def request_key_field() -> HiddenField:
    """A hidden key, fresh for each form shown, that makes one submission post once."""
    return HiddenField(default=new_request_key, validators=[
        DataRequired(), Regexp(r"^[A-Za-z0-9_-]{1,64}$", message="The form is damaged; reload it")])


class PaymentForm(FlaskForm, MoneyFormMixin):
    amount = StringField("Amount received", validators=[DataRequired(), Length(max=30)])
    currency = StringField("Currency", validators=[DataRequired(), Length(min=3, max=3)])
    rate = FiniteDecimalField("Rate to the base currency (only for another currency)",
                        places=None, validators=[Optional(), NumberRange(min=0)])
    received_on = DateField("Received on", validators=[InputRequired()])
    reference = StringField("Reference", validators=[Optional(), Length(max=120)])
    request_key = request_key_field()


class ReasonForm(FlaskForm):
    memo = StringField("Reason", validators=[Optional(), Length(max=400)])


class PayoutForm(FlaskForm, MoneyFormMixin):
    membership_id = SelectField("Member", coerce=int, validators=[InputRequired()])
    amount = StringField("Amount", validators=[DataRequired(), Length(max=30)])
    paid_on = DateField("Paid on", validators=[InputRequired()])
    reference = StringField("Bank reference", validators=[Optional(), Length(max=80)])
    request_key = request_key_field()


class PayEveryoneForm(FlaskForm):
    paid_on = DateField("Paid on", validators=[InputRequired()])
    request_key = request_key_field()


class RuleForm(FlaskForm):
    common_fund = FiniteDecimalField("Common fund (%)", places=None,
                               validators=[InputRequired(), NumberRange(min=0, max=100)])
    finder_fee = FiniteDecimalField("Finder's fee (%)", places=None,
                              validators=[InputRequired(), NumberRange(min=0, max=100)])
    method = RadioField("The rest is split", choices=METHOD_CHOICES,
                        default=SplitMethod.HOURS.value)
    effective_on = DateField("In force from", validators=[InputRequired()])


class ProposeRuleForm(RuleForm):
    title = StringField("Title (optional)", validators=[Optional(), Length(max=200)])
    description = TextAreaField("Why", validators=[Optional(), Length(max=5000)])
    deadline_days = IntegerField("Days open for votes", default=7,
                                 validators=[InputRequired(), NumberRange(min=1, max=90)])


class VoteForm(FlaskForm):
    choice = RadioField("Your vote", choices=[(c.value, c.value.capitalize()) for c in VoteChoice],
                        validators=[InputRequired()])
    reason = TextAreaField("Reason (optional)", validators=[Optional(), Length(max=1000)])


def percent_to_bp(field) -> int | None:
    """A percentage field (Decimal) to whole basis points, or None after a field error."""
    value = field.data
    if value is None:
        return None
    bp = value * 100
    if bp != bp.to_integral_value():
        field.errors = [*field.errors, "use at most two decimals (like 7.25)"]
        return None
    return int(bp)

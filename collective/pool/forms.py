"""Forms of the work pool: clients, pitches, allocation, time, payments, rules, votes."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
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
from collective.pool.clients import BillingDetails
from collective.pool.models import AllocationRole, SplitMethod
from collective.web.forms import (
    AsciiIntegerField,
    FiniteDecimalField,
    MoneyFormMixin,
    request_key_field,
)
from collective.web.member_field import ClientField, MemberField

METHOD_CHOICES = [(SplitMethod.HOURS.value, "By logged hours"),
                  (SplitMethod.EQUAL.value, "Equally"),
                  (SplitMethod.WEIGHTS.value, "By allocation weights")]


class ClientForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    country = StringField("Country (two letters)", validators=[
        Optional(), Regexp(r"^[A-Za-z]{2}$", message="Two letters, like AU")])
    contact = StringField("Contact", validators=[Optional(), Length(max=200)])
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=5000)])
    billing_address = TextAreaField("Billing address", description="Printed on invoices.",
                                    validators=[Optional(), Length(max=1000)])
    billing_email = StringField("Invoices go to (e-mail)",
                                validators=[Optional(), Length(max=254)])
    tax_id = StringField("Client's tax id", validators=[Optional(), Length(max=60)])
    is_naming_allowed = BooleanField(
        "Allow naming our work", description="Members' profiles may then name this client's "
        "pitches they delivered; otherwise they count them as work for private clients.")

    def billing(self) -> BillingDetails:
        """The invoicing details as the service takes them."""
        return BillingDetails(address=self.billing_address.data or "",
                              email=self.billing_email.data or "",
                              tax_id=self.tax_id.data or "")


class PitchForm(FlaskForm, MoneyFormMixin):
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    client_id = ClientField("Client")
    description = TextAreaField("Description", validators=[Optional(), Length(max=10000)])
    required_skills = TextAreaField("Skills needed, with the level (1-5)",
                                    description="For example: bookkeeping 4, spreadsheets 3")
    estimated_hours = AsciiIntegerField("Estimated hours", default=0,
                                   validators=[InputRequired(), NumberRange(min=0, max=100_000)])
    value = StringField("Value", default="0", validators=[DataRequired(), Length(max=30)])
    value_currency = StringField("Currency", validators=[DataRequired(), Length(min=3, max=3)])
    deadline_on = DateField("Deadline", validators=[Optional()])
    finder_id = MemberField("Found by", blank=(0, "Nobody in particular"))

    validate_required_skills = check_skills


class PitchEditForm(PitchForm):
    client_id = None  # a pitch keeps its client
    version = HiddenField()


class TransitionForm(FlaskForm):
    """The next step: each step's button sends its state; ends need a reason (the service
    says so), asked for on a confirmation page."""

    state = HiddenField("Next step", validators=[DataRequired(message="Choose the next step.")])
    version = HiddenField()
    note = StringField("Note (optional)", validators=[Optional(), Length(max=500)])


class ReasonedMoveForm(TransitionForm):
    note = TextAreaField("Why?", description="Kept in the pitch's history.",
                         validators=[Optional(), Length(max=500)])


class ReopenForm(FlaskForm):
    version = HiddenField()
    note = TextAreaField("Why?", description="Kept in the pitch's history.",
                         validators=[Optional(), Length(max=500)])


class VolunteerForm(FlaskForm):
    note = StringField("What you would bring", validators=[Optional(), Length(max=500)])


class AllocationForm(FlaskForm):
    membership_id = MemberField("Member")
    role = SelectField("Role", choices=[(r.value, r.value.capitalize()) for r in AllocationRole])
    weight = AsciiIntegerField("Weight", default=1, validators=[InputRequired(),
                                                           NumberRange(min=1, max=10_000)])
    weekly_hours = AsciiIntegerField("Hours a week", default=5,
                                validators=[InputRequired(), NumberRange(min=0, max=168)])
    version = HiddenField()


class TimeForm(FlaskForm):
    allocation_id = SelectField("Work", coerce=int, validators=[InputRequired()])
    worked_on = DateField("Day", validators=[InputRequired()])
    hours = StringField("Hours", description="1.5 or 1:30",
                        validators=[DataRequired(), Length(max=10)])
    note = StringField("Note", validators=[Optional(), Length(max=500)])


class PaymentForm(FlaskForm, MoneyFormMixin):
    amount = StringField("Amount received", validators=[DataRequired(), Length(max=30)])
    currency = StringField("Currency", validators=[DataRequired(), Length(min=3, max=3)])
    rate = FiniteDecimalField("Rate to the base currency (only for another currency)",
                        places=None, validators=[Optional(), NumberRange(min=0)])
    received_on = DateField("Received on", validators=[InputRequired()])
    reference = StringField("Reference", validators=[Optional(), Length(max=120)])
    request_key = request_key_field()
    confirm_duplicate = BooleanField("Record it again: the client really paid twice")


class ReasonForm(FlaskForm):
    memo = StringField("Reason", validators=[Optional(), Length(max=400)])


class ReverseForm(FlaskForm):
    """Why a payment is reversed: kept on the reversal entry."""

    memo = StringField("Why is it reversed?", description="For example: entered twice, or "
                       "the client's bank returned it.",
                       validators=[DataRequired(message="say why the payment is reversed"),
                                   Length(max=400)])


class PayoutForm(FlaskForm, MoneyFormMixin):
    membership_id = MemberField("Member")
    amount = StringField("Amount", validators=[DataRequired(), Length(max=30)])
    paid_on = DateField("Paid on", validators=[InputRequired()])
    reference = StringField("Bank reference", validators=[Optional(), Length(max=80)])
    request_key = request_key_field()
    confirm_duplicate = BooleanField("Pay it again: this is a second, separate payout")


class PayEveryoneForm(FlaskForm):
    paid_on = DateField("Paid on", validators=[InputRequired()])
    reference = StringField("Bank reference", validators=[DataRequired(), Length(max=80)],
                            description="The reference of the bank transfer (or batch)")
    #: What the confirmation page showed, "membership_id:amount,...": paid only if unchanged.
    amounts = HiddenField(validators=[
        DataRequired(), Regexp(r"^[0-9]{1,10}:[0-9]{1,19}(,[0-9]{1,10}:[0-9]{1,19})*$",
                               message="The form is damaged; reload it")])
    request_key = request_key_field()

    def confirmed_amounts(self) -> dict[int, int]:
        """The amounts the confirmation page showed: {membership_id: minor units}."""
        pairs = (item.split(":") for item in (self.amounts.data or "").split(",") if item)
        return {int(member): int(amount) for member, amount in pairs}

    @staticmethod
    def encode(amounts: dict[int, int]) -> str:
        """The `amounts` field's value for these amounts."""
        return ",".join(f"{member}:{amount}" for member, amount in sorted(amounts.items()))


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
    deadline_days = AsciiIntegerField("Days open for votes", default=7,
                                 validators=[InputRequired(), NumberRange(min=1, max=90)])


class VoteForm(FlaskForm):
    choice = RadioField("Your vote", choices=[(c.value, c.value.capitalize()) for c in VoteChoice],
                        validators=[InputRequired()])
    reason = TextAreaField("Reason (optional)", validators=[Optional(), Length(max=1000)])


class PoolSettingsForm(FlaskForm):
    is_split_private = BooleanField(
        "Members see only their own line of a payment's split",
        description="Coordinators and treasurers always see every line. Off: every member "
                    "sees who got what.")


class TimeEntryForm(FlaskForm):
    """Change a time entry: its day, hours and note (the work stays)."""

    worked_on = DateField("Day", validators=[InputRequired()])
    hours = StringField("Hours", description="1.5 or 1:30",
                        validators=[DataRequired(), Length(max=10)])
    note = StringField("Note", validators=[Optional(), Length(max=500)])

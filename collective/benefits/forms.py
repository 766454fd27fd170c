"""Forms of the benefits fund: levels, claims, decisions, plans, runs and deposits."""
from __future__ import annotations

from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    MonthField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from collective.benefits.models import BenefitKind
from collective.web.forms import FiniteDecimalField, MoneyFormMixin, request_key_field


class LevelForm(FlaskForm):
    level = SelectField("Monthly benefit level", coerce=int, validators=[InputRequired()])


class ClaimForm(FlaskForm, MoneyFormMixin):
    kind = SelectField("What for", choices=[(k.value, k.label.capitalize()) for k in BenefitKind])
    start_period = MonthField("From (month)", validators=[InputRequired()])
    months = IntegerField("Months (sick or parental leave)", default=1,
                          validators=[Optional(), NumberRange(min=1, max=120)])
    amount = StringField("Amount asked (hardship)", validators=[Optional(), Length(max=30)])
    invoice_amount = StringField("Invoice amount (unpaid invoice)",
                                 validators=[Optional(), Length(max=30)])
    note = TextAreaField("Note for the treasurers",
                         validators=[Optional(), Length(max=2000)])


class DecideForm(FlaskForm):
    decision = RadioField("Decision", choices=[("approve", "Approve"), ("reject", "Reject")],
                          validators=[InputRequired()])
    reason = TextAreaField("Reason (the claimant reads it)",
                           validators=[DataRequired(), Length(max=1000)])


class RunNowForm(FlaskForm):
    kind = HiddenField(validators=[DataRequired()])
    period = HiddenField(validators=[DataRequired()])


class DepositForm(FlaskForm, MoneyFormMixin):
    membership_id = SelectField("Member", coerce=int, validators=[InputRequired()])
    amount = StringField("Amount paid in", validators=[DataRequired(), Length(max=30)])
    received_on = DateField("Received on", validators=[InputRequired()])
    reference = StringField("Bank reference", validators=[Optional(), Length(max=80)])
    request_key = request_key_field()


class PlanForm(FlaskForm):
    """The parts of a plan a treasurer sets; amounts are in the base currency."""

    contribution_kind = RadioField("Contributions", default="levels", choices=[
        ("levels", "A level each member chooses"),
        ("earnings_pct", "A share of each member's pool earnings"),
        ("flat", "The same amount for everyone")])
    levels = StringField("Levels (monthly benefits)", default="500, 750, 1000, 1250",
                         validators=[Optional(), Length(max=200)])
    level_pct = FiniteDecimalField("Contribution, % of the level", places=None,
                                   default=Decimal("4.5"),
                                   validators=[Optional(), NumberRange(min=0, max=100)])
    earnings_pct = FiniteDecimalField("Contribution, % of pool earnings", places=None,
                                      validators=[Optional(), NumberRange(min=0, max=100)])
    earnings_min = StringField("Minimum contribution", validators=[Optional(), Length(max=30)])
    earnings_max = StringField("Maximum contribution", validators=[Optional(), Length(max=30)])
    flat_amount = StringField("Flat contribution", validators=[Optional(), Length(max=30)])
    sick_amount = StringField("Sick leave per month (if not by level)",
                              validators=[Optional(), Length(max=30)])
    sick_waiting = IntegerField("Sick leave: waiting months", default=1,
                                validators=[InputRequired(), NumberRange(min=0, max=24)])
    sick_max = IntegerField("Sick leave: at most months", default=24,
                            validators=[InputRequired(), NumberRange(min=1, max=120)])
    parental_months = IntegerField("Parental leave: months (0 = not covered)", default=3,
                                   validators=[InputRequired(), NumberRange(min=0, max=24)])
    invoice_pct = FiniteDecimalField("Unpaid invoice: % paid (0 = not covered)", places=None,
                                     default=Decimal(50),
                                     validators=[InputRequired(), NumberRange(min=0, max=100)])
    invoice_cap = StringField("Unpaid invoice: at most", default="1000",
                              validators=[Optional(), Length(max=30)])
    hardship_cap = StringField("Hardship: at most (empty = not covered)", default="300",
                               validators=[Optional(), Length(max=30)])
    hardship_vote = BooleanField("Hardship is decided by a vote", default=True)
    reserve_cap_months = IntegerField("Reserve cap (monthly contributions)", default=36,
                                      validators=[InputRequired(), NumberRange(min=1, max=600)])
    min_fund_balance = StringField("Minimum fund balance", default="0",
                                   validators=[Optional(), Length(max=30)])
    level_change_months = IntegerField("Months between level changes", default=12,
                                       validators=[InputRequired(),
                                                   NumberRange(min=0, max=120)])
    eligibility_months = IntegerField("Months of contributions before a claim", default=1,
                                      validators=[InputRequired(), NumberRange(min=0, max=60)])
    effective_on = MonthField("In force from (month)", validators=[InputRequired()])


class ProposePlanForm(PlanForm):
    title = StringField("Title", validators=[Optional(), Length(max=200)])
    description = TextAreaField("Why", validators=[Optional(), Length(max=5000)])
    deadline_days = IntegerField("Days open for votes", default=7,
                                 validators=[InputRequired(), NumberRange(min=1, max=90)])

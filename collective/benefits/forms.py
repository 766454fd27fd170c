"""Forms of the benefits fund: levels, claims, decisions, plans, runs and deposits."""
from __future__ import annotations

from decimal import Decimal

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
    AnyOf,
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from collective.benefits.compute import DONOR_OWES, GIFT_SHORTFALL_RULES, PlanError, PlanTerms
from collective.benefits.models import BenefitKind, RunKind
from collective.clock import parse_day
from collective.money import MoneyError, parse_amount, to_decimal
from collective.web.forms import (
    AsciiIntegerField,
    FiniteDecimalField,
    MoneyFormMixin,
    PeriodField,
    request_key_field,
)
from collective.web.member_field import MemberField


def amount_or_zero(field, currency: str) -> int | None:
    """An optional money field in minor units: 0 when empty, None after a field error."""
    if not (field.data or "").strip():
        return 0
    try:
        return parse_amount(field.data, currency)
    except MoneyError as exc:
        field.errors = [*field.errors, str(exc)]
        return None


class LevelForm(FlaskForm):
    level = SelectField("Monthly benefit level", coerce=int, validators=[InputRequired()])


class ClaimForm(FlaskForm, MoneyFormMixin):
    kind = SelectField("What for", choices=[(k.value, k.label.capitalize()) for k in BenefitKind])
    start_period = PeriodField("From (month)", validators=[InputRequired()])
    months = AsciiIntegerField("Months (sick or parental leave)", default=1,
                          validators=[Optional(), NumberRange(min=1, max=120)])
    amount = StringField("Amount asked (hardship)", validators=[Optional(), Length(max=30)])
    invoice_amount = StringField("Invoice amount (unpaid invoice)",
                                 validators=[Optional(), Length(max=30)])
    note = TextAreaField("Note for the treasurers",
                         validators=[Optional(), Length(max=2000)])

    def default_to(self, terms: PlanTerms) -> None:
        """Start a new claim from values the plan accepts: the first kind it covers, and
        for sick or parental leave enough months to pay past the waiting months (one
        month of a kind that waits one month would pay nothing)."""
        covered = [rule for kind in BenefitKind if (rule := terms.rule(kind.value))]
        if not covered:
            return
        self.kind.data = covered[0].kind
        monthly = [rule for rule in covered if rule.is_monthly]
        if monthly:
            first = monthly[0]
            self.months.data = first.waiting_months + 1
            self.months.description = "; ".join(
                f"{BenefitKind(r.kind).label.capitalize()}: "
                + (f"the first {r.waiting_months} month(s) wait, then up to "
                   if r.waiting_months else "up to ")
                + f"{r.max_months} month(s) are paid" for r in monthly)


class DecideForm(FlaskForm):
    decision = RadioField("Decision", choices=[("approve", "Approve"), ("reject", "Reject")],
                          validators=[InputRequired()])
    reason = TextAreaField("Reason (the claimant reads it)",
                           validators=[DataRequired(), Length(max=1000)])


class EndClaimForm(FlaskForm):
    """End a sick or parental claim early: the first day the member is well again."""

    recovered_on = DateField("Well again from", validators=[InputRequired()])


class RunNowForm(FlaskForm):
    """The treasurer page's "run now" button: which run, of which month (hidden fields)."""

    kind = HiddenField("Run", validators=[
        DataRequired(), AnyOf([kind.value for kind in RunKind], message="no such run")])
    period = HiddenField("Month", validators=[DataRequired()])

    def validate_period(self, field) -> None:
        """The month as an ISO date, like 2026-10-01."""
        try:
            parse_day(field.data)
        except (TypeError, ValueError) as exc:
            raise ValidationError("not a date like 2026-10-01") from exc


class DepositForm(FlaskForm, MoneyFormMixin):
    membership_id = MemberField("Member")
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
    sick_waiting = AsciiIntegerField("Sick leave: waiting months", default=1,
                                validators=[InputRequired(), NumberRange(min=0, max=24)])
    sick_max = AsciiIntegerField("Sick leave: at most months", default=24,
                            validators=[InputRequired(), NumberRange(min=1, max=120)])
    parental_months = AsciiIntegerField("Parental leave: months (0 = not covered)", default=3,
                                   validators=[InputRequired(), NumberRange(min=0, max=24)])
    invoice_pct = FiniteDecimalField("Unpaid invoice: % paid (0 = not covered)", places=None,
                                     default=Decimal(50),
                                     validators=[InputRequired(), NumberRange(min=0, max=100)])
    invoice_cap = StringField("Unpaid invoice: at most", default="1000",
                              validators=[Optional(), Length(max=30)])
    hardship_cap = StringField("Hardship: at most (empty = not covered)", default="300",
                               validators=[Optional(), Length(max=30)])
    hardship_vote = BooleanField("Hardship is decided by a vote", default=True)
    reserve_cap_months = AsciiIntegerField("Reserve cap (monthly contributions)", default=36,
                                      validators=[InputRequired(), NumberRange(min=1, max=600)])
    min_fund_balance = StringField("Minimum fund balance", default="0",
                                   validators=[Optional(), Length(max=30)])
    level_change_months = AsciiIntegerField("Months between level changes", default=12,
                                       validators=[InputRequired(),
                                                   NumberRange(min=0, max=120)])
    eligibility_months = AsciiIntegerField("Months of contributions before a claim", default=1,
                                      validators=[InputRequired(), NumberRange(min=0, max=60)])
    relapse_weeks = AsciiIntegerField("Relapse window (weeks): ill again within it continues "
                                      "the same claim", default=4,
                                      validators=[InputRequired(), NumberRange(min=0, max=52)])
    gift_shortfall = RadioField(
        "When a donor's reserve cannot cover their part of a gift", default=DONOR_OWES,
        choices=list(GIFT_SHORTFALL_RULES.items()), validators=[InputRequired()])
    effective_on = PeriodField("In force from (month)", validators=[InputRequired()])

    #: Where an error in a part of the plan's JSON is shown.
    ERROR_FIELDS = {"contribution": "contribution_kind", "levels": "levels",
                    "benefits": "sick_max", "gift_shortfall": "gift_shortfall"}

    def fill_from(self, terms: PlanTerms, currency: str) -> None:
        """Start the form from a plan's terms (the plan in force, when proposing a change),
        so that sending it unchanged proposes the same terms."""
        amount = lambda minor: f"{to_decimal(int(minor), currency):f}"  # noqa: E731
        self.contribution_kind.data = terms.contribution_kind
        if terms.levels:
            self.levels.data = ", ".join(amount(benefit) for benefit, _ in terms.levels)
            benefit, contribution = terms.levels[0]
            self.level_pct.data = (Decimal(contribution) * 100 / Decimal(benefit)).normalize()
        self.earnings_pct.data = Decimal(terms.earnings_bp) / 100
        self.earnings_min.data = amount(terms.minimum) if terms.minimum else ""
        self.earnings_max.data = amount(terms.maximum) if terms.maximum else ""
        self.flat_amount.data = amount(terms.flat_amount) if terms.flat_amount else ""
        rules = {rule.kind: rule for rule in terms.benefits}
        sick = rules.get(BenefitKind.SICK)
        if sick is not None:
            self.sick_amount.data = "" if sick.amount == "level" else amount(sick.amount)
            self.sick_waiting.data, self.sick_max.data = sick.waiting_months, sick.max_months
        parental = rules.get(BenefitKind.PARENTAL)
        self.parental_months.data = parental.max_months if parental else 0
        invoice = rules.get(BenefitKind.UNPAID_INVOICE)
        self.invoice_pct.data = Decimal(invoice.invoice_bp) / 100 if invoice else Decimal(0)
        self.invoice_cap.data = amount(invoice.amount) if invoice else ""
        hardship = rules.get(BenefitKind.HARDSHIP)
        self.hardship_cap.data = amount(hardship.amount) if hardship else ""
        self.hardship_vote.data = hardship is not None and hardship.approval == "vote"
        self.reserve_cap_months.data = terms.reserve_cap_months
        self.min_fund_balance.data = amount(terms.min_fund_balance)
        self.level_change_months.data = terms.level_change_months
        self.eligibility_months.data = terms.eligibility_months
        self.relapse_weeks.data = terms.relapse_weeks
        self.gift_shortfall.data = terms.gift_shortfall

    def to_terms(self, currency: str) -> PlanTerms | None:
        """The plan terms the form describes, or None after putting errors on its fields."""
        money = {name: amount_or_zero(getattr(self, name), currency) for name in (
            "earnings_min", "earnings_max", "flat_amount", "sick_amount", "invoice_cap",
            "hardship_cap", "min_fund_balance")}
        if any(v is None for v in money.values()):
            return None
        kind = self.contribution_kind.data
        contribution: dict = {"kind": kind}
        if kind == "levels":
            levels = []
            for raw in (self.levels.data or "").split(","):
                if not raw.strip():
                    continue
                try:
                    levels.append(parse_amount(raw, currency))
                except MoneyError as exc:
                    self.levels.errors = [*self.levels.errors, str(exc)]
                    return None
            pct = self.level_pct.data or Decimal(0)
            contribution["levels"] = [{"benefit": b, "contribution": int(b * pct / 100)}
                                      for b in levels]
        elif kind == "earnings_pct":
            contribution.update(bp=int((self.earnings_pct.data or 0) * 100),
                                min=money["earnings_min"], max=money["earnings_max"])
        else:
            contribution["amount"] = money["flat_amount"]
        sick_amount = money["sick_amount"] or "level"
        benefits: dict = {"sick": {"amount": sick_amount,
                                   "waiting_months": self.sick_waiting.data,
                                   "max_months": self.sick_max.data}}
        if self.parental_months.data:
            benefits["parental"] = {"amount": sick_amount, "waiting_months": 0,
                                    "max_months": self.parental_months.data}
        if self.invoice_pct.data and money["invoice_cap"]:
            benefits["unpaid_invoice"] = {"amount": money["invoice_cap"], "per_year": 1,
                                          "invoice_bp": int(self.invoice_pct.data * 100)}
        if money["hardship_cap"]:
            benefits["hardship"] = {"amount": money["hardship_cap"], "per_year": 1,
                                    "approval": "vote" if self.hardship_vote.data
                                    else "treasurer"}
        try:
            return PlanTerms.from_json({
                "contribution": contribution, "benefits": benefits,
                "reserve_cap_months": self.reserve_cap_months.data,
                "min_fund_balance": money["min_fund_balance"],
                "level_change_months": self.level_change_months.data,
                "eligibility_months": self.eligibility_months.data,
                "relapse_weeks": self.relapse_weeks.data,
                "gift_shortfall": self.gift_shortfall.data})
        except PlanError as exc:
            target = getattr(self, self.ERROR_FIELDS.get(exc.field, "contribution_kind"))
            target.errors = [*target.errors, str(exc)]
            return None


class ProposePlanForm(PlanForm):
    title = StringField("Title", validators=[Optional(), Length(max=200)])
    description = TextAreaField("Why", validators=[Optional(), Length(max=5000)])
    deadline_days = AsciiIntegerField("Days open for votes", default=7,
                                 validators=[InputRequired(), NumberRange(min=1, max=90)])

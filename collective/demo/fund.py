"""The demo collective's mutual fund, modelled on the Dutch bread funds: levels of USD 500 to
1,250 a month at 4.5% contribution, six months of runs, and claims in every state."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from collective.benefits import claims, plans, runs
from collective.benefits.compute import PlanTerms, add_months
from collective.benefits.models import BenefitKind, MemberLevel, RunKind
from collective.extensions import db
from collective.members.models import Membership
from collective.pool.payouts import record_deposit

LEVELS = [500_00, 750_00, 1000_00, 1250_00]
#: Each member's chosen level (monthly benefit, USD cents).
CHOSEN = {"maria": 1000_00, "anjali": 1000_00, "kate": 750_00, "joy": 750_00,
          "priya": 1250_00, "liza": 750_00, "sunita": 500_00, "grace": 1000_00,
          "emma": 500_00, "rhea": 750_00, "deepa": 1000_00, "carmen": 500_00}
#: Members without (much) pool work pay their contributions in themselves.
DEPOSITS = {"anjali": 500_00, "deepa": 500_00, "rhea": 300_00, "carmen": 250_00,
            "emma": 150_00, "kate": 100_00, "liza": 150_00}

BREAD_FUND = {
    "contribution": {"kind": "levels", "levels": [
        {"benefit": b, "contribution": b * 45 // 1000} for b in LEVELS]},
    "benefits": {
        "sick": {"amount": "level", "waiting_months": 1, "max_months": 24},
        "parental": {"amount": "level", "waiting_months": 0, "max_months": 3},
        "unpaid_invoice": {"amount": 1000_00, "invoice_bp": 5000, "per_year": 1},
        "hardship": {"amount": 300_00, "per_year": 1, "approval": "vote"},
    },
    "reserve_cap_months": 36,
    "min_fund_balance": 0,
    "level_change_months": 12,
    "eligibility_months": 1,
}


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


class DemoFund:
    """Sets the fund up at the start, then runs each month as the pool history unfolds."""

    def __init__(self, people: dict[str, Membership], start: date, today: date) -> None:
        self.people, self.start, self.today = people, start, today
        anjali = people["anjali"]
        plans.set_founding_plan(anjali, PlanTerms.from_json(BREAD_FUND), start, today=today)
        for name, level in CHOSEN.items():
            db.session.add(MemberLevel(membership_id=people[name].id, benefit_amount=level,
                                       from_period=start, chosen_at=_at(start)))
        self._deposits(start + timedelta(days=1), "1")
        db.session.flush()
        self._run(start)

    def _deposits(self, day: date, batch: str) -> None:
        for name, amount in DEPOSITS.items():
            record_deposit(self.people["anjali"], self.people[name], amount=amount,
                           received_on=day, request_key=f"demo-deposit-{batch}-{name}",
                           reference="bank transfer", today=self.today)

    def _run(self, period: date) -> None:
        collective_id = self.people["anjali"].collective_id
        for kind in RunKind:
            runs.run(collective_id, kind, period, today=self.today, triggered_by="scheduler")

    def after_month(self, index: int, month: date) -> None:
        """Called by the pool history at the end of each month: claims, then the runs."""
        people, anjali, deepa = self.people, self.people["anjali"], self.people["deepa"]
        if index == 3:
            # Rhea's parental leave: three months at her level, approved by Deepa.
            claim = claims.file_claim(people["rhea"], kind=BenefitKind.PARENTAL, start_period=month,
                                      months=3, note="Baby due early in the month.",
                                      today=month, now=_at(month))
            claims.decide_claim(deepa, claim, approve=True,
                                reason="Congratulations! Approved for three months.",
                                now=_at(month + timedelta(days=1)))
        if index == 2:
            claim = claims.file_claim(people["carmen"], kind=BenefitKind.UNPAID_INVOICE,
                                      start_period=month, invoice_amount=640_00,
                                      note="Koala Cafe flyer job, 20 days overdue.",
                                      today=month, now=_at(month + timedelta(days=3)))
            claims.decide_claim(anjali, claim, approve=False,
                                reason="An invoice counts as unpaid after 60 days overdue; "
                                       "please claim again next month if it is still unpaid.",
                                now=_at(month + timedelta(days=4)))
        if index == 4:
            # Top-ups after last month's "pay everyone" emptied every balance.
            self._deposits(month + timedelta(days=2), "2")
        self._run(month)

    def finish(self) -> None:
        """A claim still waiting for a treasurer, filed this month."""
        this_month = self.today.replace(day=1)
        claims.file_claim(self.people["joy"], kind=BenefitKind.SICK, start_period=this_month,
                          months=2, note="Doctor's note attached: back surgery, six weeks off.",
                          today=self.today, now=_at(self.today - timedelta(days=2)))
        last_month = add_months(this_month, -1)
        # The scheduler's runs for last month, so the treasurer's page is up to date.
        collective_id = self.people["anjali"].collective_id
        for kind, period in runs.due_periods(collective_id, self.today):
            if period <= last_month:
                runs.run(collective_id, kind, period, today=self.today, triggered_by="scheduler")

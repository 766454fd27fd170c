"""Levels during a claim: the level in force in the month the illness began is paid for the
whole claim (a relapse keeps the first claim's level), a level chosen later counts from the
next illness, and a catch-up run pays each past month at the level of its claim.
Amounts checked by hand against the demo plan (levels 500, 750, 1,000, 1,250; one waiting
month for sick leave; 12 months between level changes)."""
from datetime import date

import pytest
import sqlalchemy as sa

from collective.benefits import claims, invariants, plans, recovery, runs
from collective.benefits.compute import add_months
from collective.benefits.models import BenefitRun, RunLine, RunLineKind
from collective.errors import DomainError
from collective.extensions import db
from tests.benefits.factories import (
    NOW,
    deposit,
    found_fund,
    paid_months,
    run_months,
    seed_fund,
    set_level,
)

JUL, AUG, SEP, OCT, NOV, DEC = (date(2026, m, 1) for m in (7, 8, 9, 10, 11, 12))
JAN = date(2027, 1, 1)
RUN_DAY = date(2027, 3, 1)


def _contribution(member, period: date) -> int:
    return db.session.scalar(
        sa.select(sa.func.sum(RunLine.amount))
        .join(BenefitRun, BenefitRun.id == RunLine.run_id)
        .where(RunLine.membership_id == member.id, BenefitRun.period == period,
               RunLine.kind == RunLineKind.CONTRIBUTION)) or 0


def _contributions_through(collective_id: int, last: date) -> None:
    month = JUL
    while month <= last:
        runs.run_contributions(collective_id, month, today=RUN_DAY)
        month = add_months(month, 1)


def _run_through(collective_id: int, last: date, first: date = JUL) -> None:
    run_months(collective_id, first, last, today=RUN_DAY)


@pytest.fixture
def ann_at_750(ctx):
    """Ann has been at 750.00 since July 2025, so the plan lets her change level from July
    2026 on. Everyone can pay; the fund is full. July's contributions have run."""
    treasurer, ann, bob = found_fund(3, start=JUL)
    set_level(ann, 75_000, start=date(2025, 7, 1))
    for person in (treasurer, ann, bob):
        deposit(treasurer, person, 100_000, on=JUL)
    seed_fund(treasurer.collective_id, 2_000_000, on=JUL)
    runs.run_contributions(treasurer.collective_id, JUL, today=RUN_DAY)
    return treasurer, ann, bob


def _ill_from_september(treasurer, ann, months: int = 4):
    claim = claims.file_claim(ann, kind="sick", start_period=SEP, months=months,
                              today=date(2026, 9, 3), now=NOW)
    claims.decide_claim(treasurer, claim, approve=True, reason="Get well.", now=NOW)
    return claim


def test_a_level_chosen_during_a_claim_does_not_change_what_the_claim_pays(ann_at_750):
    """Ann (750.00) is ill from September for 4 months: September waits; October, November
    and December are paid. On 10 October she chooses 1,250.00, which starts in November.
    The claim still pays 750.00 a month: 3 x 750.00 = 2,250.00. Her contributions follow
    the new level from November (56.25 instead of 33.75)."""
    treasurer, ann, _ = ann_at_750
    claim = _ill_from_september(treasurer, ann)
    runs.run_contributions(ann.collective_id, AUG, today=RUN_DAY)
    runs.run_payouts(ann.collective_id, AUG, today=RUN_DAY)
    runs.run_contributions(ann.collective_id, SEP, today=RUN_DAY)
    runs.run_payouts(ann.collective_id, SEP, today=RUN_DAY)

    chosen = plans.choose_level(ann, 125_000, today=date(2026, 10, 10))
    _run_through(ann.collective_id, DEC, first=OCT)

    assert chosen.from_period == NOV
    assert paid_months([claim.id]) == [(OCT, 75_000), (NOV, 75_000), (DEC, 75_000)]
    assert (_contribution(ann, OCT), _contribution(ann, NOV)) == (3_375, 5_625)
    assert invariants.reserve_check(ann.collective_id).ok


def test_a_later_illness_is_paid_at_the_new_level(ann_at_750):
    """Ann chooses 1,250.00 on 10 September (from October) and falls ill in November: the
    level in force when that illness began is 1,250.00. November waits; December and
    January are paid 1,250.00 each."""
    treasurer, ann, _ = ann_at_750
    plans.choose_level(ann, 125_000, today=date(2026, 9, 10))
    claim = claims.file_claim(ann, kind="sick", start_period=NOV, months=3,
                              today=date(2026, 11, 2), now=NOW)
    claims.decide_claim(treasurer, claim, approve=True, reason="Get well.", now=NOW)
    _run_through(ann.collective_id, JAN, first=AUG)

    assert paid_months([claim.id]) == [(DEC, 125_000), (JAN, 125_000)]


def test_a_change_within_the_plan_s_months_between_level_changes_is_refused(ann_at_750):
    """Having moved to 1,250.00 from November 2026, Ann's next change can start only 12
    months later, in November 2027: a claim cannot be raised by changing level again."""
    _, ann, _ = ann_at_750
    plans.choose_level(ann, 125_000, today=date(2026, 10, 10))

    with pytest.raises(DomainError, match="your next change can start November 2027"):
        plans.choose_level(ann, 100_000, today=date(2026, 12, 10))


def test_a_catch_up_run_pays_every_past_month_at_the_claim_s_level(ann_at_750):
    """The payouts did not run from September to December; they run all at once in
    December, after Ann's 1,250.00 started in November. October, November and December
    are each paid at 750.00, the level when she fell ill, not today's 1,250.00."""
    treasurer, ann, _ = ann_at_750
    claim = _ill_from_september(treasurer, ann)
    plans.choose_level(ann, 125_000, today=date(2026, 10, 10))
    _contributions_through(ann.collective_id, DEC)

    runs.run_payouts(ann.collective_id, DEC, today=RUN_DAY)

    assert paid_months([claim.id]) == [(OCT, 75_000), (NOV, 75_000), (DEC, 75_000)]
    assert invariants.reserve_check(ann.collective_id).ok


def test_a_late_run_for_an_old_month_pays_that_month_s_level(ann_at_750):
    """October's payouts are run late, in March 2027, when Ann's level is 1,250.00: October
    is paid at 750.00, and November, run next, too."""
    treasurer, ann, _ = ann_at_750
    claim = _ill_from_september(treasurer, ann)
    plans.choose_level(ann, 125_000, today=date(2026, 10, 10))
    _contributions_through(ann.collective_id, NOV)

    runs.run_payouts(ann.collective_id, OCT, today=RUN_DAY)
    assert paid_months([claim.id]) == [(OCT, 75_000)]
    runs.run_payouts(ann.collective_id, NOV, today=RUN_DAY)
    assert paid_months([claim.id]) == [(OCT, 75_000), (NOV, 75_000)]


def test_a_relapse_keeps_the_level_of_the_claim_it_continues(ann_at_750):
    """Ann (750.00) is ill from September; October is paid. Well on 1 November, she chooses
    1,250.00 (from December) on 2 November, and is ill again on 20 November, within 4
    weeks: the continuation from December is the same illness, paid at 750.00."""
    treasurer, ann, _ = ann_at_750
    claim = _ill_from_september(treasurer, ann)
    recovery.end_claim(ann, claim, recovered_on=NOV, today=date(2026, 11, 1), now=NOW)
    plans.choose_level(ann, 125_000, today=date(2026, 11, 2))
    again = claims.file_claim(ann, kind="sick", start_period=date(2026, 11, 20), months=2,
                              today=date(2026, 11, 20), now=NOW)
    _run_through(ann.collective_id, JAN, first=AUG)

    assert (again.continues_id, again.start_period) == (claim.id, NOV)
    assert paid_months([claim.id, again.id]) == [(OCT, 75_000), (NOV, 75_000), (DEC, 75_000)]

"""A property test on a real database: whatever the order of deposits, claims and runs (the
refused ones included), after every step the members' reserves add up to what the runs left
in the fund, and every entry balances, so no money appears or disappears."""
from datetime import date

import sqlalchemy as sa
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from collective.benefits import claims, invariants, runs
from collective.benefits.compute import add_months
from collective.benefits.models import BenefitRun, RunLine, RunLineKind
from collective.errors import DomainError
from collective.extensions import db
from collective.ledger import balances
from tests.benefits.factories import NOW, TODAY, deposit, found_fund, seed_fund, set_level

JUL = date(2026, 7, 1)
RUN_DAY = date(2027, 3, 1)

_member = st.integers(0, 2)
_month = st.integers(0, 5)
STEPS = st.lists(st.one_of(
    st.tuples(st.just("deposit"), _member, st.integers(0, 5).map(lambda n: n * 2_250)),
    st.tuples(st.just("run"), st.sampled_from(["contributions", "payouts"]), _month),
    st.tuples(st.just("month"), _month),
    st.tuples(st.just("sick"), st.integers(1, 2), st.integers(1, 3)),
), min_size=1, max_size=14)


def _attempt(step, people) -> None:
    """One step in its own savepoint: a refusal (a DomainError) leaves nothing behind."""
    treasurer = people[0]
    try:
        with db.session.begin_nested():
            if step[0] == "deposit" and step[2]:
                deposit(treasurer, people[step[1]], step[2], on=JUL)
            elif step[0] == "run":
                runs.run(treasurer.collective_id, step[1], add_months(JUL, step[2]),
                         today=RUN_DAY)
            elif step[0] == "month":  # both runs of a month, in their order
                for kind in ("contributions", "payouts"):
                    runs.run(treasurer.collective_id, kind, add_months(JUL, step[1]),
                             today=RUN_DAY)
            elif step[0] == "sick":
                claim = claims.file_claim(people[step[1]], kind="sick",
                                          start_period=add_months(JUL, step[2]), months=3,
                                          today=TODAY, now=NOW)
                claims.decide_claim(treasurer, claim, approve=True, reason="Ok.", now=NOW)
    except DomainError as refused:
        event(f"refused: {refused.message[:30]}")


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(steps=STEPS)
@example(steps=[("sick", 1, 1), ("run", "contributions", 2), ("run", "payouts", 2)])
def test_any_order_of_deposits_claims_and_runs_keeps_the_reserves_equal_to_the_fund(ctx,
                                                                                    steps):
    example = db.session.begin_nested()
    try:
        people = found_fund(3, start=JUL)
        set_level(people[1], 100_000, start=JUL)
        seed_fund(people[0].collective_id, 300_000, on=JUL)
        for person in people:
            deposit(people[0], person, 9_000, on=JUL)
        runs.run_contributions(people[0].collective_id, JUL, today=RUN_DAY)
        for step in steps:
            _attempt(step, people)
            check = invariants.reserve_check(people[0].collective_id)
            assert check.ok, (step, check.describe())
            assert balances.check_ledger(people[0].collective_id).ok
        paid = db.session.scalar(sa.select(sa.func.count(RunLine.id)).join(BenefitRun).where(
            BenefitRun.collective_id == people[0].collective_id,
            RunLine.kind == RunLineKind.BENEFIT, RunLine.amount > 0))
        event("a benefit was paid" if paid else "no benefit was paid")
    finally:
        example.rollback()
        # The next example may reuse the same ids: forget this one's objects.
        db.session.expunge_all()

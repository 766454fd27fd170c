"""A property test on a real database: whatever the order of deposits, claims, runs, level
changes, claims ended on recovery and members leaving (the refused steps included), under
either rule for a gift a reserve cannot cover, after every step the members' reserves add up
to what the runs left in the fund, what each member owes is what their receivable holds (their
contributions in arrears and their gift debts apart), no reserve is below zero, every entry
balances, and the fund holds exactly what went in less what went out, so no money appears or
disappears."""
from datetime import date, timedelta

import sqlalchemy as sa
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from collective.benefits import (
    claims,
    compute,
    invariants,
    plans,
    queries,
    receivables,
    recovery,
    reserve_sums,
    runs,
)
from collective.benefits.compute import add_months
from collective.benefits.models import BenefitRun, Claim, RunLine, RunLineKind
from collective.demo.fund import LEVELS
from collective.errors import DomainError
from collective.extensions import db
from collective.ledger import balances
from collective.members import services as members
from tests.benefits.factories import (
    NOW,
    TODAY,
    deposit,
    found_fund,
    plan,
    seed_fund,
    set_level,
)

JUL = date(2026, 7, 1)
RUN_DAY = date(2027, 3, 1)

_member = st.integers(0, 2)
_month = st.integers(0, 5)
STEPS = st.lists(st.one_of(
    st.tuples(st.just("deposit"), _member, st.integers(0, 5).map(lambda n: n * 2_250)),
    st.tuples(st.just("run"), st.sampled_from(["contributions", "payouts"]), _month),
    st.tuples(st.just("month"), _month),
    st.tuples(st.just("sick"), st.integers(1, 2), st.integers(1, 3)),
    st.tuples(st.just("level"), _member, st.sampled_from(LEVELS), _month),
    st.tuples(st.just("recover"), st.integers(1, 2), st.integers(0, 150)),
    st.tuples(st.just("leave"), st.integers(1, 2)),
), min_size=1, max_size=16)
SEED = 300_000


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
            elif step[0] == "level":  # chosen during a month, from the next one
                plans.choose_level(people[step[1]], step[2],
                                   today=add_months(JUL, step[3]).replace(day=15))
            elif step[0] == "recover":  # the member's latest claim ends, well from that day
                claim = db.session.scalar(sa.select(Claim).filter_by(
                    membership_id=people[step[1]].id).order_by(Claim.id.desc()).limit(1))
                if claim is not None:
                    recovery.end_claim(people[step[1]], claim, today=TODAY, now=NOW,
                                       recovered_on=JUL + timedelta(days=step[2]))
            elif step[0] == "leave":
                members.set_status(treasurer, people[step[1]], "removed", note="left")
    except invariants.FundOutOfBalance:
        raise  # a run the fund's own check refuses is a bug in the run, never a rule
    except DomainError as refused:
        event(f"refused: {refused.message[:30]}")


def _owed_by_runs(lines) -> dict[int, tuple[int, int]]:
    """{membership id: (contributions in arrears, gift debt)} from the run lines, for members
    who owe anything."""
    sign = {RunLineKind.OWED: 1, RunLineKind.SETTLED: -1}
    arrears = (lines["amount"] * lines["kind"].map(sign).fillna(0).astype("int64")
               ).groupby(lines["membership_id"]).sum()
    debts = reserve_sums.gift_debts(lines)
    owed = {int(m): (int(arrears.get(m, 0)), int(debts.get(m, 0)))
            for m in set(arrears.index) | set(debts.index)}
    return {m: pair for m, pair in owed.items() if pair != (0, 0)}


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(steps=STEPS, rule=st.sampled_from(sorted(compute.GIFT_SHORTFALL_RULES)))
@example(steps=[("sick", 1, 1), ("run", "contributions", 2), ("run", "payouts", 2)],
         rule=compute.DONOR_OWES)
@example(steps=[("sick", 1, 1), ("month", 2), ("leave", 2), ("recover", 1, 70),
                ("level", 1, LEVELS[0], 2), ("month", 3), ("month", 4)],
         rule=compute.OTHERS_COVER)
def test_any_order_of_fund_events_keeps_the_reserves_equal_to_the_fund(ctx, steps, rule):
    example = db.session.begin_nested()
    try:
        people = found_fund(3, terms=plan(gift_shortfall=rule, level_change_months=0),
                            start=JUL)
        cid = people[0].collective_id
        set_level(people[1], 100_000, start=JUL)
        seed_fund(cid, SEED, on=JUL)
        for person in people:
            deposit(people[0], person, 9_000, on=JUL)
        runs.run_contributions(cid, JUL, today=RUN_DAY)
        for step in steps:
            _attempt(step, people)
            check = invariants.reserve_check(cid)
            assert check.ok and check.negative == (), (step, check.describe(), check.negative)
            assert balances.check_ledger(cid).ok
            # What the fund holds is the donation plus every contribution, less every
            # return and every benefit paid (the run lines, counted on their own).
            lines = queries.run_lines_frame(cid)
            moved = {kind: int(lines.loc[lines["kind"] == kind, "amount"].sum())
                     for kind in RunLineKind}
            # Each member's receivable holds what the runs say they owe, each kind apart.
            assert receivables.owed_by_members(cid) == _owed_by_runs(lines), step
            assert queries.fund_balance(cid) == (
                SEED + moved[RunLineKind.CONTRIBUTION] + moved[RunLineKind.SETTLED]
                - moved[RunLineKind.RETURN] - moved[RunLineKind.LEAVING]
                - moved[RunLineKind.BENEFIT] - moved[RunLineKind.MAKEUP]), step
        # Each member's own page (member_fund, read without frames) agrees with the
        # collective's frames: reserve, what they paid in, and what the fund still owes them.
        lines = queries.run_lines_frame(cid)
        reserves = reserve_sums.reserves(lines)
        owed = queries.benefits_owed(cid)
        for person in people:
            mine = queries.member_fund(person, RUN_DAY)
            theirs = lines[lines["membership_id"] == person.id]
            assert mine.reserve == int(reserves.get(person.id, 0))
            assert mine.contributed == int(theirs.loc[theirs["kind"].isin(
                [RunLineKind.CONTRIBUTION, RunLineKind.SETTLED]), "amount"].sum())
            assert mine.owed_to_me == int(
                owed.loc[owed["membership_id"] == person.id, "amount"].sum())
        paid = db.session.scalar(sa.select(sa.func.count(RunLine.id)).join(BenefitRun).where(
            BenefitRun.collective_id == people[0].collective_id,
            RunLine.kind == RunLineKind.BENEFIT, RunLine.amount > 0))
        event("a benefit was paid" if paid else "no benefit was paid")
    finally:
        example.rollback()
        # The next example may reuse the same ids: forget this one's objects.
        db.session.expunge_all()

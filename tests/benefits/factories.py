"""Benefits-fund test data built through the real services: a collective with a plan,
members who joined before it, deposits, levels and money in the fund."""
from __future__ import annotations

import itertools
from copy import deepcopy
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from collective.benefits import plans, runs
from collective.benefits.compute import PlanTerms, add_months
from collective.benefits.models import MemberLevel, RunLine, RunLineKind
from collective.clock import now_utc
from collective.demo.fund import BREAD_FUND
from collective.extensions import db
from collective.ledger import balances
from collective.ledger import services as ledger
from collective.members.models import Membership, Proposal, VoteChoice
from collective.members.proposals import cast_vote
from collective.pool import payouts
from tests.factories import make_collective, make_member

#: The day the service tests pretend it is.
TODAY = date(2026, 10, 10)
NOW = datetime(2026, 10, 10, 12, 0, tzinfo=UTC)
#: Members join before any period the tests run, so every run counts them.
JOINED = datetime(2025, 6, 1, tzinfo=UTC)

_keys = itertools.count(1)


def plan(**changes) -> dict:
    """BREAD_FUND's JSON with some top-level parts replaced."""
    data = deepcopy(BREAD_FUND)
    data.update(changes)
    return data


def found_fund(size: int = 3, terms: dict = BREAD_FUND, start: date = date(2026, 1, 1),
               slug: str | None = None) -> list[Membership]:
    """A collective of `size` members with a founding plan from `start`; the first is the
    founder (member, coordinator, treasurer), the others plain members."""
    founder = make_collective(slug=slug)
    people = [founder] + [make_member(founder.collective) for _ in range(size - 1)]
    for person in people:
        person.joined_at = JOINED
    plans.set_founding_plan(founder, PlanTerms.from_json(terms), effective_on=start,
                            today=TODAY)
    db.session.flush()
    return people


def deposit(treasurer: Membership, member: Membership, amount: int,
            on: date = date(2026, 1, 2), today: date = TODAY) -> None:
    """Money the member paid in, credited to their payable."""
    payouts.record_deposit(treasurer, member, amount=amount, received_on=on,
                           request_key=f"benefits-test-{next(_keys)}", today=today)


def set_level(member: Membership, benefit: int, start: date = date(2026, 1, 1)) -> None:
    """The member's chosen level from `start` (written directly, as the demo does)."""
    db.session.add(MemberLevel(membership_id=member.id, benefit_amount=benefit,
                               from_period=start))
    db.session.flush()


def seed_fund(collective_id: int, amount: int, on: date = date(2026, 1, 1)) -> None:
    """Put money in the benefits fund from the bank (say, a founding donation)."""
    bank = ledger.account_by_code(collective_id, ledger.BANK)
    fund = ledger.account_by_code(collective_id, ledger.BENEFITS_FUND)
    ledger.post_entry(collective_id, kind="opening", occurred_on=on,
                      idempotency_key=f"fund-seed-{next(_keys)}",
                      lines=[ledger.Line(bank.id, amount, "USD"),
                             ledger.Line(fund.id, -amount, "USD")])


def passed_plan_vote(voters: list[Membership], effective_on: date) -> Proposal:
    """A proposal of BREAD_FUND that every voter agreed to, opened two days ago, whose
    deadline passed an hour ago: the scheduler's next round decides it."""
    opened = now_utc() - timedelta(days=2)
    proposal = plans.propose_plan(voters[0], PlanTerms.from_json(BREAD_FUND),
                                  effective_on=effective_on, today=opened.date(), now=opened,
                                  deadline_at=now_utc() - timedelta(hours=1))
    for voter in voters:
        cast_vote(voter, proposal, VoteChoice.AGREE, now=opened + timedelta(hours=1))
    return proposal


def balance(member: Membership) -> int:
    """What the collective owes the member, in USD cents."""
    return balances.member_balance(member.id).get("USD", 0)


def paid_months(claim_ids) -> list[tuple[date, int]]:
    """(month, amount) of every benefit paid on these claims, oldest first."""
    return [tuple(row) for row in db.session.execute(
        sa.select(RunLine.for_period, RunLine.amount)
        .where(RunLine.claim_id.in_(list(claim_ids)), RunLine.kind == RunLineKind.BENEFIT,
               RunLine.amount > 0).order_by(RunLine.for_period))]


def run_months(collective_id: int, first: date, last: date, *, today: date) -> None:
    """Each month's contribution run, then its payout run, from `first` to `last`."""
    month = first
    while month <= last:
        runs.run_contributions(collective_id, month, today=today)
        runs.run_payouts(collective_id, month, today=today)
        month = add_months(month, 1)

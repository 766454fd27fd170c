"""The read side of /me: one person's numbers across every collective they belong to, in a
fixed number of queries whatever the number of collectives, pitches or postings."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective.benefits.kinds import ClaimStatus
from collective.benefits.models import Claim
from collective.exchange.rates import Quote, quotes_for
from collective.extensions import db
from collective.members import proposals as voting
from collective.members.models import Membership, Proposal, ProposalStatus, User, Vote
from collective.pool.models import ACTIVE_STATES, Allocation, Pitch, TimeEntry
from collective.pool.queries import monthly_earnings_of

#: Months of earnings /me shows (the statement of each collective has the rest).
EARNINGS_MONTHS = 12
#: Active allocations, votes waiting and open claims /me lists at most (each list says when
#: there are more, and its collective's pages have them all).
WORK_SHOWN = 30
VOTES_SHOWN = 30
CLAIMS_SHOWN = 30


def week_of(day: date) -> tuple[date, date]:
    """The Monday and the Sunday of the week `day` falls in."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def person_capacity(user: User, memberships: list[Membership]) -> int:
    """The person's whole week in hours: theirs when set, else the most they offer any of
    their collectives."""
    if user.weekly_capacity_hours is not None:
        return user.weekly_capacity_hours
    return max((m.weekly_capacity_hours for m in memberships), default=0)


@dataclass(frozen=True)
class WeekRow:
    """One collective's part of the person's week."""

    membership: Membership
    #: Weekly hours allocated to them on its active work (won or in progress).
    allocated: int
    #: Minutes they logged there this week.
    logged_minutes: int


@dataclass(frozen=True)
class Week:
    """The person's week across their collectives."""

    monday: date
    sunday: date
    capacity: int
    rows: list[WeekRow]
    #: (allocation, its collective's membership) on active work, at most WORK_SHOWN + 1.
    work: list[Allocation]

    @property
    def allocated(self) -> int:
        """Weekly hours allocated everywhere."""
        return sum(r.allocated for r in self.rows)

    @property
    def logged_minutes(self) -> int:
        """Minutes logged everywhere this week."""
        return sum(r.logged_minutes for r in self.rows)


def week(user: User, memberships: list[Membership], today: date) -> Week:
    """Allocations on active work and the hours logged this week (Monday to Sunday) in each
    of the person's collectives, against their one weekly capacity, in three queries."""
    ids = [m.id for m in memberships] or [0]
    monday, sunday = week_of(today)
    active = [s.value for s in ACTIVE_STATES]
    allocated = dict(db.session.execute(
        sa.select(Allocation.membership_id, sa.func.sum(Allocation.weekly_hours))
        .join(Pitch, Pitch.id == Allocation.pitch_id)
        .where(Allocation.membership_id.in_(ids), Pitch.state.in_(active))
        .group_by(Allocation.membership_id)).all())
    logged = dict(db.session.execute(
        sa.select(TimeEntry.membership_id, sa.func.sum(TimeEntry.minutes))
        .where(TimeEntry.membership_id.in_(ids), TimeEntry.worked_on >= monday,
               TimeEntry.worked_on <= sunday)
        .group_by(TimeEntry.membership_id)).all())
    work = list(db.session.scalars(
        sa.select(Allocation).join(Pitch, Pitch.id == Allocation.pitch_id)
        .where(Allocation.membership_id.in_(ids), Pitch.state.in_(active))
        .options(so.contains_eager(Allocation.pitch))
        .order_by(Allocation.weekly_hours.desc(), Allocation.id).limit(WORK_SHOWN + 1)))
    rows = [WeekRow(m, int(allocated.get(m.id) or 0), int(logged.get(m.id) or 0))
            for m in memberships]
    return Week(monday, sunday, person_capacity(user, memberships), rows, work)


@dataclass(frozen=True)
class CollectiveEarnings:
    """What the person earned per month in one collective, in its currency and in theirs."""

    membership: Membership
    currency: str
    #: (month, earned in `currency`), the oldest month first.
    months: list[tuple[str, int]]
    #: The rate to the person's currency; None when it is theirs already, or none is known.
    quote: Quote | None
    #: False when no rate is known: the amounts stay in `currency`, out of the total.
    is_converted: bool

    def converted(self) -> list[int]:
        """Each month's earnings in the person's currency (0 where no rate is known)."""
        if not self.is_converted:
            return [0] * len(self.months)
        if self.quote is None:
            return [amount for _, amount in self.months]
        return [self.quote.convert(amount) for _, amount in self.months]


@dataclass(frozen=True)
class Earnings:
    """The person's earnings per month across their collectives, in `currency`."""

    currency: str
    months: list[str]
    collectives: list[CollectiveEarnings] = field(default_factory=list)

    def totals(self) -> list[int]:
        """Per month, the converted earnings added up (collectives without a rate left out)."""
        columns = [c.converted() for c in self.collectives]
        return [sum(values) for values in zip(*columns, strict=True)] if columns else []


def display_currency(user: User, memberships: list[Membership]) -> str:
    """The currency the person chose for /me, or the one of the first collective they
    joined (USD when they have none)."""
    if user.display_currency:
        return user.display_currency
    first = min(memberships, key=lambda m: (m.joined_at, m.id), default=None)
    return first.collective.base_currency if first is not None else "USD"


def earnings(user: User, memberships: list[Membership], today: date) -> Earnings:
    """The person's net earnings from client payments per month, the last EARNINGS_MONTHS
    months, in each collective (from its ledger, as its "My shares" page counts them) and
    converted to their currency at the latest known rate on `today`, in two queries."""
    currency = display_currency(user, memberships)
    table = monthly_earnings_of([m.id for m in memberships], until=today,
                                last_months=EARNINGS_MONTHS)
    months = list(table["month"])
    quotes = quotes_for({(m.collective.base_currency, currency) for m in memberships}, today)
    found = []
    for m in memberships:
        own = m.collective.base_currency
        quote = quotes.get((own, currency))
        values = [int(v) for v in table[m.id]] if m.id in table else [0] * len(months)
        found.append(CollectiveEarnings(m, own, list(zip(months, values, strict=True)), quote,
                                        own == currency or quote is not None))
    return Earnings(currency, months, found)


def votes_waiting(memberships: list[Membership], now: datetime
                  ) -> list[tuple[Proposal, Membership]]:
    """Proposals still open at `now` in any of the person's collectives that they have not
    voted on and may vote on, soonest deadline first (of the first VOTES_SHOWN + 1), each
    with the membership it is theirs through, in one query (and the checks of who may
    vote that a kind registered)."""
    by_id = {m.id: m for m in memberships if m.is_active}
    if not by_id:
        return []
    voted = sa.exists().where(Vote.proposal_id == Proposal.id,
                              Vote.membership_id == Membership.id)
    rows = db.session.execute(
        sa.select(Proposal, Membership.id)
        .join(Membership, Membership.collective_id == Proposal.collective_id)
        .where(Membership.id.in_(list(by_id)), Proposal.status == ProposalStatus.OPEN.value,
               Proposal.deadline_at > now, ~voted)
        .order_by(Proposal.deadline_at, Proposal.id).limit(VOTES_SHOWN + 1)).all()
    return [(proposal, by_id[mid]) for proposal, mid in rows
            if voting.may_vote(by_id[mid], proposal)]


def open_claims(memberships: list[Membership], today: date) -> list[tuple[Claim, Membership]]:
    """The person's claims on any of their collectives' funds that are still open: pending,
    or approved and covering this month or a later one; newest first, at most
    CLAIMS_SHOWN + 1 (of the latest pending and approved ones), in one query."""
    by_id = {m.id: m for m in memberships}
    if not by_id:
        return []
    this_month = today.year * 12 + today.month - 1
    found = []
    for claim in db.session.scalars(
            sa.select(Claim).where(Claim.membership_id.in_(list(by_id)),
                                   Claim.status.in_([ClaimStatus.PENDING.value,
                                                     ClaimStatus.APPROVED.value]))
            .order_by(Claim.id.desc()).limit(4 * CLAIMS_SHOWN)):
        start = claim.start_period.year * 12 + claim.start_period.month - 1
        if claim.status == ClaimStatus.PENDING or start + claim.months - 1 >= this_month:
            found.append((claim, by_id[claim.membership_id]))
    return found[:CLAIMS_SHOWN + 1]

"""The dashboard: one page per collective. Everyone sees their own numbers; coordinators
also see the pool and the week's workload, treasurers the bank, the funds and the runs.

The data functions below take explicit arguments and never read the request, so the API or
a report can call them too. Numbers across members come from SQL aggregates and pandas,
not from loops over model objects; money is integer minor units of the base currency.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective.benefits import queries as fund
from collective.benefits import runs as fund_runs
from collective.benefits.models import BenefitRun, RunKind
from collective.extensions import db
from collective.ledger import balances, totals
from collective.ledger import services as ledger
from collective.ledger.models import EntryKind
from collective.members import proposals as voting
from collective.members.models import Membership, MembershipStatus, Proposal, User
from collective.members.services import base_currency
from collective.monthly import monthly_table
from collective.pool.models import ACTIVE_STATES, Allocation, Pitch, PitchState
from collective.pool.queries import monthly_earnings, pitch_counts
from collective.pool.time import allocations_of

if TYPE_CHECKING:
    import pandas as pd

#: How many months the charts over time show.
CHART_MONTHS = 12
#: Members the dashboard's workload shows (the most loaded); the rest are a page away.
WORKLOAD_SHOWN = 20
#: Members owing the fund that the dashboard names (those owing the most).
OWING_SHOWN = 20
#: Open votes the member's dashboard lists at most (soonest deadline first).
VOTES_SHOWN = 20
#: Pitches near their deadline the dashboard lists at most.
NEAR_DEADLINE_SHOWN = 20
#: Pitches due within this many days (or already late) count as near their deadline.
NEAR_DEADLINE_DAYS = 30
#: Work that still has a deadline to meet: not yet delivered, lost or cancelled.
UNFINISHED_STATES = (PitchState.OPEN, PitchState.PITCHED, *ACTIVE_STATES)
#: The accounts whose month-end balances the treasurer follows, with their column names.
#: The benefits fund is what it holds net of what members owe it (as the fund page shows):
#: all its accounts (`fund.fund_account_ids`) add up into one column. The common fund is its
#: equity account with every income and expense account (balances.common_fund_accounts).
TRACKED_ACCOUNTS = ((ledger.BANK, "bank"),)
COLUMNS = ("bank", "common_fund", "benefits_fund")


def _tracked_accounts(collective_id: int) -> dict[int, str]:
    """The column of each tracked account, by account id."""
    column_of = {ledger.account_by_code(collective_id, code).id: name
                 for code, name in TRACKED_ACCOUNTS}
    column_of.update(dict.fromkeys(balances.common_fund_accounts(collective_id), "common_fund"))
    column_of.update(dict.fromkeys(fund.fund_account_ids(collective_id), "benefits_fund"))
    return column_of


# --- What every member sees ---------------------------------------------------------------


@dataclass(frozen=True)
class MemberDashboard:
    """One member's numbers."""

    balance: dict[str, int]
    earnings: list[tuple[str, int]]
    fund: fund.MemberFund | None
    open_work: list[tuple[Allocation, int]]
    #: At most VOTES_SHOWN + 1: one more than the page lists says there are more.
    pending_votes: list[Proposal]

    @property
    def committed_hours(self) -> int:
        """Weekly hours of the member's open work."""
        return sum(allocation.weekly_hours for allocation, _ in self.open_work)


def earnings_by_month(membership: Membership, today: date) -> list[tuple[str, int]]:
    """(month, earned) for the member's recent months, months without earnings as zero."""
    table = monthly_earnings(membership, until=today, last_months=CHART_MONTHS)
    return [(month, int(earned)) for month, earned in zip(table["month"], table["earned"],
                                                          strict=True)]


def open_work(membership: Membership) -> list[tuple[Allocation, int]]:
    """The member's allocations on active work (won or in progress), with minutes logged."""
    return allocations_of(membership, states=ACTIVE_STATES)


def member_dashboard(membership: Membership, today: date, now: datetime) -> MemberDashboard:
    """Balance, earnings per month, benefits reserve, open work and pending votes."""
    return MemberDashboard(
        balance=balances.member_balance(membership.id),
        earnings=earnings_by_month(membership, today),
        fund=fund.member_fund(membership, today),
        open_work=open_work(membership),
        pending_votes=voting.awaiting_vote(membership, now, limit=VOTES_SHOWN + 1),
    )


# --- What coordinators see ----------------------------------------------------------------


@dataclass(frozen=True)
class CoordinatorDashboard:
    """The pool and the week's workload."""

    by_state: list[tuple[PitchState, int]]
    workload: list[dict]
    workload_totals: dict[str, int]
    near_deadline: list[Pitch]
    near_days: int = NEAR_DEADLINE_DAYS


#: The pool's states in the order work moves through them, the dead ends last.
POOL_ORDER = tuple(sorted(PitchState,
                          key=lambda s: s in (PitchState.LOST, PitchState.CANCELLED)))


def pool_by_state(collective_id: int) -> list[tuple[PitchState, int]]:
    """How many pitches are in each state, every state listed in lifecycle order."""
    counts = pitch_counts(collective_id)
    return [(state, counts.get(state.value, 0)) for state in POOL_ORDER]


def _load(collective_id: int) -> sa.Subquery:
    """Per member with work: the weekly hours allocated to them on active work (won, in
    progress), more than zero."""
    return (sa.select(Allocation.membership_id, sa.func.sum(Allocation.weekly_hours)
                      .label("hours"))
            .join(Pitch, Allocation.pitch_id == Pitch.id)
            .where(Pitch.collective_id == collective_id,
                   Pitch.state.in_([s.value for s in ACTIVE_STATES]))
            .group_by(Allocation.membership_id)
            .having(sa.func.sum(Allocation.weekly_hours) > 0).subquery())


def _members_of(collective_id: int, hours) -> sa.Select:
    """membership_id, name, status, capacity, hours of the collective's members (not
    removed)."""
    return (sa.select(Membership.id.label("membership_id"), User.name, Membership.status,
                      Membership.weekly_capacity_hours.label("capacity"), hours.label("hours"))
            .join(User, User.id == Membership.user_id)
            .where(Membership.collective_id == collective_id,
                   Membership.status != MembershipStatus.REMOVED.value))


def workload(collective_id: int, *, limit: int | None = None, offset: int = 0
             ) -> pd.DataFrame:
    """The members with the most weekly hours on active work first (then by name), `limit`
    of them from `offset`: membership_id, name, status, capacity, hours; `is_over` when
    the hours pass the capacity. The members with work are read first (a few among many);
    those without are read, by name, only when the page reaches past them."""
    load = _load(collective_id)
    loaded = list(db.session.execute(_with_work(collective_id, load)
                                     .offset(offset).limit(limit)).all())
    return _workload_frame(collective_id, load, loaded, limit=limit, offset=offset)


def _with_work(collective_id: int, load: sa.Subquery) -> sa.Select:
    """The members with work, most hours first, then by name: the workload's order."""
    return (_members_of(collective_id, load.c.hours)
            .join(load, load.c.membership_id == Membership.id)
            .order_by(load.c.hours.desc(), User.name, Membership.id))


def _workload_frame(collective_id: int, load: sa.Subquery, loaded: list, *,
                    limit: int | None, offset: int) -> pd.DataFrame:
    """The frame of `loaded` (members with work, from `offset`), filled up to `limit` with
    the members without work, by name."""
    import pandas as pd
    loaded = [tuple(row[:5]) for row in loaded]
    wanted = None if limit is None else limit - len(loaded)
    if wanted is None or wanted > 0:
        with_work = offset + len(loaded) if loaded or not offset else db.session.scalar(
            sa.select(sa.func.count()).select_from(load))
        idle = (_members_of(collective_id, sa.literal(0))
                .where(Membership.id.not_in(sa.select(load.c.membership_id)))
                .order_by(User.name, Membership.id)
                .offset(max(offset - with_work, 0)).limit(wanted))
        loaded += [tuple(row) for row in db.session.execute(idle)]
    members = pd.DataFrame(loaded, columns=["membership_id", "name", "status", "capacity",
                                            "hours"])
    members = members.astype({"capacity": "int64", "hours": "int64"})
    members["is_over"] = members["hours"] > members["capacity"]
    return members


def workload_with_totals(collective_id: int, limit: int) -> tuple[pd.DataFrame, dict[str, int]]:
    """`workload(limit=limit)` and `workload_totals` in one statement (the dashboard's):
    each row of the most loaded members also carries the totals, summed over every member
    with work by window functions, and over every member by two scalar subqueries."""
    load = _load(collective_id)
    everyone = so.aliased(Membership)
    kept = (everyone.collective_id == collective_id,
            everyone.status != MembershipStatus.REMOVED.value)
    over = sa.case((load.c.hours > Membership.weekly_capacity_hours, 1), else_=0)
    rows = db.session.execute(
        _with_work(collective_id, load)
        .add_columns(sa.func.sum(load.c.hours).over().label("all_hours"),
                     sa.func.sum(over).over().label("all_over"),
                     sa.select(sa.func.count()).where(*kept).scalar_subquery(),
                     sa.select(sa.func.coalesce(sa.func.sum(everyone.weekly_capacity_hours), 0))
                     .where(*kept).scalar_subquery())
        .limit(limit)).all()
    if not rows:
        return _workload_frame(collective_id, load, [], limit=limit, offset=0), \
            workload_totals(collective_id)
    first = rows[0]
    totals = {"members": int(first[7]), "hours": int(first[5]), "capacity": int(first[8]),
              "over": int(first[6])}
    return _workload_frame(collective_id, load, rows, limit=limit, offset=0), totals


def workload_totals(collective_id: int) -> dict[str, int]:
    """Over every member (not removed), in one statement: how many, their weekly hours on
    active work and their capacity, and how many are over capacity (only members with
    work can be)."""
    load = _load(collective_id)
    kept = (Membership.collective_id == collective_id,
            Membership.status != MembershipStatus.REMOVED.value)
    everyone = sa.select(sa.func.count(), sa.func.coalesce(
        sa.func.sum(Membership.weekly_capacity_hours), 0)).where(*kept).subquery()
    working = (sa.select(sa.func.coalesce(sa.func.sum(load.c.hours), 0).label("hours"),
                         sa.func.count().filter(load.c.hours > Membership.weekly_capacity_hours)
                         .label("over"))
               .join(load, load.c.membership_id == Membership.id).where(*kept).subquery())
    members, capacity, hours, over = db.session.execute(
        sa.select(*everyone.c, *working.c).select_from(everyone.join(working, sa.true()))
    ).one()
    return {"members": int(members), "hours": int(hours), "capacity": int(capacity),
            "over": int(over)}


def near_deadline(collective_id: int, today: date, days: int = NEAR_DEADLINE_DAYS,
                  limit: int = NEAR_DEADLINE_SHOWN) -> list[Pitch]:
    """Unfinished pitches due within `days` or already late, soonest first (at most
    `limit`: the pool board lists the rest)."""
    return list(db.session.scalars(
        sa.select(Pitch).options(so.joinedload(Pitch.client))
        .where(Pitch.collective_id == collective_id,
               Pitch.state.in_([s.value for s in UNFINISHED_STATES]),
               Pitch.deadline_on.is_not(None),
               Pitch.deadline_on <= today + timedelta(days=days))
        .order_by(Pitch.deadline_on, Pitch.id).limit(limit)))


def coordinator_dashboard(collective_id: int, today: date) -> CoordinatorDashboard:
    """The pool by state, workload against capacity, and pitches near their deadline."""
    shown, totals = workload_with_totals(collective_id, WORKLOAD_SHOWN)
    return CoordinatorDashboard(
        by_state=pool_by_state(collective_id),
        workload=shown.to_dict("records"),
        workload_totals=totals,
        near_deadline=near_deadline(collective_id, today),
    )


# --- What treasurers see ------------------------------------------------------------------


@dataclass(frozen=True)
class RunRow:
    """A scheduled run, done or due, and how it stands."""

    kind: str
    period: date
    status: str
    is_done: bool
    total: int = 0
    shortfall: int = 0
    finished_at: datetime | None = None


@dataclass(frozen=True)
class TreasurerDashboard:
    """Bank and funds, money in and out, who owes, and the runs."""

    balances: dict[str, int]
    balances_by_month: list[dict]
    money_by_month: list[dict]
    owing: list[dict]
    owing_totals: dict[str, int]
    runs: list[RunRow]
    runs_due: int


def current_balances(collective_id: int, column_of: dict[int, str] | None = None,
                     currency: str | None = None) -> dict[str, int]:
    """Bank, common fund and benefits fund now, each in its natural direction (what the bank
    holds, what each fund holds), in base minor units (from the ledger totals);
    `column_of` and `currency` when the caller has read them already."""
    column_of = column_of or _tracked_accounts(collective_id)
    rows = totals.read_totals(collective_id, ["account_id"], accounts=list(column_of),
                              currency=currency or base_currency(collective_id))
    now = dict.fromkeys(COLUMNS, 0)
    for account_id, debits, credits, _ in rows:
        name = column_of[account_id]
        now[name] += debits - credits if name == "bank" else credits - debits
    return now


def balances_by_month(collective_id: int, today: date, column_of: dict[int, str] | None = None,
                      currency: str | None = None) -> pd.DataFrame:
    """Month-end balances of the bank, the common fund and the benefits fund (in their
    natural direction) for the recent months: month, bank, common_fund, benefits_fund."""
    import pandas as pd
    columns = list(COLUMNS)
    column_of = column_of or _tracked_accounts(collective_id)
    rows = totals.read_totals(collective_id, ["account_id", "month"],
                              accounts=list(column_of),
                              currency=currency or base_currency(collective_id))
    frame = pd.DataFrame([(a, month, debits - credits) for a, month, debits, credits, _ in rows],
                         columns=["account_id", "day", "amount"]).astype({"amount": "int64"})
    frame["column"] = frame["account_id"].map(column_of)
    # The funds are credit balances: flip them so each shows what it holds.
    credit = frame["column"] != "bank"
    frame.loc[credit, "amount"] = -frame.loc[credit, "amount"]
    # Running totals over every month since the first posting, then the recent window.
    return monthly_table(frame, columns, until=today, last_months=CHART_MONTHS,
                         cumulative=True)


def money_by_month(collective_id: int, today: date, currency: str | None = None
                   ) -> pd.DataFrame:
    """Client payments into the bank and payouts to members out of it, per recent month
    (reversals count against what they reverse): month, income, payouts."""
    import pandas as pd
    bank = ledger.account_by_code(collective_id, ledger.BANK)
    column_of = {EntryKind.PAYMENT.value: "income", EntryKind.PAYOUT.value: "payouts"}
    rows = totals.read_totals(collective_id, ["month", "effective_kind"], accounts=[bank.id],
                              currency=currency or base_currency(collective_id))
    frame = pd.DataFrame([(month, column_of[kind], debits - credits)
                          for month, kind, debits, credits, _ in rows if kind in column_of],
                         columns=["day", "column", "amount"]).astype({"amount": "int64"})
    table = monthly_table(frame, ["income", "payouts"], until=today, last_months=CHART_MONTHS)
    table["payouts"] = -table["payouts"]  # money leaving the bank is a credit
    return table


def recent_runs(collective_id: int, today: date, limit: int = 6) -> tuple[list[RunRow], int]:
    """The oldest runs that are due and not yet done, then the latest runs, each with its
    status (at most `limit` of each); and how many runs are due in all."""
    due_periods = fund_runs.due_periods(collective_id, today)
    due = [RunRow(kind.value, period, "due, not run yet", is_done=False)
           for kind, period in due_periods[:limit]]

    def status(run: BenefitRun) -> str:
        if not run.shortfall_amount:
            return "done"
        if run.kind == RunKind.CONTRIBUTIONS.value:
            return "done, contributions owed"
        return "done, benefits cut (fund short)"

    done = [RunRow(run.kind, run.period, status(run), is_done=True, total=run.total_amount,
                   shortfall=run.shortfall_amount, finished_at=run.finished_at)
            for run in fund.runs_of(collective_id, limit=limit)]
    return due + done, len(due_periods)


def treasurer_dashboard(collective_id: int, today: date) -> TreasurerDashboard:
    """Balances now and over time, income and payouts per month, owing members, the runs:
    the tracked accounts, the base currency and what members owe are read once."""
    runs, runs_due = recent_runs(collective_id, today)
    column_of = _tracked_accounts(collective_id)
    currency = base_currency(collective_id)
    owed = fund.owed_by_members(collective_id)
    return TreasurerDashboard(
        balances=current_balances(collective_id, column_of, currency),
        balances_by_month=balances_by_month(collective_id, today, column_of,
                                            currency).to_dict("records"),
        money_by_month=money_by_month(collective_id, today, currency).to_dict("records"),
        owing=sorted(fund.owing(collective_id, limit=OWING_SHOWN, owed=owed)
                     .to_dict("records"),
                     key=lambda o: (-(o["owed"] + o["debt"]), o["name"])),
        owing_totals=fund.owing_totals(collective_id, owed=owed),
        runs=runs,
        runs_due=runs_due,
    )

"""Accounting periods: a treasurer closes a month once it is reconciled, reopens it with a
reason, and closes a year by moving its income and expenses to the common fund.

What "reconciled" means belongs to the packages that know the bank (collective.books.bank
registers its check from the app factory): the ledger only asks them. A closed month refuses
every entry dated inside it, here (ledger.services) and in the database (ledger.guards); the
year-end closing entry is the one exception, as it is dated Dec 31 after the months close.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa

from collective import audit
from collective.clock import month_end
from collective.errors import DomainError, NotAllowed, NotFound
from collective.extensions import db
from collective.ledger import services
from collective.ledger.models import (
    Account,
    AccountType,
    ClosedPeriod,
    EntryKind,
    JournalEntry,
    PeriodAction,
    PeriodEvent,
    Posting,
)
from collective.roles import Role

#: (collective_id, first day, last day) -> why that stretch is not reconciled (empty: it is).
ReconciliationCheck = Callable[[int, date, date], list[str]]
RECONCILIATION_CHECKS: list[ReconciliationCheck] = []


#: (collective_id, months' first days) -> why each is not reconciled: the same check over
#: many months at once, in a fixed number of queries (for the periods page).
MonthsCheck = Callable[[int, list[date]], dict[date, list[str]]]
MONTHS_CHECKS: dict[ReconciliationCheck, MonthsCheck] = {}


def register_reconciliation_check(check: ReconciliationCheck,
                                  months: MonthsCheck | None = None) -> None:
    """Add a check a month must pass before it may be closed (the bank's, for one), and
    the same check over many months at once, if it has one."""
    if check not in RECONCILIATION_CHECKS:
        RECONCILIATION_CHECKS.append(check)
    if months is not None:
        MONTHS_CHECKS[check] = months


def months_of(year: int) -> list[date]:
    """The first day of each month of `year`."""
    return [date(year, m, 1) for m in range(1, 13)]


def closing_key(year: int) -> str:
    """Idempotency key of a year's closing entry."""
    return f"closing:{year}"


def _check_actor(actor: Any, collective_id: int, action: str) -> int | None:
    """The acting user's id, once the actor is a treasurer of this collective; None for the
    command line (actor None), which acts for the operator of the server."""
    if actor is None:
        return None
    if actor.collective_id != collective_id:
        raise NotFound("no such collective")
    if not actor.has_role(Role.TREASURER):
        raise NotAllowed(Role.TREASURER.value, action)
    return actor.user_id


def _check_month(month: date, today: date) -> date:
    if not isinstance(month, date) or month.day != 1:
        raise DomainError("a period is a month: give its first day", field="month")
    if month_end(month) >= today:
        raise DomainError(f"{month:%B %Y} has not ended yet", field="month")
    return month


def unreconciled(collective_id: int, month: date) -> list[str]:
    """Why the month is not reconciled, from every registered check; empty when it is."""
    return [reason for check in RECONCILIATION_CHECKS
            for reason in check(collective_id, month, month_end(month))]


def closed_period(collective_id: int, month: date) -> ClosedPeriod | None:
    """The row that closes this month, if it is closed."""
    return db.session.scalar(sa.select(ClosedPeriod).filter_by(collective_id=collective_id,
                                                               starts_on=month))


@dataclass
class PeriodState:
    """A month as the periods page shows it."""

    starts_on: date
    ends_on: date
    state: str  # open, reconciled or closed
    reasons: list[str] = field(default_factory=list)
    closed: ClosedPeriod | None = None


def period_states(collective_id: int, year: int, today: date) -> list[PeriodState]:
    """The state of each month of `year` that has started by `today` (each check answers
    for all the open months at once when it can)."""
    closed = {p.starts_on: p for p in db.session.scalars(
        sa.select(ClosedPeriod).where(ClosedPeriod.collective_id == collective_id,
                                      ClosedPeriod.starts_on.between(date(year, 1, 1),
                                                                     date(year, 12, 31))))}
    started = [month for month in months_of(year) if month <= today]
    open_months = [month for month in started if month not in closed]
    reasons: dict[date, list[str]] = {month: [] for month in open_months}
    for check in RECONCILIATION_CHECKS:
        if check in MONTHS_CHECKS:
            found = MONTHS_CHECKS[check](collective_id, open_months)
        else:
            found = {month: check(collective_id, month, month_end(month))
                     for month in open_months}
        for month in open_months:
            reasons[month].extend(found.get(month, []))
    states = []
    for month in started:
        if month in closed:
            states.append(PeriodState(month, month_end(month), "closed", [], closed[month]))
            continue
        why = reasons[month]
        if month_end(month) >= today:
            why = ["the month has not ended yet", *why]
        states.append(PeriodState(month, month_end(month), "open" if why else "reconciled",
                                  why))
    return states


#: The users' names, for the history (the ledger imports no members code).
_users = sa.table("users", sa.column("id"), sa.column("name"))


def period_events(collective_id: int, limit: int = 50) -> list[tuple[PeriodEvent, str]]:
    """The latest closes, reopenings and year-end closes, newest first, each with the name
    of who did it (empty for the command line)."""
    rows = db.session.execute(
        sa.select(PeriodEvent, _users.c.name)
        .outerjoin(_users, _users.c.id == PeriodEvent.user_id)
        .where(PeriodEvent.collective_id == collective_id)
        .order_by(PeriodEvent.id.desc()).limit(limit)).all()
    return [(event, name or "") for event, name in rows]


def _close(collective_id: int, month: date, user_id: int | None) -> ClosedPeriod:
    period = ClosedPeriod(collective_id=collective_id, starts_on=month,
                          ends_on=month_end(month), closed_by_id=user_id)
    db.session.add(period)
    db.session.add(PeriodEvent(collective_id=collective_id, starts_on=month,
                               action=PeriodAction.CLOSED, user_id=user_id))
    db.session.flush()
    return period


def close_month(actor: Any, collective_id: int, month: date, *, today: date) -> ClosedPeriod:
    """Close a reconciled month that has ended; closing a closed month changes nothing."""
    user_id = _check_actor(actor, collective_id, "close a month")
    _check_month(month, today)
    existing = closed_period(collective_id, month)
    if existing is not None:
        return existing
    reasons = unreconciled(collective_id, month)
    if reasons:
        raise DomainError(f"{month:%B %Y} is not reconciled: {'; '.join(reasons[:3])}",
                          field="month")
    return _close(collective_id, month, user_id)


def reopen_month(actor: Any, collective_id: int, month: date, *, reason: str) -> PeriodEvent:
    """Reopen a closed month; the reason is recorded with who reopened it."""
    user_id = _check_actor(actor, collective_id, "reopen a month")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("say why the month is reopened", field="reason")
    period = closed_period(collective_id, month)
    if period is None:
        raise DomainError(f"{month:%B %Y} is not closed", field="month")
    db.session.delete(period)
    event = PeriodEvent(collective_id=collective_id, starts_on=month,
                        action=PeriodAction.REOPENED, reason=reason[:500], user_id=user_id)
    db.session.add(event)
    db.session.flush()
    return event


def year_result_lines(collective_id: int, year: int) -> list[services.Line]:
    """The closing entry's postings: each income and expense account's balance for the year
    taken off it, and the sum put on the common fund, per currency."""
    rows = db.session.execute(
        sa.select(Posting.account_id, Posting.currency, sa.func.sum(Posting.amount))
        .join(JournalEntry, Posting.entry_id == JournalEntry.id)
        .join(Account, Posting.account_id == Account.id)
        .where(JournalEntry.collective_id == collective_id,
               JournalEntry.occurred_on.between(date(year, 1, 1), date(year, 12, 31)),
               JournalEntry.kind != EntryKind.CLOSING.value,
               Account.type.in_([AccountType.INCOME.value, AccountType.EXPENSE.value]))
        .group_by(Posting.account_id, Posting.currency)
        .order_by(Posting.currency, Posting.account_id)).all()
    lines, to_fund = [], defaultdict(int)
    for account_id, currency, total in rows:
        if total:
            lines.append(services.Line(account_id, -int(total), currency))
            to_fund[currency] += int(total)
    fund = services.account_by_code(collective_id, services.COMMON_FUND)
    lines += [services.Line(fund.id, amount, currency)
              for currency, amount in sorted(to_fund.items()) if amount]
    return lines


def close_year(collective_id: int, year: int, *, actor: Any = None, today: date,
               force: bool = False, reason: str = "") -> JournalEntry:
    """Post the year's one closing entry (dated Dec 31, key closing:<year>) and close every
    month of the year. Refused while a month is unreconciled, unless forced with a reason.
    Closing a closed year returns its entry."""
    user_id = _check_actor(actor, collective_id, "close a year")
    last_day = date(year, 12, 31)
    if last_day >= today:
        raise DomainError(f"{year} has not ended yet", field="year")
    reason = (reason or "").strip()
    if force and not reason:
        raise DomainError("say why the year is closed with months unreconciled",
                          field="reason")
    existing = services.find_entry(collective_id, closing_key(year))
    if existing is not None:
        return existing
    closed = set(db.session.scalars(
        sa.select(ClosedPeriod.starts_on).where(ClosedPeriod.collective_id == collective_id,
                                                ClosedPeriod.starts_on.between(
                                                    date(year, 1, 1), last_day))))
    open_months = [m for m in months_of(year) if m not in closed and unreconciled(collective_id, m)]
    if open_months and not force:
        names = ", ".join(f"{m:%B}" for m in open_months)
        raise DomainError(f"{year} has months that are not reconciled ({names}): reconcile "
                          "them, or force the close with a reason", field="year")
    lines = year_result_lines(collective_id, year)
    if not lines:
        raise DomainError(f"{year} has no income or expenses to close", field="year")
    entry = services.post_entry(
        collective_id, kind=EntryKind.CLOSING, occurred_on=last_day,
        idempotency_key=closing_key(year), lines=lines, created_by_id=user_id,
        memo=f"Year-end close {year}: income and expenses moved to the common fund")
    for month in months_of(year):
        if month not in closed:
            _close(collective_id, month, user_id)
    db.session.add(PeriodEvent(collective_id=collective_id, starts_on=date(year, 1, 1),
                               action=PeriodAction.YEAR_CLOSED, user_id=user_id,
                               is_forced=bool(open_months) and force,
                               reason=reason[:500] if force else ""))
    db.session.flush()
    audit.record("year.closed", collective=collective_id, subject=entry,
                 **({} if user_id is None else {"actor": user_id}), year=year,
                 is_forced=bool(open_months) and force, reason=reason if force else "")
    return entry

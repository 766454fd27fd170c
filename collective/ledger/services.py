"""Posting to the ledger: the chart of accounts, entries, bulk entries and reversals.
Services flush; the caller commits. The read side is collective.ledger.balances."""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from collective import audit
from collective.errors import Conflict, DomainError, NotFound
from collective.extensions import db
from collective.ledger.models import (
    Account,
    AccountType,
    ClosedPeriod,
    EntryKind,
    JournalEntry,
    Posting,
)
from collective.ledger.snapshots import hold_posting_lock
from collective.money import MoneyError, check_currency

# Codes of the standard chart that every collective gets.
BANK = "1000"
RECEIVABLES = "1100"
#: What members owed the benefits fund for gifts, in one sum (until migration 0019; since
#: then each member's receivable, MEMBER_RECEIVABLE_PREFIX-<membership id>, holds it).
FUND_OWED = "1200"
#: A member's receivable in the benefits fund: contributions and gifts they owe it.
MEMBER_RECEIVABLE_PREFIX = "1210"
MEMBER_PAYABLE_PREFIX = "2100"
#: The members' reserves: their own money, held for them, so a liability (not equity).
BENEFITS_FUND = "2200"
#: Contributions members owe the fund and have not paid: the other side of their
#: receivables, kept apart from the reserves (a reserve counts only what was paid).
FUND_DUE = "2210"
#: Tax charged on invoices, owed to the tax authority.
SALES_TAX = "2300"
COMMON_FUND = "3000"
CLIENT_INCOME = "4000"
#: Differences between what a foreign-currency invoice was booked at and what came in.
EXCHANGE = "4900"
#: Other expenses (what no more precise expense account covers).
EXPENSES = "5000"
#: The members' part of each client payment, under the share rule in force.
MEMBER_SHARES = "5100"
#: The finder's part of each client payment.
FINDER_FEES = "5200"
#: The part of a shared pitch's payment that goes to a partner collective (federation);
#: opened the first time a collective shares a paid pitch.
PARTNER_SHARES = "5800"
#: Invoices written off: what clients will never pay.
BAD_DEBTS = "5300"
#: Software, hosting and other subscriptions.
SOFTWARE = "5400"
TRAVEL = "5500"
EQUIPMENT = "5600"
#: What the bank charges: account fees, transfer and card fees.
BANK_FEES = "5700"

STANDARD_CHART: tuple[tuple[str, str, AccountType], ...] = (
    (BANK, "Bank", AccountType.ASSET),
    (RECEIVABLES, "Client receivables", AccountType.ASSET),
    (FUND_OWED, "Owed to the benefits fund by members", AccountType.ASSET),
    (BENEFITS_FUND, "Benefits fund: members' reserves", AccountType.LIABILITY),
    (FUND_DUE, "Benefits fund: contributions due, not yet paid", AccountType.LIABILITY),
    (COMMON_FUND, "Common fund", AccountType.EQUITY),
    (SALES_TAX, "Sales tax payable", AccountType.LIABILITY),
    (CLIENT_INCOME, "Client work income", AccountType.INCOME),
    (EXCHANGE, "Exchange gains and losses", AccountType.INCOME),
    (EXPENSES, "Other expenses", AccountType.EXPENSE),
    (MEMBER_SHARES, "Members' shares of client work", AccountType.EXPENSE),
    (FINDER_FEES, "Finder's fees", AccountType.EXPENSE),
    (BAD_DEBTS, "Bad debts", AccountType.EXPENSE),
    (SOFTWARE, "Software and subscriptions", AccountType.EXPENSE),
    (TRAVEL, "Travel", AccountType.EXPENSE),
    (EQUIPMENT, "Equipment", AccountType.EXPENSE),
    (BANK_FEES, "Bank fees", AccountType.EXPENSE),
)


class LedgerError(DomainError):
    """An entry the ledger refuses to post."""


class UnbalancedEntry(LedgerError):
    """Postings that do not sum to zero in some currency."""


class ForeignAccount(LedgerError):
    """A posting to an account of another collective (or to no account at all)."""


class PeriodClosed(LedgerError):
    """An entry dated inside a closed period (collective.ledger.periods)."""


def refuse_closed_periods(collective_id: int, kinds_and_dates: Sequence[tuple[str, date]]
                          ) -> None:
    """Raise PeriodClosed when any of these entries would be dated in a closed month; the
    year-end closing entry is the one kind that may be (the trigger agrees)."""
    days = {day for kind, day in kinds_and_dates if kind != EntryKind.CLOSING}
    if not days:
        return
    closed = db.session.execute(
        sa.select(ClosedPeriod.starts_on, ClosedPeriod.ends_on)
        .where(ClosedPeriod.collective_id == collective_id,
               ClosedPeriod.starts_on <= max(days), ClosedPeriod.ends_on >= min(days))).all()
    for day in sorted(days):
        if any(start <= day <= end for start, end in closed):
            raise PeriodClosed(f"{day:%B %Y} is closed: no entry may be dated {day.isoformat()}; "
                               "a treasurer can reopen the month, with a reason",
                               field="occurred_on")


class IdempotencyConflict(Conflict):
    """The idempotency key was already used for an entry with different postings."""


@dataclass(frozen=True, slots=True)
class Line:
    """One posting to be written: debit when amount > 0, credit when < 0."""

    account_id: int
    amount: int
    currency: str


#: Key space of the PostgreSQL advisory lock that serialises, per collective, everything
#: that reads member balances and then spends them (payouts, fund runs).
BALANCE_LOCK_SPACE = 4201


def lock_balances(collective_id: int) -> None:
    """Hold the collective's balance lock until the transaction ends.

    On PostgreSQL a transaction-level advisory lock; SQLite already runs one writer at a
    time (every transaction that may write begins IMMEDIATE: collective/database.py), so
    there is nothing more to take there.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(BALANCE_LOCK_SPACE,
                                                                   collective_id)))


def create_standard_chart(collective_id: int) -> list[Account]:
    """Create the standard accounts of a new collective."""
    accounts = [
        Account(collective_id=collective_id, code=code, name=name, type=kind.value)
        for code, name, kind in STANDARD_CHART
    ]
    db.session.add_all(accounts)
    db.session.flush()
    return accounts


def member_account_code(membership_id: int) -> str:
    """Stable code of a member's payable account."""
    return f"{MEMBER_PAYABLE_PREFIX}-{membership_id}"


def open_member_account(collective_id: int, membership_id: int, member_name: str) -> Account:
    """Return the member's payable account, creating it the first time."""
    account = db.session.scalar(sa.select(Account).filter_by(membership_id=membership_id))
    if account is None:
        account = Account(
            collective_id=collective_id,
            code=member_account_code(membership_id),
            name=f"Payable to {member_name}",
            type=AccountType.LIABILITY.value,
            membership_id=membership_id,
        )
        db.session.add(account)
        db.session.flush()
    return account


def account_by_code(collective_id: int, code: str) -> Account:
    """The collective's account with this code."""
    account = db.session.scalar(
        sa.select(Account).filter_by(collective_id=collective_id, code=code)
    )
    if account is None:
        raise NotFound(f"no account {code} in this collective", field="account")
    return account


def member_account(membership_id: int) -> Account:
    """The payable account of a membership."""
    account = db.session.scalar(sa.select(Account).filter_by(membership_id=membership_id))
    if account is None:
        raise NotFound("this member has no payable account", field="membership")
    return account


def _balanced_lines(lines: Sequence[Line]) -> list[Line]:
    """Check amounts, currencies and balance of one entry's lines (no database)."""
    if len(lines) < 2:
        raise UnbalancedEntry("an entry needs at least two postings", field="postings")
    checked = []
    totals: Counter[str] = Counter()
    for line in lines:
        if isinstance(line.amount, bool) or not isinstance(line.amount, int):
            raise LedgerError("posting amounts are integer minor units", field="amount")
        if line.amount == 0:
            raise LedgerError("a posting of zero says nothing; leave it out", field="amount")
        try:
            currency = check_currency(line.currency)
        except MoneyError as exc:
            raise LedgerError(str(exc), field="currency") from exc
        totals[currency] += line.amount
        checked.append(Line(line.account_id, line.amount, currency))
    off = {cur: total for cur, total in totals.items() if total != 0}
    if off:
        detail = ", ".join(f"{cur} {total:+d}" for cur, total in sorted(off.items()))
        raise UnbalancedEntry(f"postings do not sum to zero: {detail}", field="postings")
    return checked


def _own_accounts(collective_id: int, account_ids: set[int]) -> None:
    """Raise ForeignAccount unless every account belongs to the collective (one query: the
    asked-for ids, or, for many, every account of the collective)."""
    if len(account_ids) > 100:
        owned = set(db.session.scalars(
            sa.select(Account.id).where(Account.collective_id == collective_id)))
        foreign = sorted(a for a in account_ids if a not in owned)
    else:
        owners = dict(db.session.execute(
            sa.select(Account.id, Account.collective_id).where(Account.id.in_(account_ids))
        ).all())
        foreign = sorted(a for a in account_ids if owners.get(a) != collective_id)
    if foreign:
        raise ForeignAccount(
            f"accounts {foreign} do not belong to this collective", field="account"
        )


def _validate_lines(collective_id: int, lines: Sequence[Line]) -> list[Line]:
    checked = _balanced_lines(lines)
    _own_accounts(collective_id, {line.account_id for line in checked})
    return checked


def _same_postings(entry: JournalEntry, lines: Sequence[Line]) -> bool:
    existing = Counter((p.account_id, p.amount, p.currency) for p in entry.postings)
    return existing == Counter((ln.account_id, ln.amount, ln.currency) for ln in lines)


def find_entry(collective_id: int, idempotency_key: str) -> JournalEntry | None:
    """The entry posted under this key, if any."""
    return db.session.scalar(
        sa.select(JournalEntry).filter_by(
            collective_id=collective_id, idempotency_key=idempotency_key
        )
    )


def post_entry(
    collective_id: int,
    *,
    kind: str,
    occurred_on: date,
    idempotency_key: str,
    lines: Sequence[Line],
    memo: str = "",
    created_by_id: int | None = None,
    reverses_id: int | None = None,
) -> JournalEntry:
    """Post one balanced entry, or return the entry already posted under the same key.

    Everything is checked before anything is written. Reusing a key for different postings
    raises IdempotencyConflict.
    """
    checked = _validate_lines(collective_id, lines)
    existing = find_entry(collective_id, idempotency_key)
    if existing is None:
        refuse_closed_periods(collective_id, [(kind, occurred_on)])
        hold_posting_lock()
        entry = JournalEntry(
            collective_id=collective_id,
            kind=kind,
            occurred_on=occurred_on,
            idempotency_key=idempotency_key,
            memo=memo,
            created_by_id=created_by_id,
            reverses_id=reverses_id,
        )
        try:
            # A savepoint, so that losing a race on the unique key leaves the caller's
            # transaction usable.
            with db.session.begin_nested():
                db.session.add(entry)
                db.session.flush()
                db.session.add_all(
                    Posting(entry_id=entry.id, account_id=ln.account_id, amount=ln.amount,
                            currency=ln.currency)
                    for ln in checked
                )
                db.session.flush()
        except sa.exc.IntegrityError:
            existing = find_entry(collective_id, idempotency_key)
            if existing is None:
                raise
        else:
            db.session.refresh(entry, ["postings"])
            return entry
    if not _same_postings(existing, checked):
        raise IdempotencyConflict(
            f"{idempotency_key!r} was already posted with other amounts",
            field="idempotency_key",
        )
    return existing


@dataclass(frozen=True, slots=True)
class NewEntry:
    """An entry for post_entries: what post_entry takes, as one value."""

    kind: str
    occurred_on: date
    idempotency_key: str
    lines: Sequence[Line]
    memo: str = ""


def post_entries(collective_id: int, entries: Sequence[NewEntry],
                 created_by_id: int | None = None) -> list[int]:
    """Post many balanced entries at once (a scheduled run); returns their ids in order:
    post_many, for entries given as NewEntry values."""
    if not entries:
        return []
    for entry in entries:  # amounts that are not plain integers are refused one by one
        _balanced_lines(entry.lines)
    from collective.ledger.bulk import entry_frames, post_many

    return post_many(collective_id, *entry_frames(entries), created_by_id=created_by_id)


#: Entry kind -> why an entry of that kind cannot be reversed on its own. The domain that
#: writes such entries registers them (benefits: its run entries), from the app factory.
LOCKED_KINDS: dict[str, str] = {}


def register_locked_kind(kind: str, reason: str) -> None:
    """Say that entries of `kind` are corrected some other way than a reversal, and why."""
    LOCKED_KINDS[kind] = reason


#: Entry kind -> what its domain does, in the same transaction, once an entry of that kind
#: is reversed (the pool: a reversed client payment gives back the hours it used). Called
#: with the original entry and its reversal; it must be safe to call again for the same pair.
#: Several domains may follow one kind (a shared pitch's payment: the pool, then the partner
#: collective's side); they run in the order they were first registered.
REVERSAL_FOLLOW_UPS: dict[str, dict[str, Callable[[JournalEntry, JournalEntry], None]]] = {}


def register_reversal_follow_up(kind: str,
                                follow_up: Callable[[JournalEntry, JournalEntry], None]) -> None:
    """Say what a domain does when an entry of `kind` is reversed, whoever reverses it (its
    own page, the ledger's entry page, the CLI). Registering the same function again (each
    app the factory makes registers them) keeps one, in its first place."""
    name = f"{follow_up.__module__}.{follow_up.__qualname__}"
    REVERSAL_FOLLOW_UPS.setdefault(kind, {})[name] = follow_up


def reversal_refusal(entry: JournalEntry) -> str | None:
    """Why `entry` cannot be reversed on its own, or None when it can."""
    if entry.reverses_id is not None:
        return "this entry is itself a reversal and cannot be reversed"
    return LOCKED_KINDS.get(entry.kind)


def reversal_key(entry: JournalEntry) -> str:
    """Idempotency key of the reversal of `entry`."""
    return f"reversal:{entry.id}"


def reversal_day(entry: JournalEntry, today: date) -> date:
    """The day a reversal of `entry` is dated: the original's, unless its month is closed;
    then `today` (the collective's), since nothing may be dated in a closed month."""
    closed = db.session.scalar(sa.select(ClosedPeriod.id).where(
        ClosedPeriod.collective_id == entry.collective_id,
        ClosedPeriod.starts_on <= entry.occurred_on, ClosedPeriod.ends_on >= entry.occurred_on))
    return entry.occurred_on if closed is None else today


def reverse_entry(
    entry: JournalEntry,
    *,
    occurred_on: date | None = None,
    today: date | None = None,
    memo: str | None = None,
    created_by_id: int | None = None,
) -> JournalEntry:
    """Post the mirror of `entry` once; reversing it again returns the same reversal. It is
    dated `occurred_on` if given, else the original's day, or `today` when that day's month
    is closed (see reversal_day).

    Refused for a reversal, and for kinds their domain registered as locked."""
    refusal = reversal_refusal(entry)
    if refusal is not None:
        raise LedgerError(refusal, field="entry")
    if occurred_on is None:
        occurred_on = entry.occurred_on if today is None else reversal_day(entry, today)
    is_new = find_entry(entry.collective_id, reversal_key(entry)) is None
    reversal = post_entry(
        entry.collective_id,
        kind=EntryKind.REVERSAL,
        occurred_on=occurred_on,
        idempotency_key=reversal_key(entry),
        memo=memo or f"Reversal of entry {entry.id}: {entry.memo}"[:500],
        lines=[Line(p.account_id, -p.amount, p.currency) for p in entry.postings],
        created_by_id=created_by_id,
        reverses_id=entry.id,
    )
    for follow_up in REVERSAL_FOLLOW_UPS.get(entry.kind, {}).values():
        follow_up(entry, reversal)
    if is_new:
        audit.record("entry.reversed", collective=entry.collective_id, subject=reversal,
                     **({} if created_by_id is None else {"actor": created_by_id}),
                     reverses_entry_id=entry.id, kind=str(entry.kind),
                     occurred_on=occurred_on, memo=reversal.memo)
    return reversal


"""The ledger's read side: balances as SQL aggregates over postings, the trial balance,
the balance checks, and the journal as pages show it. Nothing here writes."""
from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective.errors import NotFound
from collective.extensions import db
from collective.ledger import totals
from collective.ledger.models import (
    Account,
    AccountType,
    BalanceSnapshot,
    EntryKind,
    JournalEntry,
    Posting,
)
from collective.ledger.services import COMMON_FUND


def _as_of(query: sa.Select, as_of: date | None) -> sa.Select:
    if as_of is not None:
        query = query.where(JournalEntry.occurred_on <= as_of)
    return query


def with_effective_kind(query: sa.Select) -> tuple[sa.Select, sa.ColumnElement]:
    """`query` (over journal entries) joined to what each reversal reverses, and the entry's
    effective kind: a reversal takes the kind of the entry it reverses, so a reversed
    payment counts against payments."""
    original = so.aliased(JournalEntry)
    kind = sa.func.coalesce(original.kind, JournalEntry.kind)
    return query.outerjoin(original, JournalEntry.reverses_id == original.id), kind


def account_balance(account_id: int, as_of: date | None = None) -> dict[str, int]:
    """Signed balance (debits positive) of one account per currency, as of a date."""
    query = (
        sa.select(Posting.currency, sa.func.sum(Posting.amount))
        .join(JournalEntry, Posting.entry_id == JournalEntry.id)
        .where(Posting.account_id == account_id)
        .group_by(Posting.currency)
    )
    return {cur: int(total) for cur, total in db.session.execute(_as_of(query, as_of)) if total}


def common_fund_accounts(collective_id: int) -> list[int]:
    """The accounts whose balances make the common fund: the equity account itself, and every
    income and expense account (this year's result, until the year-end close moves it)."""
    return list(db.session.scalars(
        sa.select(Account.id).where(
            Account.collective_id == collective_id,
            sa.or_(sa.and_(Account.code == COMMON_FUND, Account.membership_id.is_(None)),
                   Account.type.in_([AccountType.INCOME.value, AccountType.EXPENSE.value])))
        .order_by(Account.id)))


def common_fund_balance(collective_id: int, as_of: date | None = None) -> dict[str, int]:
    """What the common fund holds per currency (credit positive): its equity account plus
    the result not yet closed to it (income less expenses)."""
    query = (
        sa.select(Posting.currency, -sa.func.sum(Posting.amount))
        .join(JournalEntry, Posting.entry_id == JournalEntry.id)
        .where(Posting.account_id.in_(common_fund_accounts(collective_id)))
        .group_by(Posting.currency)
    )
    return {cur: int(total) for cur, total in db.session.execute(_as_of(query, as_of)) if total}


def member_balance(membership_id: int, as_of: date | None = None) -> dict[str, int]:
    """What the collective owes the member per currency (credit balance of their payable)."""
    account = db.session.scalar(sa.select(Account.id).filter_by(membership_id=membership_id))
    if account is None:
        return {}
    return {cur: -amount for cur, amount in account_balance(account, as_of).items()}


def member_balances(collective_id: int, currency: str) -> dict[int, tuple[int, int]]:
    """What the collective owes each member in one currency: {membership_id: (payable
    account id, amount owed)}, for members with postings. Read from the latest balance
    snapshot and the postings after it (collective.ledger.snapshots), so its cost follows
    the members and the postings since the snapshot, not the whole history."""
    payable = (Account.collective_id == collective_id, Account.membership_id.is_not(None))
    # One statement reads the watermark and the snapshot rows together, so a newer snapshot
    # that replaces this one meanwhile cannot leave the two apart.
    latest = sa.select(sa.func.max(BalanceSnapshot.through_posting_id).label("through")
                       ).subquery()
    snapshot = db.session.execute(
        sa.select(latest.c.through, Account.membership_id, Account.id, BalanceSnapshot.balance)
        .select_from(latest)
        .outerjoin(BalanceSnapshot, sa.and_(BalanceSnapshot.through_posting_id == latest.c.through,
                                            BalanceSnapshot.currency == currency))
        .outerjoin(Account, sa.and_(Account.id == BalanceSnapshot.account_id, *payable))
        .where(sa.or_(Account.id.is_not(None), BalanceSnapshot.id.is_(None)))).all()
    watermark = int(snapshot[0][0] or 0) if snapshot else 0
    owed: dict[int, tuple[int, int]] = {
        int(m): (int(a), -int(balance)) for _, m, a, balance in snapshot if a is not None}
    tail = db.session.execute(
        sa.select(Account.membership_id, Account.id, -sa.func.sum(Posting.amount))
        .join(Posting, Posting.account_id == Account.id)
        .where(*payable, Posting.currency == currency, Posting.id > watermark)
        .group_by(Account.membership_id, Account.id)).all()
    for membership_id, account_id, amount in tail:
        before = owed.get(membership_id, (account_id, 0))[1]
        owed[membership_id] = (account_id, before + int(amount))
    return dict(sorted(owed.items(), key=lambda item: item[1][0]))


def members_owed_total(collective_id: int, currency: str) -> int:
    """What the collective owes its members in all in one currency (the credit balance of
    every member payable account), from the ledger totals."""
    payables = sa.select(Account.id).where(Account.collective_id == collective_id,
                                           Account.membership_id.is_not(None))
    return sum(credits - debits for debits, credits, _ in totals.read_totals(
        collective_id, [], accounts=payables, currency=currency))


@dataclass(slots=True)  # not frozen: a frozen __init__ costs 10 µs a row, 0.1 s at 10k
class BalanceRow:
    """One account's totals in one currency (not to be changed)."""

    account_id: int
    code: str
    name: str
    type: str
    membership_id: int | None
    currency: str
    debits: int
    credits: int

    @property
    def balance(self) -> int:
        """Signed balance, debits positive."""
        return self.debits - self.credits

    @property
    def natural_balance(self) -> int:
        """Balance in the account's normal direction (a liability's credit is positive)."""
        sign = 1 if AccountType(self.type).is_debit_normal else -1
        return sign * self.balance


def trial_balance(collective_id: int, as_of: date | None = None, *,
                  without_closing: bool = False, types: Collection[AccountType] | None = None,
                  since: date | None = None) -> list[BalanceRow]:
    """Debit and credit totals of every account with postings (of `types`, when given), per
    currency, as of a date (or over the period from `since`); `without_closing` leaves the
    year-end closing entries out (for an income statement). Read from the ledger totals and
    the postings after their watermark (ledger.totals)."""
    accounts = None if types is None else sa.select(Account.id).where(
        Account.collective_id == collective_id, Account.type.in_([t.value for t in types]))

    def build(watermark: int) -> sa.Select:
        summed = totals.totals(
            collective_id, ["account_id", "currency"], watermark, as_of=as_of, since=since,
            accounts=accounts,
            without_kinds=[EntryKind.CLOSING.value] if without_closing else ())
        return (sa.select(Account.id, Account.code, Account.name, Account.type,
                          Account.membership_id, summed.c.currency, summed.c.debits,
                          summed.c.credits, summed.c.through)
                .join(summed, summed.c.account_id == Account.id)
                .where(summed.c.postings != 0))
    rows = [BalanceRow(r[0], r[1], r[2], r[3], r[4], r[5], int(r[6]), int(r[7]))
            for r in totals.read(build)]
    return sorted(rows, key=lambda row: (account_code_key(row.code), row.currency))


def code_order(code: sa.ColumnElement[str]) -> list[sa.ColumnElement]:
    """ORDER BY terms putting account codes in account_code_key's order, in SQL: the part
    before the dash, then the part after it (none first), each shorter first, then by its
    text, which for digits without leading zeros is their numeric order ('2100', '2100-2',
    '2100-10', '2200'). Every code the app makes is digits, with a dash and digits for a
    member's accounts. (Plain text functions: a regular expression or a cast a row cost
    more than the sort.)"""
    if db.session.get_bind().dialect.name == "postgresql":
        head, tail = sa.func.split_part(code, "-", 1), sa.func.split_part(code, "-", 2)
    else:
        dash = sa.func.instr(code, "-")
        head = sa.case((dash > 0, sa.func.substr(code, 1, dash - 1)), else_=code)
        tail = sa.case((dash > 0, sa.func.substr(code, dash + 1)), else_="")
    return [sa.func.length(head), head, sa.func.length(tail), tail, code]


@dataclass(frozen=True, slots=True)
class TrialBalancePage:
    """One page of the trial balance: its rows, and the totals of every account line."""

    rows: list[BalanceRow]
    totals: dict[str, tuple[int, int]]
    #: Account lines (an account in one currency) in the whole trial balance.
    lines: int


def _account_totals(collective_id: int, watermark: int, as_of: date | None,
                    currency: str | None = None) -> sa.Subquery:
    """Each account's totals per currency as of a date (only accounts with postings): the
    account's columns, currency, debits, credits and `through` (for totals.read)."""
    summed = totals.totals(collective_id, ["account_id", "currency"], watermark, as_of=as_of,
                           currency=currency)
    return (sa.select(Account.id.label("account_id"), Account.code, Account.name, Account.type,
                      Account.membership_id, summed.c.currency, summed.c.debits,
                      summed.c.credits, summed.c.through)
            .join(summed, summed.c.account_id == Account.id)
            .where(summed.c.postings != 0)).subquery()


def trial_balance_page(collective_id: int, as_of: date | None, *, offset: int, limit: int
                       ) -> TrialBalancePage:
    """`limit` lines of the trial balance from `offset`, in trial_balance's order, and the
    totals of all of them: one statement over the accounts' totals (a CTE read twice),
    sorted, counted and summed in the database, so a page costs about the same at ten
    accounts or ten thousand."""
    def build(watermark: int) -> sa.Select:
        lines = _account_totals(collective_id, watermark, as_of).element.cte("lines")
        c = lines.c
        page = (sa.select(c.account_id, c.code, c.name, c.type, c.membership_id, c.currency,
                          c.debits, c.credits, c.through, sa.literal(0).label("lines"))
                .order_by(*code_order(c.code), c.currency).offset(offset).limit(limit)
                ).subquery()
        null_int, null_text = sa.null().cast(sa.Integer), sa.null().cast(sa.String)
        summed = (sa.select(null_int, null_text, null_text, null_text, null_int, c.currency,
                            sa.cast(sa.func.sum(c.debits), sa.BigInteger),
                            sa.cast(sa.func.sum(c.credits), sa.BigInteger),
                            sa.func.max(c.through), sa.func.count())
                  .group_by(c.currency))
        return sa.union_all(sa.select(page), summed)
    rows, sums, count = [], {}, 0
    for r in totals.read(build):
        if r[0] is None:
            sums[r[5]] = (int(r[6]), int(r[7]))
            count += int(r[9])
        else:
            rows.append(BalanceRow(r[0], r[1], r[2], r[3], r[4], r[5], int(r[6]), int(r[7])))
    return TrialBalancePage(rows, dict(sorted(sums.items())), count)


def statement_lines(collective_id: int, currency: str, as_of: date, *, named: int
                    ) -> list[tuple[str, str, str, int]]:
    """(code, name, type, natural balance) of every account with a balance in `currency` as
    of a date, for a balance sheet, in account order; the accounts of a member kind (a code
    prefix before the dash) past `named` of them make one line, '2100-*' named "N member
    accounts", standing where the first of them would. Summed in the database, so ten
    thousand members' payables cost one row."""
    def build(watermark: int) -> sa.Select:
        c = _account_totals(collective_id, watermark, as_of, currency).c
        natural = sa.case((c.type.in_([AccountType.ASSET.value, AccountType.EXPENSE.value]), 1),
                          else_=-1) * (c.debits - c.credits)
        dash = (sa.func.strpos(c.code, "-") if db.session.get_bind().dialect.name
                == "postgresql" else sa.func.instr(c.code, "-"))
        prefix = sa.case((dash > 0, sa.func.substr(c.code, 1, dash - 1)), else_=c.code)
        lines = (sa.select(c.code, c.name, c.type, natural.label("amount"), c.through,
                           (dash > 0).label("member"), prefix.label("prefix"))
                 .where(c.debits != c.credits)).subquery()
        counted = sa.select(
            lines, sa.func.count().over(partition_by=[lines.c.member, lines.c.prefix])
            .label("kind_count")).cte("counted")  # read twice, worked out once
        k = counted.c
        many = sa.and_(k.member, k.kind_count > named)
        single = sa.select(k.code, k.name, k.type, k.amount, k.kind_count, k.through
                           ).where(sa.not_(many))
        grouped = (sa.select((k.prefix + "-*").label("code"), sa.literal("").label("name"),
                             k.type, sa.func.sum(k.amount).label("amount"),
                             sa.func.max(k.kind_count).label("kind_count"),
                             sa.func.max(k.through).label("through"))
                   .where(many).group_by(k.prefix, k.type))
        return sa.union_all(single, grouped)
    rows = []
    for code, name, kind, amount, count, _ in totals.read(build):
        if code.endswith("-*"):
            name, key = f"{int(count)} member accounts", account_code_key(code[:-2] + "-0")
        else:
            key = account_code_key(code)
        rows.append((key, (code, name, kind, int(amount))))
    return [line for _, line in sorted(rows, key=lambda item: item[0])]


def account_code_key(code: str) -> tuple:
    """Account codes in numeric order, part by part: '2100-2' (a member's payable account,
    by membership id) before '2100-10', both after '2100' and before '2200'. Text compares
    after numbers, so any code sorts without error."""
    head, dash, tail = code.partition("-")
    if head.isdigit() and (tail.isdigit() if dash else True):  # '2100', '2100-2': most codes
        return ((0, int(head), ""), (0, int(tail), "")) if dash else ((0, int(head), ""),)
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part)
                 for part in re.split(r"(\d+)", code) if part not in ("", "-"))


def trial_balance_totals(rows: Iterable[BalanceRow]) -> dict[str, tuple[int, int]]:
    """Total debits and credits per currency; equal in a balanced ledger."""
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        totals[row.currency][0] += row.debits
        totals[row.currency][1] += row.credits
    return {cur: (d, c) for cur, (d, c) in sorted(totals.items())}


@dataclass(frozen=True, slots=True)
class LedgerCheck:
    """Outcome of checking that every entry balances."""

    entries: int
    postings: int
    unbalanced_entry_ids: list[int]
    short_entry_ids: list[int]

    @property
    def ok(self) -> bool:
        """True when every entry has two or more postings summing to zero per currency."""
        return not self.unbalanced_entry_ids and not self.short_entry_ids


def _check(scope: list) -> LedgerCheck:
    """Check the entries that `scope` (conditions on JournalEntry) selects, in four queries."""
    entries = db.session.scalar(sa.select(sa.func.count(JournalEntry.id)).where(*scope))
    postings = db.session.scalar(
        sa.select(sa.func.count(Posting.id)).join(JournalEntry).where(*scope)
    )
    unbalanced = db.session.scalars(
        sa.select(Posting.entry_id)
        .join(JournalEntry)
        .where(*scope)
        .group_by(Posting.entry_id, Posting.currency)
        .having(sa.func.sum(Posting.amount) != 0)
    ).all()
    counts = (
        sa.select(JournalEntry.id, sa.func.count(Posting.id).label("n"))
        .outerjoin(Posting, Posting.entry_id == JournalEntry.id)
        .where(*scope)
        .group_by(JournalEntry.id)
        .subquery()
    )
    short = db.session.scalars(sa.select(counts.c.id).where(counts.c.n < 2)).all()
    return LedgerCheck(entries, postings, sorted(set(unbalanced)), sorted(short))


def check_ledger(collective_id: int | None = None) -> LedgerCheck:
    """Verify in SQL that every entry balances per currency and has at least two postings
    (of one collective, or of all): the full check, for the CLI and the on-demand page."""
    return _check([JournalEntry.collective_id == collective_id]
                  if collective_id is not None else [])


def check_entries(collective_id: int, entry_ids: Collection[int]) -> LedgerCheck:
    """The same check over some entries of a collective only (the ones a page shows): its
    cost follows the number of entries asked about, not the size of the ledger."""
    if not entry_ids:
        return LedgerCheck(0, 0, [], [])
    return _check([JournalEntry.collective_id == collective_id,
                   JournalEntry.id.in_(list(entry_ids))])


def get_entry(collective_id: int, entry_id: int) -> JournalEntry:
    """An entry of this collective, or NotFound."""
    entry = db.session.get(JournalEntry, entry_id)
    if entry is None or entry.collective_id != collective_id:
        raise NotFound("no such entry in this collective")
    return entry


def recent_entries(collective_id: int, limit: int = 50, before_id: int | None = None
                   ) -> list[JournalEntry]:
    """The newest entries of a collective by date (the day they happened, then the order
    they were posted), newest first; paged by the last entry shown (`before_id`), with their
    postings and reversals loaded (a fixed number of queries for any page)."""
    query = (sa.select(JournalEntry).where(JournalEntry.collective_id == collective_id)
             .options(so.selectinload(JournalEntry.reversed_by),
                      so.selectinload(JournalEntry.postings).joinedload(Posting.account)))
    if before_id is not None:
        anchor = (sa.select(JournalEntry.occurred_on)
                  .where(JournalEntry.id == before_id,
                         JournalEntry.collective_id == collective_id).scalar_subquery())
        query = query.where(sa.or_(
            JournalEntry.occurred_on < anchor,
            sa.and_(JournalEntry.occurred_on == anchor, JournalEntry.id < before_id)))
    query = query.order_by(JournalEntry.occurred_on.desc(), JournalEntry.id.desc())
    return list(db.session.scalars(query.limit(limit)))


#: Checks the packages above the ledger add to `flask ledger check` (the ledger imports
#: none of them): name -> function(collective_id or None) returning its problems in words.
EXTRA_CHECKS: dict[str, Callable[[int | None], list[str]]] = {}


def register_check(name: str, check: Callable[[int | None], list[str]]) -> None:
    """Add a check to `flask ledger check`; it returns what is wrong (empty when all is well)."""
    EXTRA_CHECKS[name] = check


def run_extra_checks(collective_id: int | None = None) -> dict[str, list[str]]:
    """Every registered check's problems (of one collective, or of all), by check name."""
    return {name: check(collective_id) for name, check in EXTRA_CHECKS.items()}

"""The bank's read side: statement balances, the reconciliation of an account on a day, the
lines of a month, and the check that says whether a month is reconciled. Nothing writes."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective.books.bank.models import BankAccount, BankLine, BankStatement, FeeRule
from collective.clock import month_end
from collective.extensions import db
from collective.ledger import balances, totals
from collective.ledger import services as ledger
from collective.ledger.models import JournalEntry, Posting
from collective.money import format_money


def bank_accounts(collective_id: int) -> list[BankAccount]:
    """The collective's bank accounts, by name."""
    return list(db.session.scalars(sa.select(BankAccount).filter_by(collective_id=collective_id)
                                   .order_by(BankAccount.name)))


def statements_of(account: BankAccount, limit: int = 24) -> list[BankStatement]:
    """The account's latest imports, newest first."""
    return list(db.session.scalars(sa.select(BankStatement)
                                   .filter_by(bank_account_id=account.id)
                                   .order_by(BankStatement.id.desc()).limit(limit)))


def fee_rules(collective_id: int) -> list[FeeRule]:
    """The collective's fee rules."""
    return list(db.session.scalars(sa.select(FeeRule).filter_by(collective_id=collective_id)
                                   .order_by(FeeRule.pattern)))


def lines_of(account: BankAccount, first: date, last: date) -> list[BankLine]:
    """The account's statement lines dated from `first` to `last`, with their entries."""
    return list(db.session.scalars(
        sa.select(BankLine).options(so.selectinload(BankLine.entry))
        .where(BankLine.bank_account_id == account.id, BankLine.booked_on.between(first, last))
        .order_by(BankLine.booked_on, BankLine.id)))


def _lines_total(account: BankAccount, after: date | None, upto: date) -> int:
    query = sa.select(sa.func.coalesce(sa.func.sum(BankLine.amount), 0)).where(
        BankLine.bank_account_id == account.id, BankLine.booked_on <= upto)
    if after is not None:
        query = query.where(BankLine.booked_on > after)
    return int(db.session.scalar(query))


def _anchors(account: BankAccount) -> list[tuple[date, int]]:
    """Balances the statements state: (day, balance at the end of that day)."""
    found = []
    for starts_on, ends_on, opening, closing in db.session.execute(
            sa.select(BankStatement.starts_on, BankStatement.ends_on,
                      BankStatement.opening_balance, BankStatement.closing_balance)
            .filter_by(bank_account_id=account.id)):
        if opening is not None:
            found.append((starts_on - timedelta(days=1), int(opening)))
        if closing is not None:
            found.append((ends_on, int(closing)))
    return sorted(found)


def statement_balance(account: BankAccount, on: date) -> int:
    """The bank's balance at the end of `on`: the latest balance a statement states on or
    before that day plus the lines after it; else the earliest later one less the lines in
    between; with no stated balance at all, the sum of the lines (from zero)."""
    anchors = _anchors(account)
    before = [a for a in anchors if a[0] <= on]
    if before:
        day, balance = before[-1]
        return balance + _lines_total(account, day, on)
    if anchors:
        day, balance = anchors[0]
        return balance - _lines_total(account, on, day)
    return _lines_total(account, None, on)


def first_day(account: BankAccount) -> date | None:
    """The first day any statement of the account covers."""
    return db.session.scalar(sa.select(sa.func.min(BankStatement.starts_on))
                             .filter_by(bank_account_id=account.id))


@dataclass
class ReconRow:
    """One reason the statement and the ledger differ: + for the statement's side."""

    day: date | None
    amount: int
    text: str
    line: BankLine | None = None
    entry_id: int | None = None


@dataclass
class Reconciliation:
    """The bank's balance against the ledger's on one day, and why they differ."""

    account: BankAccount
    on: date
    statement_balance: int
    ledger_balance: int
    rows: list[ReconRow] = field(default_factory=list)

    @property
    def difference(self) -> int:
        """Statement less ledger."""
        return self.statement_balance - self.ledger_balance

    @property
    def unexplained(self) -> int:
        """What the rows do not account for (the file's balances and lines disagree)."""
        return self.difference - sum(row.amount for row in self.rows)


def reconciliation(account: BankAccount, on: date) -> Reconciliation:
    """Statement balance, ledger balance and the difference on `on`, explained by the lines
    not in the ledger by then and the ledger's bank postings with no statement line."""
    ledger_of = account.ledger_account_id
    result = Reconciliation(account, on, statement_balance(account, on),
                            balances.account_balance(ledger_of, on).get(account.currency, 0))
    start = first_day(account)
    since = start - timedelta(days=1) if start else None
    if since is not None and since < on:
        gap = (statement_balance(account, since)
               - balances.account_balance(ledger_of, since).get(account.currency, 0))
        if gap:
            result.rows.append(ReconRow(since, gap, "Difference before the first statement "
                                        "(the ledger's opening bank balance differs)"))
    lines = db.session.scalars(
        sa.select(BankLine).options(so.selectinload(BankLine.entry))
        .outerjoin(JournalEntry, BankLine.entry_id == JournalEntry.id)
        .where(BankLine.bank_account_id == account.id, BankLine.booked_on <= on,
               sa.or_(BankLine.entry_id.is_(None), JournalEntry.occurred_on > on))
        .where(BankLine.booked_on > since if since else sa.true())
        .order_by(BankLine.booked_on, BankLine.id)).all()
    for line in lines:
        text = (f"Explained: {line.explanation}" if line.explanation
                else f"Matched to entry {line.entry_id}, dated after this day" if line.entry_id
                else "Statement line not in the ledger")
        result.rows.append(ReconRow(line.booked_on, line.amount,
                                    f"{text} \u2014 {line.description}", line=line))
    matched_by_then = sa.select(BankLine.entry_id).where(
        BankLine.entry_id.is_not(None), BankLine.bank_account_id == account.id,
        BankLine.booked_on <= on)
    postings = db.session.execute(
        sa.select(JournalEntry.id, JournalEntry.occurred_on, JournalEntry.kind,
                  JournalEntry.memo, sa.func.sum(Posting.amount))
        .join(Posting, Posting.entry_id == JournalEntry.id)
        .where(Posting.account_id == ledger_of, Posting.currency == account.currency,
               JournalEntry.occurred_on <= on, JournalEntry.id.not_in(matched_by_then))
        .where(JournalEntry.occurred_on > since if since else sa.true())
        .group_by(JournalEntry.id, JournalEntry.occurred_on, JournalEntry.kind, JournalEntry.memo)
        .order_by(JournalEntry.occurred_on, JournalEntry.id)).all()
    for entry_id, occurred_on, kind, memo, amount in postings:
        if amount:
            result.rows.append(ReconRow(occurred_on, -int(amount),
                                        f"Ledger {kind} with no statement line \u2014 {memo}",
                                        entry_id=entry_id))
    return result


#: Why a month is not reconciled when the bank moved and no bank account is set up.
NO_BANK_ACCOUNT = ("the bank moved this month, and no bank account is set up to reconcile "
                   "it with")


def months_problems(collective_id: int, months: list[date]) -> dict[date, list[str]]:
    """`month_problems` for whole months (their first days) at once: with no bank account,
    which months moved the ledger's bank account, in one read of the ledger totals."""
    if not months:
        return {}
    if bank_accounts(collective_id):
        return {month: month_problems(collective_id, month, month_end(month))
                for month in months}
    bank = ledger.account_by_code(collective_id, ledger.BANK)
    moved = {month for month, _, _, postings in totals.read_totals(
        collective_id, ["month"], accounts=[bank.id]) if postings}
    return {month: [NO_BANK_ACCOUNT] if month in moved else [] for month in months}


def month_problems(collective_id: int, first: date, last: date) -> list[str]:
    """Why the bank is not reconciled for the month (registered with the ledger's periods):
    every bank account needs statements through the month's last day, every line of the
    month matched or explained, and no difference with the ledger on the last day. With no
    bank account, a month is reconciled only if nothing moved the ledger's bank account."""
    accounts = bank_accounts(collective_id)
    if not accounts:
        bank = ledger.account_by_code(collective_id, ledger.BANK)
        moved = db.session.scalar(
            sa.select(sa.func.count()).select_from(Posting)
            .join(JournalEntry, Posting.entry_id == JournalEntry.id)
            .where(Posting.account_id == bank.id, JournalEntry.occurred_on.between(first, last)))
        return [NO_BANK_ACCOUNT] if moved else []
    problems = []
    for account in accounts:
        covered = db.session.scalar(sa.select(sa.func.max(BankStatement.ends_on))
                                    .filter_by(bank_account_id=account.id))
        if covered is None or covered < last:
            problems.append(f"{account.name}: no statement reaches {last.isoformat()}")
            continue
        start = first_day(account)
        if start > last:
            problems.append(f"{account.name}: no statement covers the month (the first "
                            f"starts {start.isoformat()})")
            continue
        open_lines = db.session.scalar(
            sa.select(sa.func.count()).select_from(BankLine)
            .where(BankLine.bank_account_id == account.id,
                   BankLine.booked_on.between(first, last),
                   BankLine.entry_id.is_(None), BankLine.explanation == ""))
        if open_lines:
            problems.append(f"{account.name}: {open_lines} statement line"
                            f"{'s' if open_lines != 1 else ''} not matched or explained")
        difference = reconciliation(account, last).difference
        if difference:
            problems.append(f"{account.name}: statement and ledger differ by "
                            f"{format_money(difference, account.currency)} on {last.isoformat()}")
    return problems

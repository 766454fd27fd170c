"""Bank accounts, statement imports, fee rules and explained lines. Services flush; the
edge commits. Matching a line to the ledger is collective.books.bank.matching."""
from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from collective.books.bank.importers import (
    MAX_FILE_BYTES,
    CsvMapping,
    ParsedStatement,
    StatementError,
    parse_csv,
)
from collective.books.bank.models import (
    BankAccount,
    BankLine,
    BankStatement,
    FeeRule,
    StatementFormat,
)
from collective.errors import Conflict, DomainError, NotFound
from collective.extensions import db
from collective.ledger import services as ledger
from collective.ledger.models import Account, AccountType, ClosedPeriod
from collective.members.models import Membership
from collective.members.services import require_role
from collective.money import MoneyError, check_currency
from collective.pool.checks import TREASURER, same_collective

#: How far after `today` a statement line may be dated (the bank's day may be ahead).
FUTURE_SLACK_DAYS = 1


def _treasurer(actor: Membership, action: str) -> None:
    require_role(actor, TREASURER, action=action)


def get_bank_account(collective_id: int, bank_account_id: int) -> BankAccount:
    """The collective's bank account with this id, or NotFound (a 404)."""
    account = db.session.get(BankAccount, bank_account_id)
    if account is None or account.collective_id != collective_id:
        raise NotFound("no such bank account in this collective")
    return account


def get_line(collective_id: int, line_id: int) -> BankLine:
    """The collective's statement line with this id, or NotFound (a 404)."""
    line = db.session.get(BankLine, line_id)
    if line is None or line.collective_id != collective_id:
        raise NotFound("no such statement line in this collective")
    return line


def create_bank_account(actor: Membership, *, name: str, currency: str,
                        ledger_account_id: int | None = None, number: str = "") -> BankAccount:
    """Add a bank account, booked on a ledger asset account (1000 Bank when none is given;
    0 makes a new asset account for it)."""
    _treasurer(actor, "add bank accounts")
    cid = actor.collective_id
    name = (name or "").strip()
    if not name:
        raise DomainError("give the account a name", field="name")
    try:
        currency = check_currency(currency)
    except MoneyError as exc:
        raise DomainError(str(exc), field="currency") from exc
    if db.session.scalar(sa.select(BankAccount.id).filter_by(collective_id=cid, name=name)):
        raise DomainError("a bank account has this name already", field="name")
    if ledger_account_id == 0:
        ledger_account = _new_asset_account(cid, name)
    elif ledger_account_id is None:
        ledger_account = ledger.account_by_code(cid, ledger.BANK)
    else:
        ledger_account = db.session.get(Account, ledger_account_id)
        if (ledger_account is None or ledger_account.collective_id != cid
                or ledger_account.type != AccountType.ASSET.value
                or ledger_account.membership_id is not None):
            raise DomainError("choose one of the collective's asset accounts",
                              field="ledger_account")
    if db.session.scalar(sa.select(BankAccount.id).filter_by(
            ledger_account_id=ledger_account.id, currency=currency)):
        raise DomainError(f"ledger account {ledger_account.code} already has a {currency} bank "
                          "account; give this one its own ledger account",
                          field="ledger_account")
    account = BankAccount(collective_id=cid, name=name[:120], currency=currency,
                          number=(number or "").strip()[:64], ledger_account_id=ledger_account.id)
    db.session.add(account)
    db.session.flush()
    return account


def _new_asset_account(collective_id: int, name: str) -> Account:
    """A new ledger asset account 1010, 1020, ... for another bank account."""
    codes = set(db.session.scalars(sa.select(Account.code).filter_by(collective_id=collective_id)))
    code = next(f"10{n}0" for n in range(1, 10) if f"10{n}0" not in codes)
    account = Account(collective_id=collective_id, code=code, name=f"Bank: {name}"[:120],
                      type=AccountType.ASSET.value)
    db.session.add(account)
    db.session.flush()
    return account


def save_csv_mapping(actor: Membership, account: BankAccount, mapping: CsvMapping) -> None:
    """Keep the CSV column mapping on the bank account for its next import."""
    _treasurer(actor, "change bank accounts")
    same_collective(actor, account, "bank account")
    mapping.check()
    account.csv_mapping = mapping.as_dict()
    db.session.flush()


def line_key(bank_account_id: int, booked_on: date, amount: int, reference: str,
             occurrence: int) -> str:
    """What makes a line the same line when a file is imported again: its account, date,
    amount and reference, and for identical lines of one file, which of them it is."""
    text = f"{bank_account_id}|{booked_on.isoformat()}|{amount}|{reference}|{occurrence}"
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class ImportResult:
    """What an import did: the statement recorded (None when nothing was new)."""

    statement: BankStatement | None
    line_count: int
    new_count: int
    skipped: int


def parse_file(account: BankAccount, fmt: str, data: bytes,
               mapping: CsvMapping | None = None) -> ParsedStatement:
    """The file read in its format, or StatementError naming the line."""
    if not data:
        raise StatementError("the file is empty")
    if len(data) > MAX_FILE_BYTES:
        raise StatementError(f"the file is larger than {MAX_FILE_BYTES // 1024 // 1024} MB")
    if fmt == StatementFormat.CSV:
        if mapping is None:
            raise DomainError("say which columns hold what before importing a CSV",
                              field="format")
        return parse_csv(data, mapping, account.currency)
    # The XML parsers load only when a statement needs them (start-up, bench/startup.py).
    if fmt == StatementFormat.OFX:
        from collective.books.bank.ofx import parse_ofx
        return parse_ofx(data, account.currency)
    if fmt == StatementFormat.CAMT053:
        from collective.books.bank.camt import parse_camt053
        return parse_camt053(data, account.currency)
    raise DomainError("choose CSV, OFX or CAMT.053", field="format")


def import_statement(actor: Membership, account: BankAccount, *, fmt: str, data: bytes,
                     filename: str = "", mapping: CsvMapping | None = None,
                     opening_balance: int | None = None, closing_balance: int | None = None,
                     today: date) -> ImportResult:
    """Import a statement file: every line not imported before is added; a line already
    imported (same key) is left alone. A bad file imports nothing. Balances given by hand
    (for a CSV) are used where the file states none."""
    _treasurer(actor, "import bank statements")
    same_collective(actor, account, "bank account")
    parsed = parse_file(account, fmt, data, mapping)
    if fmt == StatementFormat.CSV and mapping is not None:
        account.csv_mapping = mapping.as_dict()
    for line in parsed.lines:
        if line.booked_on > today + timedelta(days=FUTURE_SLACK_DAYS):
            raise StatementError(f"{line.booked_on.isoformat()} is in the future", line.line_no)
    seen: Counter[tuple] = Counter()
    keyed = []
    for line in parsed.lines:
        identity = (line.booked_on, line.amount, line.reference)
        seen[identity] += 1
        keyed.append((line_key(account.id, *identity, seen[identity]), line))
    existing = set(db.session.scalars(
        sa.select(BankLine.line_key).where(BankLine.line_key.in_([k for k, _ in keyed]))))
    new = [(key, line) for key, line in keyed if key not in existing]
    if not new:
        return ImportResult(None, len(keyed), 0, parsed.skipped)
    _refuse_closed_days(account.collective_id, new)
    days = [line.booked_on for line in parsed.lines]
    statement = BankStatement(
        collective_id=account.collective_id, bank_account_id=account.id, format=fmt,
        filename=(filename or "")[:200],
        starts_on=min(parsed.starts_on or min(days), min(days)),
        ends_on=max(parsed.ends_on or max(days), max(days)),
        opening_balance=(parsed.opening_balance if parsed.opening_balance is not None
                         else opening_balance),
        closing_balance=(parsed.closing_balance if parsed.closing_balance is not None
                         else closing_balance),
        line_count=len(keyed), new_count=len(new), imported_by_id=actor.user_id)
    try:
        with db.session.begin_nested():
            db.session.add(statement)
            db.session.flush()
            db.session.add_all(
                BankLine(collective_id=account.collective_id, bank_account_id=account.id,
                         statement_id=statement.id, booked_on=line.booked_on,
                         amount=line.amount, description=line.description,
                         reference=line.reference, line_key=key)
                for key, line in new)
            db.session.flush()
    except sa.exc.IntegrityError as exc:
        raise Conflict("these lines were being imported by someone else at the same "
                       "moment; import the file again to add what is missing",
                       field="file") from exc
    return ImportResult(statement, len(keyed), len(new), parsed.skipped)


def _refuse_closed_days(collective_id: int, new: list) -> None:
    """StatementError for the first new line dated in a closed month."""
    closed = db.session.execute(sa.select(ClosedPeriod.starts_on, ClosedPeriod.ends_on)
                                .filter_by(collective_id=collective_id)).all()
    for _key, line in new:
        if any(start <= line.booked_on <= end for start, end in closed):
            raise StatementError(f"{line.booked_on:%B %Y} is closed; reopen it to import "
                                 "lines dated in it", line.line_no)


def check_line_open(line: BankLine) -> None:
    """DomainError when the line's month is closed (its reconciliation is final)."""
    if db.session.scalar(sa.select(ClosedPeriod.id).where(
            ClosedPeriod.collective_id == line.collective_id,
            ClosedPeriod.starts_on <= line.booked_on, ClosedPeriod.ends_on >= line.booked_on)):
        raise DomainError(f"{line.booked_on:%B %Y} is closed; reopen it first", field="line")


def explain_line(actor: Membership, line: BankLine, note: str, *, now: datetime) -> BankLine:
    """Mark a line as needing no journal entry, saying why (a transfer between own
    accounts, say); it then counts as resolved."""
    _treasurer(actor, "explain statement lines")
    same_collective(actor, line, "statement line")
    note = (note or "").strip()
    if not note:
        raise DomainError("say why this line needs no entry", field="note")
    if line.is_resolved:
        raise Conflict("this line is matched or explained already", field="line")
    check_line_open(line)
    line.explanation, line.resolved_at, line.resolved_by_id = note[:500], now, actor.user_id
    db.session.flush()
    return line


def reopen_line(actor: Membership, line: BankLine) -> BankLine:
    """Undo a match or an explanation while the month is open; an entry a confirmation
    posted (a fee) stays in the ledger, to be reversed there if it was wrong."""
    _treasurer(actor, "change statement lines")
    same_collective(actor, line, "statement line")
    check_line_open(line)
    line.entry_id, line.explanation, line.resolved_at, line.resolved_by_id = None, "", None, None
    db.session.flush()
    return line


def add_fee_rule(actor: Membership, *, pattern: str, expense_account_id: int) -> FeeRule:
    """Lines whose description or reference holds `pattern` are suggested as fees booked on
    the expense account."""
    _treasurer(actor, "add fee rules")
    pattern = (pattern or "").strip()
    if len(pattern) < 3:
        raise DomainError("the text to look for needs at least 3 characters", field="pattern")
    account = db.session.get(Account, expense_account_id)
    if (account is None or account.collective_id != actor.collective_id
            or account.type != AccountType.EXPENSE.value):
        raise DomainError("choose one of the collective's expense accounts",
                          field="expense_account")
    if db.session.scalar(sa.select(FeeRule.id).where(
            FeeRule.collective_id == actor.collective_id,
            sa.func.lower(FeeRule.pattern) == pattern.lower())):
        raise DomainError("a rule looks for this text already", field="pattern")
    rule = FeeRule(collective_id=actor.collective_id, pattern=pattern[:100],
                   expense_account_id=account.id)
    db.session.add(rule)
    db.session.flush()
    return rule


def delete_fee_rule(actor: Membership, rule: FeeRule) -> None:
    """Remove a fee rule; the entries it posted stay."""
    _treasurer(actor, "remove fee rules")
    same_collective(actor, rule, "fee rule")
    db.session.delete(rule)
    db.session.flush()

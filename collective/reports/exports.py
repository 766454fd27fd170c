"""Streaming ledger exports: CSV (accounting and full presets), XLSX and Beancount.

Rows come from one ordered query read in chunks (a server-side cursor on PostgreSQL), so a
ledger of millions of postings is written with flat memory. Every format is deterministic:
the page, the CLI and any later caller get the same bytes for the same request.
"""
from __future__ import annotations

import csv
import io
import re
import shutil
import tempfile
import unicodedata
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import BinaryIO, NamedTuple

import sqlalchemy as sa
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.writer.excel import ExcelWriter
from sqlalchemy import orm as so

from collective.errors import DomainError
from collective.extensions import db
from collective.ledger import services as ledger
from collective.ledger.models import Account, AccountType, JournalEntry, Posting
from collective.members.models import Membership, User
from collective.members.services import base_currency
from collective.money import minor_digits
from collective.pool.models import ClientPayment

FORMATS = ("csv", "xlsx", "beancount")
PRESETS = ("accounting", "full")
ACCOUNTING_COLUMNS = ["date", "entry_id", "kind", "memo", "account_code", "account_name",
                      "member", "debit", "credit", "currency", "balance"]
FULL_COLUMNS = ACCOUNTING_COLUMNS + ["idempotency_key", "reverses_entry_id",
                                     "original_currency", "original_amount", "rate"]
CHUNK_ROWS = 5000
EARLIEST = date(2000, 1, 1)
#: Fixed zip timestamps, so an XLSX file is the same bytes whenever it is written.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class LedgerQuery:
    """Which part of a collective's ledger to export."""

    collective_id: int
    date_from: date
    date_to: date
    account_code: str | None = None
    membership_id: int | None = None
    kind: str | None = None


def check_range(date_from: date | None, date_to: date | None, today: date | None = None
                ) -> tuple[date, date]:
    """Both dates given, in order, and within reason; a clear error otherwise."""
    today = today or date.today()
    if date_from is None or date_to is None:
        raise DomainError("give both dates of the range", field="date_from")
    if date_from > date_to:
        raise DomainError("the start date is after the end date", field="date_from")
    latest = today + timedelta(days=366)
    for name, value in (("date_from", date_from), ("date_to", date_to)):
        if not EARLIEST <= value <= latest:
            raise DomainError(f"dates must lie between {EARLIEST.isoformat()} and "
                              f"{latest.isoformat()}", field=name)
    return date_from, date_to


class ExportRow(NamedTuple):
    """One posting as the exports see it; amounts in minor units."""

    occurred_on: date
    entry_id: int
    kind: str
    memo: str
    idempotency_key: str
    reverses_id: int | None
    account_id: int
    account_code: str
    account_name: str
    account_type: str
    member: str
    amount: int
    currency: str
    balance: int  # natural balance of the account in this currency after this posting
    original_currency: str | None
    original_amount: int | None
    rate: Decimal | None


#: Account types whose natural balance is the debit side.
DEBIT_NORMAL = frozenset(t.value for t in AccountType if t.is_debit_normal)


def _natural(account_type: str, signed: int) -> int:
    return signed if account_type in DEBIT_NORMAL else -signed


def _filters(q: LedgerQuery, whole_entries: bool = False) -> list:
    """Conditions for the query's postings; with whole_entries, every posting of each entry
    that touches the account or member filtered on (so each entry still balances)."""
    conditions = [JournalEntry.collective_id == q.collective_id]
    account_filters = []
    if q.account_code:
        account_filters.append(Account.code == q.account_code)
    if q.membership_id is not None:
        account_filters.append(Account.membership_id == q.membership_id)
    if account_filters and whole_entries:
        touching = (sa.select(Posting.entry_id).join(Account, Account.id == Posting.account_id)
                    .where(Account.collective_id == q.collective_id, *account_filters))
        conditions.append(JournalEntry.id.in_(touching))
    else:
        conditions += account_filters
    if q.kind:
        conditions.append(JournalEntry.kind == q.kind)
    return conditions


def opening_balances(q: LedgerQuery, whole_entries: bool = False
                     ) -> dict[tuple[int, str], int]:
    """Signed balance of each (account, currency) before the range starts."""
    rows = db.session.execute(
        sa.select(Posting.account_id, Posting.currency, sa.func.sum(Posting.amount))
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .join(Account, Account.id == Posting.account_id)
        .where(*_filters(q, whole_entries), JournalEntry.occurred_on < q.date_from)
        .group_by(Posting.account_id, Posting.currency)).all()
    return {(a, c): int(total) for a, c, total in rows if total}


Progress = Callable[[int], None] | None


def _stream(query: sa.Select) -> Iterator[sa.Row]:
    """Rows of a Core query from the session's connection, fetched in chunks (a server-side
    cursor on PostgreSQL), without the ORM's per-row work."""
    result = db.session.connection().execute(query)
    for partition in result.partitions():
        yield from partition


def iter_rows(q: LedgerQuery, chunk: int = CHUNK_ROWS, progress: Progress = None,
              whole_entries: bool = False) -> Iterator[ExportRow]:
    """Every posting in the range, by date, entry and posting, with running balances.

    `progress(n)` is told every `chunk` rows (for a progress bar).
    """
    balances = defaultdict(int, opening_balances(q, whole_entries))
    member = so.aliased(User)
    query = (
        sa.select(JournalEntry.occurred_on, JournalEntry.id, JournalEntry.kind,
                  JournalEntry.memo, JournalEntry.idempotency_key, JournalEntry.reverses_id,
                  Account.id, Account.code, Account.name, Account.type, member.name, Posting.amount,
                  Posting.currency, ClientPayment.currency, ClientPayment.amount,
                  ClientPayment.rate)
        .select_from(Posting)
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .join(Account, Account.id == Posting.account_id)
        .outerjoin(Membership, Membership.id == Account.membership_id)
        .outerjoin(member, member.id == Membership.user_id)
        .outerjoin(ClientPayment, ClientPayment.entry_id == JournalEntry.id)
        .where(*_filters(q, whole_entries), JournalEntry.occurred_on >= q.date_from,
               JournalEntry.occurred_on <= q.date_to)
        .order_by(JournalEntry.occurred_on, JournalEntry.id, Posting.id)
        .execution_options(stream_results=True, yield_per=chunk)
    )
    seen = 0
    for (day, entry_id, kind, memo, key, reverses, account_id, code, name, type_, member_name,
         amount, currency, orig_currency, orig_amount, rate) in _stream(query):
        seen += 1
        if progress is not None and seen % chunk == 0:
            progress(chunk)
        balances[(account_id, currency)] += amount
        yield ExportRow(day, entry_id, kind, memo, key, reverses, account_id, code, name, type_,
                        member_name or "", int(amount), currency,
                        _natural(type_, balances[(account_id, currency)]),
                        orig_currency, None if orig_amount is None else int(orig_amount), rate)
    if progress is not None:
        progress(seen % chunk)


class Amounts:
    """Minor units to exact decimal strings or Decimals, per currency (cached digits)."""

    def __init__(self) -> None:
        self._digits: dict[str, int] = {}

    def digits(self, currency: str) -> int:
        """Decimal places of the currency."""
        if currency not in self._digits:
            self._digits[currency] = minor_digits(currency)
        return self._digits[currency]

    def text(self, amount: int | None, currency: str | None) -> str:
        """'1234.50' (no thousands separator), or '' for nothing."""
        if amount is None or currency is None:
            return ""
        digits = self.digits(currency)
        if not digits:
            return str(amount)
        whole, part = divmod(abs(amount), 10**digits)
        return f"{'-' if amount < 0 else ''}{whole}.{part:0{digits}d}"

    def number(self, amount: int, currency: str) -> Decimal:
        """The exact Decimal in major units."""
        return Decimal(amount).scaleb(-self.digits(currency))


#: A spreadsheet treats text starting with these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: str) -> str:
    """Text a spreadsheet opens as text: a leading formula character gets a quote before
    it (a member named '=HYPERLINK(...)' stays a name)."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _row_values(row: ExportRow, amounts: Amounts, full: bool) -> list:
    debit = row.amount if row.amount > 0 else None
    credit = -row.amount if row.amount < 0 else None
    values = [row.occurred_on.isoformat(), row.entry_id, row.kind, safe_text(row.memo),
              row.account_code, safe_text(row.account_name), safe_text(row.member),
              amounts.text(debit, row.currency),
              amounts.text(credit, row.currency), row.currency,
              amounts.text(row.balance, row.currency)]
    if full:
        values += [row.idempotency_key, row.reverses_id or "", row.original_currency or "",
                   amounts.text(row.original_amount, row.original_currency),
                   "" if row.rate is None else format(row.rate.normalize(), "f")]
    return values


def csv_chunks(q: LedgerQuery, preset: str = "accounting", batch: int = 1000,
               progress: Progress = None) -> Iterator[bytes]:
    """The ledger as UTF-8 CSV, in chunks of about `batch` rows."""
    if preset not in PRESETS:
        raise DomainError(f"the preset is one of {', '.join(PRESETS)}", field="preset")
    full = preset == "full"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(FULL_COLUMNS if full else ACCOUNTING_COLUMNS)
    amounts = Amounts()
    for count, row in enumerate(iter_rows(q, progress=progress), start=1):
        writer.writerow(_row_values(row, amounts, full))
        if count % batch == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


# --- XLSX ------------------------------------------------------------------------------------


def _number_format(currency: str, digits: int) -> str:
    decimals = "." + "0" * digits if digits else ""
    return f'#,##0{decimals} "{currency}";-#,##0{decimals} "{currency}"'


def _xlsx_cells(sheet, values: list, formats: dict[int, str]) -> list:
    cells = []
    for index, value in enumerate(values):
        cell = WriteOnlyCell(sheet, value=value)
        if isinstance(value, str) and value.startswith("="):
            cell.data_type = "s"  # text, never a formula
        if index in formats and value is not None:
            cell.number_format = formats[index]
        cells.append(cell)
    return cells


def write_xlsx(q: LedgerQuery, out: BinaryIO, progress: Progress = None) -> None:
    """The ledger as an XLSX workbook: postings, trial balance, and one sheet per fund."""
    workbook = Workbook(write_only=True)
    amounts = Amounts()
    formats_cache: dict[str, str] = {}

    def fmt(currency: str) -> str:
        if currency not in formats_cache:
            formats_cache[currency] = _number_format(currency, amounts.digits(currency))
        return formats_cache[currency]

    def posting_sheet(title: str, query: LedgerQuery, progress: Progress = None) -> None:
        sheet = workbook.create_sheet(title)
        sheet.append(["Date", "Entry", "Kind", "Memo", "Account", "Account name", "Member",
                      "Debit", "Credit", "Currency", "Balance"])
        for row in iter_rows(query, progress=progress):
            money = fmt(row.currency)
            values = [row.occurred_on, row.entry_id, row.kind, row.memo, row.account_code,
                      row.account_name, row.member,
                      amounts.number(row.amount, row.currency) if row.amount > 0 else None,
                      amounts.number(-row.amount, row.currency) if row.amount < 0 else None,
                      row.currency, amounts.number(row.balance, row.currency)]
            sheet.append(_xlsx_cells(sheet, values, {0: "yyyy-mm-dd", 7: money, 8: money,
                                                      10: money}))

    posting_sheet("Postings", q, progress)
    balance_sheet = workbook.create_sheet("Trial balance")
    balance_sheet.append([f"Trial balance as of {q.date_to.isoformat()}"])
    balance_sheet.append(["Account", "Account name", "Type", "Currency", "Debits", "Credits",
                          "Balance"])
    for row in ledger.trial_balance(q.collective_id, q.date_to):
        money = fmt(row.currency)
        values = [row.code, row.name, row.type, row.currency,
                  amounts.number(row.debits, row.currency),
                  amounts.number(row.credits, row.currency),
                  amounts.number(row.natural_balance, row.currency)]
        balance_sheet.append(_xlsx_cells(balance_sheet, values, {4: money, 5: money, 6: money}))
    for code, title in ((ledger.COMMON_FUND, "Common fund"),
                        (ledger.BENEFITS_FUND, "Benefits fund")):
        posting_sheet(title, LedgerQuery(q.collective_id, q.date_from, q.date_to,
                                         account_code=code))
    stamp = datetime.combine(q.date_to, datetime.min.time())
    workbook.properties.created = stamp
    workbook.properties.modified = stamp
    workbook.properties.creator = "Collective"
    with tempfile.TemporaryFile() as raw:
        with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
            ExcelWriter(workbook, archive).save()
        raw.seek(0)
        _normalise_zip(raw, out)


def _normalise_zip(source: BinaryIO, out: BinaryIO) -> None:
    """Copy a zip with every entry's timestamp fixed, streaming each entry."""
    with zipfile.ZipFile(source) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=ZIP_EPOCH)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            with src.open(info) as reader, dst.open(fixed, "w", force_zip64=True) as writer:
                shutil.copyfileobj(reader, writer, 1 << 20)


def xlsx_chunks(q: LedgerQuery, size: int = 1 << 16, progress: Progress = None
                ) -> Iterator[bytes]:
    """The XLSX workbook as byte chunks (built in a temporary file first)."""
    with tempfile.TemporaryFile() as out:
        write_xlsx(q, out, progress)
        out.seek(0)
        while chunk := out.read(size):
            yield chunk


# --- Beancount ---------------------------------------------------------------------------------

_ROOTS = {"asset": "Assets", "liability": "Liabilities", "equity": "Equity",
          "income": "Income", "expense": "Expenses"}
OPENING_ACCOUNT = "Equity:Opening-Balances"


def _component(text: str) -> str:
    """A Beancount account component: ASCII letters, digits and dashes, capital first."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[A-Za-z0-9]+", ascii_text)
    name = "-".join(w[:1].upper() + w[1:] for w in words) or "X"
    return name if name[0].isalpha() else f"A{name}"


def beancount_account(account_type: str, code: str, name: str) -> str:
    """Beancount name of an account, e.g. 'Liabilities:Members:Payable-To-Maria-Santos-2100-7'."""
    root = _ROOTS[account_type]
    if code.startswith(ledger.MEMBER_PAYABLE_PREFIX + "-"):
        return f"{root}:Members:{_component(name)}-{code}"
    return f"{root}:{_component(name)}"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def beancount_chunks(q: LedgerQuery, progress: Progress = None) -> Iterator[bytes]:
    """The ledger as a Beancount file that bean-check accepts: open directives, opening
    balances, every entry as a transaction, and monthly balance assertions for the bank and
    the funds."""
    amounts = Amounts()
    accounts = db.session.execute(
        sa.select(Account.id, Account.type, Account.code, Account.name)
        .where(Account.collective_id == q.collective_id)).all()
    names = {a_id: beancount_account(t, code, name) for a_id, t, code, name in accounts}
    watched = {a_id for a_id, _, code, _ in accounts
               if code in (ledger.BANK, ledger.COMMON_FUND, ledger.BENEFITS_FUND)}
    used = db.session.scalars(
        sa.select(Posting.account_id).distinct()
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .join(Account, Account.id == Posting.account_id)
        .where(*_filters(q, whole_entries=True), JournalEntry.occurred_on <= q.date_to)).all()
    open_on = q.date_from - timedelta(days=1)
    lines = [f"; Ledger of collective {q.collective_id}, {q.date_from} to {q.date_to}",
             'option "operating_currency" "' + base_currency(q.collective_id) + '"', ""]
    lines.append(f"{open_on.isoformat()} open {OPENING_ACCOUNT}")
    lines += [f"{open_on.isoformat()} open {names[a]}" for a in sorted(used, key=names.get)]
    lines.append("")
    # Beancount needs whole entries: a filter on an account or member keeps every posting
    # of the entries that touch it, so each transaction balances.
    opening = opening_balances(q, whole_entries=True)
    balances: dict[tuple[int, str], int] = defaultdict(int, opening)
    if opening:
        lines.append(f'{open_on.isoformat()} * "Opening balances"')
        for (account_id, currency), amount in sorted(opening.items(),
                                                     key=lambda kv: names[kv[0][0]]):
            lines.append(f"  {names[account_id]}  {amounts.text(amount, currency)} {currency}")
        totals: dict[str, int] = defaultdict(int)
        for (_, currency), amount in opening.items():
            totals[currency] += amount
        for currency, total in sorted(totals.items()):
            if total:
                lines.append(f"  {OPENING_ACCOUNT}  {amounts.text(-total, currency)} {currency}")
        lines.append("")
    yield ("\n".join(lines) + "\n").encode()

    def assertions(on: date) -> str:
        out = [f"{on.isoformat()} balance {names[a]}  {amounts.text(v, c)} {c}"
               for (a, c), v in sorted(balances.items(), key=lambda kv: names[kv[0][0]])
               if a in watched]
        return "\n".join(out) + "\n\n" if out else ""

    current: list[ExportRow] = []
    month = None
    buffer: list[str] = []

    def flush_entry() -> None:
        if not current:
            return
        first = current[0]
        meta = [f"  entry: {_quote(str(first.entry_id))}",
                f"  key: {_quote(first.idempotency_key)}", f"  kind: {_quote(first.kind)}"]
        if first.reverses_id:
            meta.append(f"  reverses: {_quote(str(first.reverses_id))}")
        if first.original_currency:
            original = amounts.text(first.original_amount, first.original_currency)
            meta.append(f"  original: {_quote(original + ' ' + first.original_currency)}")
            meta.append(f"  rate: {_quote(format(first.rate.normalize(), 'f'))}")
        buffer.append(f"{first.occurred_on.isoformat()} * {_quote(first.memo or first.kind)}")
        buffer.extend(meta)
        for row in current:
            buffer.append(f"  {names[row.account_id]}  {amounts.text(row.amount, row.currency)} "
                          f"{row.currency}")
        buffer.append("")
        current.clear()

    for row in iter_rows(q, progress=progress, whole_entries=True):
        row_month = (row.occurred_on.year, row.occurred_on.month)
        if current and current[0].entry_id != row.entry_id:
            flush_entry()
        if month is not None and row_month != month:
            flush_entry()
            buffer.append(assertions(date(row_month[0], row_month[1], 1)))
        month = row_month
        current.append(row)
        balances[(row.account_id, row.currency)] += row.amount
        if len(buffer) > 2000:
            yield ("\n".join(buffer) + "\n").encode()
            buffer.clear()
    flush_entry()
    buffer.append(assertions(q.date_to + timedelta(days=1)))
    yield ("\n".join(buffer) + "\n").encode()


def export_chunks(q: LedgerQuery, fmt: str, preset: str = "accounting",
                  progress: Progress = None) -> Iterator[bytes]:
    """The export in `fmt` as byte chunks: what the page, the CLI and the API all call."""
    if fmt == "csv":
        if preset not in PRESETS:
            raise DomainError(f"the preset is one of {', '.join(PRESETS)}", field="preset")
        return csv_chunks(q, preset, progress=progress)
    if fmt == "xlsx":
        return xlsx_chunks(q, progress=progress)
    if fmt == "beancount":
        return beancount_chunks(q, progress)
    raise DomainError(f"the format is one of {', '.join(FORMATS)}", field="format")


MEDIA_TYPES = {"csv": "text/csv; charset=utf-8",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               "beancount": "text/plain; charset=utf-8"}
EXTENSIONS = {"csv": "csv", "xlsx": "xlsx", "beancount": "beancount"}


def filename(slug: str, q: LedgerQuery, fmt: str) -> str:
    """A file name that says what is inside."""
    return f"{slug}-ledger-{q.date_from.isoformat()}-{q.date_to.isoformat()}.{EXTENSIONS[fmt]}"


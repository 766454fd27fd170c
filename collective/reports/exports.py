"""Streaming ledger exports: the rows every format reads, CSV (accounting and full
presets), and `export_chunks`, which picks the format (reports/xlsx.py, reports/beancount.py).

Rows come from one ordered query read in chunks (a server-side cursor on PostgreSQL), so a
ledger of millions of postings is written with flat memory. Every format is deterministic:
the page, the CLI and any later caller get the same bytes for the same request.
"""
from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective.errors import DomainError
from collective.extensions import db
from collective.ledger.models import Account, AccountType, JournalEntry, Posting
from collective.members.models import Membership, User
from collective.money import minor_digits
from collective.pool.models import ClientPayment
from collective.web.formatting import safe_text

FORMATS = ("csv", "xlsx", "beancount")
PRESETS = ("accounting", "full")
ACCOUNTING_COLUMNS = ["date", "entry_id", "kind", "memo", "account_code", "account_name",
                      "member", "debit", "credit", "currency", "balance"]
FULL_COLUMNS = ACCOUNTING_COLUMNS + ["idempotency_key", "reverses_entry_id",
                                     "original_currency", "original_amount", "rate"]
CHUNK_ROWS = 5000
EARLIEST = date(2000, 1, 1)


@dataclass(frozen=True)
class LedgerQuery:
    """Which part of a collective's ledger to export."""

    collective_id: int
    date_from: date
    date_to: date
    account_code: str | None = None
    membership_id: int | None = None
    kind: str | None = None


def check_range(date_from: date | None, date_to: date | None, today: date
                ) -> tuple[date, date]:
    """Both dates given, in order, and within reason (up to a year past `today`); a clear
    error otherwise."""
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


def filters(q: LedgerQuery, whole_entries: bool = False) -> list:
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
        .where(*filters(q, whole_entries), JournalEntry.occurred_on < q.date_from)
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
        .where(*filters(q, whole_entries), JournalEntry.occurred_on >= q.date_from,
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


def check_preset(preset: str) -> str:
    """A known CSV preset, or DomainError."""
    if preset not in PRESETS:
        raise DomainError(f"the preset is one of {', '.join(PRESETS)}", field="preset")
    return preset


def csv_chunks(q: LedgerQuery, preset: str = "accounting", progress: Progress = None
               ) -> Iterator[bytes]:
    """The ledger as UTF-8 CSV: formatted by PostgreSQL with the balances added as it
    streams (reports/csv_copy.py), formatted and balanced by SQLite (reports/csv_sql.py),
    or row by row in Python on any other database."""
    check_preset(preset)
    dialect = db.session.get_bind().dialect.name
    if dialect not in ("postgresql", "sqlite"):
        return python_csv_chunks(q, preset, progress=progress)
    params = {"collective_id": q.collective_id, "date_from": q.date_from,
              "date_to": q.date_to}
    if q.account_code:
        params["account_code"] = q.account_code
    if q.membership_id is not None:
        params["membership_id"] = q.membership_id
    if q.kind:
        params["kind"] = q.kind
    header = (",".join(FULL_COLUMNS if preset == "full" else ACCOUNTING_COLUMNS) + "\n").encode()
    shape = {"account_code": bool(q.account_code), "membership": q.membership_id is not None,
             "kind": bool(q.kind)}
    if dialect == "postgresql":
        from collective.reports import csv_copy

        return csv_copy.copy_csv_lines(header, params, preset == "full", shape,
                                       progress=progress)
    from collective.reports import csv_sql

    sql = csv_sql.line_query(preset == "full", **shape)
    return csv_sql.sql_csv_lines(header, params, sql, progress=progress)


def python_csv_chunks(q: LedgerQuery, preset: str = "accounting", batch: int = 1000,
                      progress: Progress = None) -> Iterator[bytes]:
    """The ledger as UTF-8 CSV written row by row in Python, in chunks of about `batch`
    rows: the reference the database's CSV (csv_sql.py) is tested against."""
    check_preset(preset)
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


def export_chunks(q: LedgerQuery, fmt: str, preset: str = "accounting",
                  progress: Progress = None) -> Iterator[bytes]:
    """The export in `fmt` as byte chunks: what the page, the CLI and the API all call.
    A bad format or preset is refused here, before the first chunk."""
    if fmt == "csv":
        return csv_chunks(q, check_preset(preset), progress=progress)
    if fmt == "xlsx":
        from collective.reports.xlsx import xlsx_chunks

        return xlsx_chunks(q, progress=progress)
    if fmt == "beancount":
        from collective.reports.beancount import beancount_chunks

        return beancount_chunks(q, progress)
    raise DomainError(f"the format is one of {', '.join(FORMATS)}", field="format")


MEDIA_TYPES = {"csv": "text/csv; charset=utf-8",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               "beancount": "text/plain; charset=utf-8"}
EXTENSIONS = {"csv": "csv", "xlsx": "xlsx", "beancount": "beancount"}


def filename(slug: str, q: LedgerQuery, fmt: str) -> str:
    """A file name that says what is inside."""
    return f"{slug}-ledger-{q.date_from.isoformat()}-{q.date_to.isoformat()}.{EXTENSIONS[fmt]}"


"""The ledger's CSV on PostgreSQL: the database joins, sorts and formats each posting's
fields and streams them through COPY ... TO STDOUT; Python keeps each account's running
balance as the lines go by and writes it in.

A window sum would have the database sort every posting a second time (by account, for the
partitions, then back into export order): at a million postings that sort and the window
cost twice the whole COPY. The lines already come in export order, so a running balance is
one addition per line in Python, done while the database is still sending.

One statement gives everything, so it all comes from one snapshot: first a row per account
of the collective and per opening balance (JSON in the memo's column, with no date), then
the postings. Each posting's line is
`date,entry_id,kind,memo[,idempotency_key,reverses_id,orig_currency,orig_amount,rate],
account_id,debit,credit,currency,amount`. Only the memo and the idempotency key can hold a
comma or a quote, and they come before the fields split off the end.

The bytes are the row-by-row writer's (exports.python_csv_chunks). Python writes the
account's columns as PostgreSQL writes the rest of the line, so each line is one CSV
dialect; a chunk holding a carriage return (which PostgreSQL quotes and Python 3.11 leaves
bare) is then read and written again by the csv module.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from decimal import Decimal
from functools import cache

from collective.extensions import db
from collective.money import minor_digits
from collective.reports.csv_sql import filter_sql, minor_scales, quoted_characters, safe_sql
from collective.reports.exports import DEBIT_NORMAL, Amounts
from collective.web.formatting import safe_text

#: Lines joined into one chunk of bytes before it is handed on.
CHUNK_LINES = 1000
#: Fields after the entry's part of a line: account, debit, credit, currency, amount, id.
_POSTING_FIELDS = 6
_CENTS = b"%s,%s,%s,%s,%s,%d.%02d%s\n"
_MINUS_CENTS = b"%s,%s,%s,%s,%s,-%d.%02d%s\n"
_OTHER_DECIMALS = b"%s,%s,%s,%s,%s,%s%s\n"


@cache
def _unit(currency: str) -> str:
    """SQL: one minor unit of the currency as a numeric whose scale is its decimal places
    (0.01 for most). The hashed IN (PostgreSQL 14 and later) keeps the common case at one
    probe instead of a comparison per listed currency."""
    odd = minor_scales()
    cases = " ".join(f"WHEN '{code}' THEN {1 / Decimal(scale)}" for code, scale in odd.items())
    listed = ", ".join(f"'{code}'" for code in odd)
    return (f"CASE WHEN {currency} IN ({listed}) THEN CASE {currency} {cases} END "
            f"ELSE 0.01 END")


def copy_query(full: bool, account_code: bool, membership: bool, kind: bool) -> str:
    """The SELECT for COPY: the accounts and opening balances, then each posting of the
    range in export order. Parameters as exports.csv_chunks passes them."""
    conditions = filter_sql("%({})s", account_code, membership, kind)
    joins = "FROM postings p JOIN journal_entries e ON e.id = p.entry_id"
    if account_code or membership:
        joins += " JOIN accounts a ON a.id = p.account_id"
    unit = _unit("p.currency")
    entry = ["e.occurred_on", "e.id", "e.kind", f"NULLIF({safe_sql('e.memo', 'chr')}, '')"]
    payments = ""
    if full:
        entry += ["NULLIF(e.idempotency_key, '')", "e.reverses_id", "cp.currency",
                  f"cp.amount * {_unit('cp.currency')}",
                  "rtrim(rtrim(CAST(cp.rate AS TEXT), '0'), '.')"]
        payments = "LEFT JOIN client_payments cp ON cp.entry_id = e.id"
    posting = ["p.account_id", f"CASE WHEN p.amount > 0 THEN p.amount * {unit} END",
               f"CASE WHEN p.amount < 0 THEN -p.amount * {unit} END", "p.currency",
               "p.amount"]
    # The posting's id only orders the lines (it follows the amount on each line).
    blank = ", ".join(["NULL"] * (len(entry) + len(posting) - 4))
    columns = ", ".join(entry + posting + ["p.id"])
    return (
        # Prefix rows: no date, their JSON where the memo goes, NULLs to the width.
        f"SELECT NULL::date, NULL::integer, NULL, info, {blank}, NULL::integer "
        "FROM (SELECT json_build_object('account', a.id, 'type', a.type, 'code', a.code, "
        "'name', a.name, 'member', u.name)::text AS info FROM accounts a "
        "LEFT JOIN memberships m ON m.id = a.membership_id "
        "LEFT JOIN users u ON u.id = m.user_id WHERE a.collective_id = %(collective_id)s "
        "UNION ALL SELECT json_build_object('account', p.account_id, 'currency', p.currency, "
        f"'opening', SUM(p.amount))::text {joins} WHERE {conditions} "
        "AND e.occurred_on < %(date_from)s GROUP BY p.account_id, p.currency) AS prefix "
        f"UNION ALL SELECT {columns} {joins} {payments} WHERE {conditions} "
        "AND e.occurred_on >= %(date_from)s AND e.occurred_on <= %(date_to)s "
        f"ORDER BY 1 NULLS FIRST, 2, {len(entry) + len(posting) + 1}"
    )


def copy_csv_lines(header: bytes, params: dict, full: bool, shape: dict,
                   chunk: int = CHUNK_LINES, progress=None) -> Iterator[bytes]:
    """The header, then each posting's CSV line with its running balance, in chunks of
    `chunk` lines, read in the session's transaction through COPY (copy_query with
    `full` and the filters `shape` names)."""
    sql = copy_query(full, **shape)
    raw = db.session.connection().connection.driver_connection
    with raw.cursor() as cursor:
        # For this transaction: no JIT (compiling the expressions costs more than one pass
        # gains), and ISO dates whatever the server's style.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL datestyle = 'ISO, YMD'")
        with cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params):
            lines = _balanced_lines(raw.pgconn, full, chunk, progress)
            yield header + next(lines, b"")
            yield from lines


class _Accounts:
    """What the prefix rows say: each account's natural sign and CSV columns, and the
    opening balance of each account and currency."""

    def __init__(self) -> None:
        self.columns: dict[bytes, tuple[int, bytes]] = {}
        self.opening: dict[bytes, int] = {}

    def read(self, line: bytes) -> None:
        """Take in one prefix row (its JSON is the fourth field)."""
        info = json.loads(next(csv.reader([line.decode()]))[3])
        account = str(info["account"]).encode()
        if "opening" in info:
            self.opening[account + info["currency"].encode()] = int(info["opening"])
            return
        # Written as PostgreSQL writes the rest of the line, so that a carriage return in
        # a name is mended with the others (_as_python_writes).
        columns = b",".join(_pg_text(text) for text in (
            info["code"], safe_text(info["name"]), safe_text(info["member"] or "")))
        sign = 1 if info["type"] in DEBIT_NORMAL else -1
        self.columns[account] = (sign, columns)

    def start(self, account: bytes, currency: bytes) -> list:
        """A running balance's state: [natural balance so far, sign, the account's
        columns, whether the currency has cents]."""
        sign, columns = self.columns[account]
        opening = sign * self.opening.get(account + currency, 0)
        return [opening, sign, columns, minor_digits(currency.decode()) == 2]


def _full_fields(entry: bytes) -> tuple[bytes, bytes]:
    """The full preset's entry part split in two, as PostgreSQL wrote it: what comes before
    the account's columns, and what comes after the balance (idempotency key, reversed
    entry, original currency, amount and rate)."""
    head, reverses, currency, amount, rate = entry.rsplit(b",", 4)
    if b'"' in head:  # the memo or the key is quoted: find where the key begins
        key = _pg_text(next(csv.reader([head.decode()]))[-1])
        head = head[:-len(key) - 1]
    else:
        head, key = head.rsplit(b",", 1)
    return head, b"," + b",".join((key, reverses, currency, amount, rate))


def _pg_text(value: str) -> bytes:
    """A text field as PostgreSQL's COPY writes it in CSV (an empty one as NULL)."""
    if any(char in value for char in ',"\n\r'):
        value = '"' + value.replace('"', '""') + '"'
    return value.encode()


def _balanced_lines(pgconn, full: bool, chunk: int, progress) -> Iterator[bytes]:
    """The COPY's lines with their balances written in, `chunk` lines at a time.

    The loop is the export's hot path (once per posting): it splits the line's end off,
    adds the amount to its account's balance and formats it, with nothing else per line.
    """
    read = pgconn.get_copy_data
    accounts = _Accounts()
    size, data = read(0)
    while size > 0 and data[0] == 44:  # a prefix row: it has no date
        accounts.read(bytes(data))
        size, data = read(0)
    amounts, state, rewrite = Amounts(), {}, "\r" not in quoted_characters()
    lines: list[bytes] = []
    append, tail = lines.append, b""
    while size > 0:
        for _ in range(chunk):
            entry, account, debit, credit, currency, amount, _id = bytes(data).rsplit(
                b",", _POSTING_FIELDS)
            if full:
                entry, tail = _full_fields(entry)
            try:
                balance = state[account + currency]
            except KeyError:
                balance = state[account + currency] = accounts.start(account, currency)
            value = balance[0] = balance[0] + balance[1] * int(amount)
            if not balance[3]:
                text = amounts.text(value, currency.decode()).encode()
                append(_OTHER_DECIMALS % (entry, balance[2], debit, credit, currency, text, tail))
            elif value < 0:
                append(_MINUS_CENTS % (entry, balance[2], debit, credit, currency,
                                       *divmod(-value, 100), tail))
            else:
                append(_CENTS % (entry, balance[2], debit, credit, currency,
                                 *divmod(value, 100), tail))
            size, data = read(0)
            if size <= 0:
                break
        if progress is not None:
            progress(len(lines))
        block = b"".join(lines)
        lines.clear()
        yield _as_python_writes(block) if rewrite and b"\r" in block else block
    _finish_copy(pgconn)


def _as_python_writes(block: bytes) -> bytes:
    """Whole CSV lines read and written again by Python's csv module: a field holding a
    carriage return loses the quotes PostgreSQL gave it (Python 3.11 leaves it bare)."""
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(
        csv.reader(io.StringIO(block.decode(), newline="")))
    return text.getvalue().encode()


def _finish_copy(pgconn) -> None:
    """Take the COPY's final results off the connection (libpq wants them read before the
    next query); raise if the query failed."""
    import psycopg
    from psycopg import pq

    failure = None
    while (result := pgconn.get_result()) is not None:
        if result.status != pq.ExecStatus.COMMAND_OK and failure is None:
            failure = result.get_error_field(pq.DiagnosticField.MESSAGE_PRIMARY)
    if failure is not None:
        raise psycopg.DatabaseError(f"the ledger export failed: {failure.decode()}")

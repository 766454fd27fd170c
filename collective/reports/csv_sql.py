"""The ledger's CSV written by the database: one query formats each posting as its finished
CSV line, running balance included, and the rows stream out (PostgreSQL's COPY, or a
cursor read in chunks on SQLite). Python only joins lines and writes bytes.

The lines are the same bytes as the row-by-row writer in exports.py (`python_csv_chunks`,
which stays as the reference and the fallback for other databases): Python's csv quoting
(QUOTE_MINIMAL, '\\n' line ends), the spreadsheet-formula guard of web/formatting.safe_text,
amounts with each currency's decimal places, and rates without trailing zeros. The running
balance is the opening balance of the (account, currency) plus a window sum over the
postings in export order.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import date
from functools import lru_cache

from collective.extensions import db
from collective.money import currency_codes, minor_digits
from collective.web.formatting import FORMULA_STARTS

#: Lines joined into one chunk of bytes before it is handed on.
CHUNK_LINES = 5000

#: COPY's text format escapes these (backslash + letter); the lines hold them raw.
_COPY_ESCAPES = {b"\\": b"\\", b"b": b"\b", b"f": b"\f", b"n": b"\n", b"r": b"\r",
                 b"t": b"\t", b"v": b"\v"}
_COPY_ESCAPE = re.compile(rb"\\([\\bfnrtv])")


@lru_cache(maxsize=1)
def _quoted_characters() -> tuple[str, ...]:
    """The characters that make Python's csv writer (as exports.py configures it) quote a
    field; measured, since Python 3.12 and 3.11 differ about a lone carriage return."""
    candidates = (",", '"', "\n", "\r")
    quoted = []
    for char in candidates:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow(["a" + char, "b"])
        if buffer.getvalue().startswith('"'):
            quoted.append(char)
    return tuple(quoted)


@lru_cache(maxsize=1)
def _scales() -> dict[str, int]:
    """10 ** decimal places of each currency whose minor unit is not the cent."""
    scales = {}
    for code in sorted(currency_codes()):
        digits = minor_digits(code)
        if digits != 2:
            scales[code] = 10**digits
    return scales


class _Dialect:
    """The few spellings that differ between PostgreSQL and SQLite."""

    def __init__(self, name: str) -> None:
        self.postgres = name == "postgresql"
        self.param = "%({})s" if self.postgres else ":{}"

    def chr(self, char: str) -> str:
        """A one-character string literal, control characters spelled out."""
        if char.isprintable():
            return "'" + char.replace("'", "''") + "'"
        return f"chr({ord(char)})" if self.postgres else f"char({ord(char)})"

    def contains(self, text: str, char: str) -> str:
        """SQL: `text` contains `char`."""
        function = "strpos" if self.postgres else "instr"
        return f"{function}({text}, {self.chr(char)}) > 0"

    def text(self, value: str) -> str:
        """SQL: an integer as text."""
        return f"CAST({value} AS TEXT)"

    def mod(self, a: str, b: str) -> str:
        """SQL: a modulo b (no '%' on PostgreSQL, where psycopg reads it as a parameter)."""
        return f"mod({a}, {b})" if self.postgres else f"({a}) % ({b})"

    def date(self, value: str) -> str:
        """SQL: a date as YYYY-MM-DD (SQLite stores it so; PostgreSQL's depends on DateStyle)."""
        return f"to_char({value}, 'YYYY-MM-DD')" if self.postgres else value

    def numeric_text(self, value: str) -> str:
        """SQL: a Numeric(20, 10) as Decimal.normalize() writes it ('1.085', '2', '0.5')."""
        fixed = f"CAST({value} AS TEXT)" if self.postgres else f"printf('%.10f', {value})"
        return f"rtrim(rtrim({fixed}, '0'), '.')"


def _csv_field(d: _Dialect, value: str) -> str:
    """SQL: text as Python's csv writer writes it: quoted, inner quotes doubled, when it
    holds a character that needs it."""
    needs = " OR ".join(d.contains(value, c) for c in _quoted_characters())
    return (f"CASE WHEN {needs} THEN '\"' || replace({value}, '\"', '\"\"') || '\"' "
            f"ELSE {value} END")


def _safe(d: _Dialect, value: str) -> str:
    """SQL: web/formatting.safe_text: a quote before a leading formula character."""
    starts = ", ".join(d.chr(c) for c in FORMULA_STARTS)
    return f"CASE WHEN substr({value}, 1, 1) IN ({starts}) THEN '''' || {value} ELSE {value} END"


def _scale(currency: str) -> str:
    """SQL: 10 ** decimal places of the currency (100 unless listed)."""
    cases = " ".join(f"WHEN '{code}' THEN {scale}" for code, scale in _scales().items())
    return f"CASE {currency} {cases} ELSE 100 END"


def _amount(d: _Dialect, amount: str, scale: str) -> str:
    """SQL: exports.Amounts.text: minor units as '-1234.50' (no separators), '' for NULL."""
    fraction = f"substr({d.text(d.mod(f'abs({amount})', scale) + f' + {scale}')}, 2)"
    decimal = (f"CASE WHEN {amount} < 0 THEN '-' ELSE '' END || "
               f"{d.text(f'abs({amount}) / {scale}')} || '.' || {fraction}")
    return (f"COALESCE(CASE WHEN {scale} = 1 THEN {d.text(amount)} ELSE {decimal} END, '')")


def line_query(dialect: str, full: bool, account_code: bool, membership: bool,
               kind: bool) -> str:
    """The SELECT giving each posting of the range as its CSV line, in export order.

    Parameters: collective_id, date_from, date_to, and account_code, membership_id and
    kind when filtered on (as exports.filters(q) with whole entries off).
    """
    d = _Dialect(dialect)
    p = d.param.format
    where = [f"e.collective_id = {p('collective_id')}"]
    if account_code:
        where.append(f"a.code = {p('account_code')}")
    if membership:
        where.append(f"a.membership_id = {p('membership_id')}")
    if kind:
        where.append(f"e.kind = {p('kind')}")
    conditions = " AND ".join(where)
    joins = ("FROM postings p JOIN journal_entries e ON e.id = p.entry_id "
             "JOIN accounts a ON a.id = p.account_id")
    running = ("SUM(p.amount) OVER (PARTITION BY p.account_id, p.currency "
               "ORDER BY e.occurred_on, e.id, p.id ROWS UNBOUNDED PRECEDING)")
    opening = "SUM(p.amount)"
    if d.postgres:  # sum(bigint) is numeric there
        running, opening = f"CAST({running} AS BIGINT)", f"CAST({opening} AS BIGINT)"
    original = ", cp.currency AS orig_currency, cp.amount AS orig_amount, cp.rate" if full else ""
    original_join = "LEFT JOIN client_payments cp ON cp.entry_id = e.id" if full else ""
    debit_normal = "('asset', 'expense')"
    balance = (f"CASE WHEN r.type IN {debit_normal} THEN r.running + COALESCE(o.amount, 0) "
               f"ELSE -(r.running + COALESCE(o.amount, 0)) END")
    fields = [
        d.date("r.occurred_on"), d.text("r.entry_id"), "r.kind",
        _csv_field(d, _safe(d, "r.memo")), _csv_field(d, "r.code"),
        _csv_field(d, _safe(d, "r.name")), _csv_field(d, _safe(d, "COALESCE(r.member, '')")),
        _amount(d, "CASE WHEN r.amount > 0 THEN r.amount END", "r.scale"),
        _amount(d, "CASE WHEN r.amount < 0 THEN -r.amount END", "r.scale"),
        "r.currency", _amount(d, balance, "r.scale"),
    ]
    if full:
        fields += [
            _csv_field(d, "r.idempotency_key"),
            f"COALESCE({d.text('r.reverses_id')}, '')",
            _csv_field(d, "COALESCE(r.orig_currency, '')"),
            _amount(d, "r.orig_amount", _scale("r.orig_currency")),
            f"CASE WHEN r.rate IS NULL THEN '' ELSE {d.numeric_text('r.rate')} END",
        ]
    line = " || ',' || ".join(fields)
    return (
        f"WITH opening AS (SELECT p.account_id, p.currency, {opening} AS amount {joins} "
        f"WHERE {conditions} AND e.occurred_on < {p('date_from')} "
        f"GROUP BY p.account_id, p.currency), "
        f"r AS (SELECT e.occurred_on, e.id AS entry_id, p.id AS posting_id, e.kind, e.memo, "
        f"e.idempotency_key, e.reverses_id, p.account_id, a.code, a.name, a.type, "
        f"u.name AS member, p.amount, p.currency, {_scale('p.currency')} AS scale, "
        f"{running} AS running{original} {joins} "
        f"LEFT JOIN memberships m ON m.id = a.membership_id "
        f"LEFT JOIN users u ON u.id = m.user_id {original_join} "
        f"WHERE {conditions} AND e.occurred_on >= {p('date_from')} "
        f"AND e.occurred_on <= {p('date_to')}) "
        f"SELECT {line} AS line FROM r LEFT JOIN opening o "
        f"ON o.account_id = r.account_id AND o.currency = r.currency "
        f"ORDER BY r.occurred_on, r.entry_id, r.posting_id"
    )


def _unescape_copy_text(data: bytes) -> bytes:
    """COPY's text format back to the raw line bytes (a backslash starts every escape)."""
    if b"\\" not in data:
        return data
    return _COPY_ESCAPE.sub(lambda m: _COPY_ESCAPES[m.group(1)], data)


def sql_csv_lines(params: dict, sql: str, chunk: int = CHUNK_LINES,
                  progress=None) -> Iterator[bytes]:
    """The lines of `sql` (one text column), each ending in '\\n', in chunks of `chunk`
    lines, read in the session's transaction."""
    connection = db.session.connection()
    raw = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        yield from _copy_lines(raw, sql, params, chunk, progress)
        return
    # SQLite keeps dates as ISO text (as SQLAlchemy writes them).
    params = {k: v.isoformat() if isinstance(v, date) else v for k, v in params.items()}
    cursor = raw.execute(sql, params)
    try:
        while rows := cursor.fetchmany(chunk):
            if progress is not None:
                progress(len(rows))
            yield ("\n".join([row[0] for row in rows]) + "\n").encode()
    finally:
        cursor.close()


def _copy_lines(raw, sql: str, params: dict, chunk: int, progress) -> Iterator[bytes]:
    """COPY (sql) TO STDOUT in text format: each message is one line, already ending in
    '\\n'; escapes are undone chunk by chunk."""
    with raw.cursor() as cursor, cursor.copy(f"COPY ({sql}) TO STDOUT", params) as copy:
        lines: list = []
        append = lines.append
        for data in copy:
            append(data)
            if len(lines) == chunk:
                if progress is not None:
                    progress(chunk)
                yield _unescape_copy_text(b"".join(lines))
                lines.clear()
        if progress is not None:
            progress(len(lines))
        yield _unescape_copy_text(b"".join(lines))

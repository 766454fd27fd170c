"""The ledger's CSV written by the database: one query works out each posting's running
balance (the opening balance of its account and currency plus a window sum in export order)
and formats every field; the rows stream out through COPY ... TO STDOUT WITH CSV on
PostgreSQL, or as finished lines from a cursor read in chunks on SQLite. Python only joins
chunks and writes bytes.

The bytes are the row-by-row writer's in exports.py (`python_csv_chunks`, which stays as
the reference and the fallback for other databases): Python's csv quoting (QUOTE_MINIMAL,
'\\n' line ends), the spreadsheet-formula guard of web/formatting.safe_text, amounts with each
currency's decimal places, and rates without trailing zeros.

PostgreSQL's CSV quoting differs from Python's in two places, both handled in the query: it
quotes an empty string (so empty text goes out as NULL), and it quotes a field holding a
carriage return, which Python 3.11 leaves bare (so a carriage return goes out as the bytes
01 03, and a 01 as 01 02, and `_restore` puts them back in each chunk).
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from functools import lru_cache

from collective.extensions import db
from collective.money import currency_codes, minor_digits
from collective.web.formatting import FORMULA_STARTS

#: Lines joined into one chunk of bytes before it is handed on (as the Python writer did).
CHUNK_LINES = 1000

#: How a carriage return and the escape byte itself travel through PostgreSQL's CSV.
_ESCAPE, _ESCAPED_ESCAPE, _ESCAPED_CR = b"\x01", b"\x01\x02", b"\x01\x03"


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

    def date(self, value: str) -> str:
        """SQL: a date as YYYY-MM-DD (SQLite stores it so; COPY writes it so under the
        ISO date style, which _copy_lines sets)."""
        return value

    def rate_text(self, value: str) -> str:
        """SQL: a Numeric(20, 10) with all ten decimals, NULL for NULL; trimmed of trailing
        zeros it is what Decimal.normalize() writes ('1.085', '2', '0.5')."""
        if self.postgres:
            return f"CAST({value} AS TEXT)"
        return f"CASE WHEN {value} IS NOT NULL THEN printf('%.10f', {value}) END"


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


def _unit(d: _Dialect, currency: str) -> str:
    """SQL: what one minor unit of the currency is worth, per currency: the factor 0.01
    (a numeric, whose scale is the decimal places) on PostgreSQL, the divisor 100 on SQLite."""
    cases = []
    for code, scale in _scales().items():
        digits = len(str(scale)) - 1
        unit = ("0." + "0" * (digits - 1) + "1" if digits else "1") if d.postgres else scale
        cases.append(f"WHEN '{code}' THEN {unit}")
    return f"CASE {currency} {' '.join(cases)} ELSE {'0.01' if d.postgres else 100} END"


def _amount(d: _Dialect, amount: str, unit: str) -> str:
    """SQL: exports.Amounts.text: minor units as '-1234.50' (no separators), NULL for NULL.
    `amount` and `unit` are plain columns (each is read several times on SQLite)."""
    if d.postgres:  # bigint * 0.01 is a numeric with two decimals: exact, and its own text
        return f"{amount} * {unit}"
    sign = f"CASE WHEN {amount} < 0 THEN '-' ELSE '' END"
    fraction = f"substr(CAST(abs({amount}) % {unit} + {unit} AS TEXT), 2)"
    decimal = f"{sign} || CAST(abs({amount}) / {unit} AS TEXT) || '.' || {fraction}"
    return f"CASE WHEN {unit} = 1 THEN CAST({amount} AS TEXT) ELSE {decimal} END"


def line_query(dialect: str, full: bool, account_code: bool, membership: bool,
               kind: bool) -> str:
    """The SELECT giving each posting of the range, in export order: its CSV fields as
    columns for COPY on PostgreSQL, its finished CSV line as one column on SQLite.

    Parameters: collective_id, date_from, date_to, and account_code, membership_id and
    kind when filtered on (as exports.filters(q) with whole entries off). The inner query
    works out every value once (the balance: opening balance plus the window sum, in the
    account's natural direction; the formula guard); the outer one only writes text.
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
    natural = "CASE WHEN a.type IN ('asset', 'expense') THEN 1 ELSE -1 END"
    columns = [
        "e.occurred_on", "e.id AS entry_id", "p.id AS posting_id", "e.kind",
        f"{_safe(d, 'e.memo')} AS memo", "a.code", f"{_safe(d, 'a.name')} AS name",
        f"{_safe(d, 'u.name')} AS member", "p.currency",
        "CASE WHEN p.amount > 0 THEN p.amount END AS debit",
        "CASE WHEN p.amount < 0 THEN -p.amount END AS credit",
        f"{_unit(d, 'p.currency')} AS unit",
        f"{natural} * (COALESCE(o.amount, 0) + {running}) AS balance",
    ]
    text = ["r.kind", "r.memo", "r.code", "r.name", "r.member", "r.currency"]
    payments = ""
    if full:
        columns += ["e.idempotency_key", "e.reverses_id", "cp.currency AS orig_currency",
                    "cp.amount AS orig_amount", "cp.rate",
                    f"{_unit(d, 'cp.currency')} AS orig_unit"]
        text += ["r.idempotency_key", "r.orig_currency"]
        payments = "LEFT JOIN client_payments cp ON cp.entry_id = e.id"
    fields = [d.date("r.occurred_on"), "r.entry_id", "r.kind", "r.memo", "r.code", "r.name",
              "r.member", _amount(d, "r.debit", "r.unit"), _amount(d, "r.credit", "r.unit"),
              "r.currency", _amount(d, "r.balance", "r.unit")]
    if full:
        fields += ["r.idempotency_key", "r.reverses_id", "r.orig_currency",
                   _amount(d, "r.orig_amount", "r.orig_unit"),
                   f"rtrim(rtrim({d.rate_text('r.rate')}, '0'), '.')"]
    if d.postgres:
        select = ", ".join(_copy_field(f) if f in text else f for f in fields)
    else:
        select = " || ',' || ".join(
            _csv_field(d, f"COALESCE({f}, '')") if f in text
            else f"COALESCE(CAST({f} AS TEXT), '')"
            for f in fields) + " AS line"
    return (
        f"WITH opening AS (SELECT p.account_id, p.currency, {opening} AS amount {joins} "
        f"WHERE {conditions} AND e.occurred_on < {p('date_from')} "
        f"GROUP BY p.account_id, p.currency), "
        f"r AS (SELECT {', '.join(columns)} {joins} "
        f"LEFT JOIN opening o ON o.account_id = p.account_id AND o.currency = p.currency "
        f"LEFT JOIN memberships m ON m.id = a.membership_id "
        f"LEFT JOIN users u ON u.id = m.user_id {payments} "
        f"WHERE {conditions} AND e.occurred_on >= {p('date_from')} "
        f"AND e.occurred_on <= {p('date_to')}) "
        f"SELECT {select} FROM r ORDER BY r.occurred_on, r.entry_id, r.posting_id"
    )


def _copy_field(value: str) -> str:
    """SQL: text for COPY's CSV to write as Python's csv writer would: empty as NULL (COPY
    quotes an empty string), and a carriage return escaped when Python leaves it bare."""
    if "\r" in _quoted_characters():
        return f"NULLIF({value}, '')"
    escaped = (f"replace(replace({value}, chr(1), chr(1) || chr(2)), chr(13), "
               f"chr(1) || chr(3))")
    return (f"NULLIF(CASE WHEN strpos({value}, chr(13)) > 0 OR strpos({value}, chr(1)) > 0 "
            f"THEN {escaped} ELSE {value} END, '')")


def _restore(chunk: bytes) -> bytes:
    """Carriage returns (and escape bytes) back in a chunk of whole COPY lines."""
    if _ESCAPE not in chunk:
        return chunk
    return chunk.replace(_ESCAPED_CR, b"\r").replace(_ESCAPED_ESCAPE, _ESCAPE)


def sql_csv_lines(header: bytes, params: dict, sql: str, chunk: int = CHUNK_LINES,
                  progress=None) -> Iterator[bytes]:
    """The header, then the rows of `sql` as CSV lines ending in '\\n', in chunks of `chunk`
    lines, read in the session's transaction. The header comes with the first lines, so
    the read has begun (and its snapshot is taken) when the first chunk is handed on."""
    connection = db.session.connection()
    raw = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        chunks = _copy_lines(raw, sql, params, chunk, progress)
    else:
        chunks = _sqlite_lines(raw, sql, params, chunk, progress)
    yield header + next(chunks, b"")
    yield from chunks


def _sqlite_lines(raw, sql: str, params: dict, chunk: int, progress) -> Iterator[bytes]:
    """The finished lines from a cursor, `chunk` rows at a time."""
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
    """COPY (sql) TO STDOUT WITH CSV: each message is one line, ending in '\\n'.

    The messages are read straight from libpq (`PGconn.get_copy_data`, blocking): psycopg's
    own iteration over a COPY costs a Python generator round per row, which at a million
    rows took longer than the database. psycopg's COPY block still starts and ends it.
    The settings last until the transaction ends: no JIT (compiling the expressions costs
    more than it saves on one pass), and dates written as ISO whatever the server's style.
    """
    with raw.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL datestyle = 'ISO, YMD'")
        with cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params):
            read = raw.pgconn.get_copy_data
            lines: list = []
            append = lines.append
            while True:
                size, data = read(0)
                if size <= 0:  # the data is over, or the query failed
                    _finish_copy(raw.pgconn)
                    break
                append(data)
                if len(lines) == chunk:
                    if progress is not None:
                        progress(chunk)
                    yield _restore(b"".join(lines))
                    lines.clear()
            if progress is not None:
                progress(len(lines))
            yield _restore(b"".join(lines))


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

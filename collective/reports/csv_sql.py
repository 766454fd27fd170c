"""The ledger's CSV written by SQLite: one query works out each posting's running balance
(the opening balance of its account and currency plus a window sum in export order) and
writes each finished line; Python only joins them in chunks (reports/csv_copy.py does
PostgreSQL's, and shares the filters, the formula guard and the quoting rule kept here).

The bytes are the row-by-row writer's in exports.py (`python_csv_chunks`, which stays as
the reference and the fallback for other databases): Python's csv quoting (QUOTE_MINIMAL,
'\\n' line ends), the spreadsheet-formula guard of web/formatting.safe_text, amounts with each
currency's decimal places, and rates without trailing zeros.
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
#: KiB of page cache while an export reads (its sorts' memory follows it).
EXPORT_CACHE_KIB = 8 * 1024


@lru_cache(maxsize=1)
def quoted_characters() -> tuple[str, ...]:
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
def minor_scales() -> dict[str, int]:
    """10 ** decimal places of each currency whose minor unit is not the cent."""
    scales = {}
    for code in sorted(currency_codes()):
        digits = minor_digits(code)
        if digits != 2:
            scales[code] = 10**digits
    return scales


def _chr(char: str, function: str = "char") -> str:
    """SQL: a one-character string literal, control characters spelled out (by SQLite's
    char(), or PostgreSQL's chr())."""
    if char.isprintable():
        return "'" + char.replace("'", "''") + "'"
    return f"{function}({ord(char)})"


def _csv_field(value: str) -> str:
    """SQL: text as Python's csv writer writes it: quoted, inner quotes doubled, when it
    holds a character that needs it."""
    needs = " OR ".join(f"instr({value}, {_chr(c)}) > 0" for c in quoted_characters())
    return (f"CASE WHEN {needs} THEN '\"' || replace({value}, '\"', '\"\"') || '\"' "
            f"ELSE {value} END")


def safe_sql(value: str, chr_function: str = "char") -> str:
    """SQL: web/formatting.safe_text: a quote before a leading formula character."""
    starts = ", ".join(_chr(c, chr_function) for c in FORMULA_STARTS)
    return f"CASE WHEN substr({value}, 1, 1) IN ({starts}) THEN '''' || {value} ELSE {value} END"


def _unit(currency: str) -> str:
    """SQL: the divisor of the currency's minor unit (100 for cents)."""
    cases = " ".join(f"WHEN '{code}' THEN {scale}" for code, scale in minor_scales().items())
    return f"CASE {currency} {cases} ELSE 100 END"


def _amount(amount: str, unit: str) -> str:
    """SQL: exports.Amounts.text: minor units as '-1234.50' (no separators), NULL for NULL.
    `amount` and `unit` are plain columns (each is read several times)."""
    sign = f"CASE WHEN {amount} < 0 THEN '-' ELSE '' END"
    fraction = f"substr(CAST(abs({amount}) % {unit} + {unit} AS TEXT), 2)"
    decimal = f"{sign} || CAST(abs({amount}) / {unit} AS TEXT) || '.' || {fraction}"
    return f"CASE WHEN {unit} = 1 THEN CAST({amount} AS TEXT) ELSE {decimal} END"


def filter_sql(param: str, account_code: bool, membership: bool, kind: bool) -> str:
    """SQL: the export's conditions on `e` (its entries) and `a` (its accounts), as
    exports.filters(q) with whole entries off; `param` spells a parameter ('%({})s')."""
    where = [f"e.collective_id = {param.format('collective_id')}"]
    if account_code:
        where.append(f"a.code = {param.format('account_code')}")
    if membership:
        where.append(f"a.membership_id = {param.format('membership_id')}")
    if kind:
        where.append(f"e.kind = {param.format('kind')}")
    return " AND ".join(where)


def line_query(full: bool, account_code: bool, membership: bool, kind: bool) -> str:
    """The SELECT giving each posting of the range, in export order, as its finished CSV
    line (one column).

    Parameters: collective_id, date_from, date_to, and account_code, membership_id and
    kind when filtered on (as exports.filters(q) with whole entries off). The inner query
    works out every value once (the balance: opening balance plus the window sum, in the
    account's natural direction; the formula guard); the outer one only writes text.
    """
    conditions = filter_sql(":{}", account_code, membership, kind)
    joins = ("FROM postings p JOIN journal_entries e ON e.id = p.entry_id "
             "JOIN accounts a ON a.id = p.account_id")
    running = ("SUM(p.amount) OVER (PARTITION BY p.account_id, p.currency "
               "ORDER BY e.occurred_on, e.id, p.id ROWS UNBOUNDED PRECEDING)")
    natural = "CASE WHEN a.type IN ('asset', 'expense') THEN 1 ELSE -1 END"
    columns = [
        "e.occurred_on", "e.id AS entry_id", "p.id AS posting_id", "e.kind",
        f"{safe_sql('e.memo')} AS memo", "a.code", f"{safe_sql('a.name')} AS name",
        f"{safe_sql('u.name')} AS member", "p.currency",
        "CASE WHEN p.amount > 0 THEN p.amount END AS debit",
        "CASE WHEN p.amount < 0 THEN -p.amount END AS credit",
        f"{_unit('p.currency')} AS unit",
        f"{natural} * (COALESCE(o.amount, 0) + {running}) AS balance",
    ]
    text = ["r.kind", "r.memo", "r.code", "r.name", "r.member", "r.currency"]
    payments = ""
    if full:
        columns += ["e.idempotency_key", "e.reverses_id", "cp.currency AS orig_currency",
                    "cp.amount AS orig_amount", "cp.rate",
                    f"{_unit('cp.currency')} AS orig_unit"]
        text += ["r.idempotency_key", "r.orig_currency"]
        payments = "LEFT JOIN client_payments cp ON cp.entry_id = e.id"
    fields = ["r.occurred_on", "r.entry_id", "r.kind", "r.memo", "r.code", "r.name",
              "r.member", _amount("r.debit", "r.unit"), _amount("r.credit", "r.unit"),
              "r.currency", _amount("r.balance", "r.unit")]
    if full:
        # A Numeric(20, 10) with all ten decimals, trimmed of trailing zeros: what
        # Decimal.normalize() writes ('1.085', '2', '0.5').
        rate = "CASE WHEN r.rate IS NOT NULL THEN printf('%.10f', r.rate) END"
        fields += ["r.idempotency_key", "r.reverses_id", "r.orig_currency",
                   _amount("r.orig_amount", "r.orig_unit"), f"rtrim(rtrim({rate}, '0'), '.')"]
    select = " || ',' || ".join(
        _csv_field(f"COALESCE({f}, '')") if f in text else f"COALESCE(CAST({f} AS TEXT), '')"
        for f in fields)
    return (
        f"WITH opening AS (SELECT p.account_id, p.currency, SUM(p.amount) AS amount {joins} "
        f"WHERE {conditions} AND e.occurred_on < :date_from "
        f"GROUP BY p.account_id, p.currency), "
        f"r AS (SELECT {', '.join(columns)} {joins} "
        f"LEFT JOIN opening o ON o.account_id = p.account_id AND o.currency = p.currency "
        f"LEFT JOIN memberships m ON m.id = a.membership_id "
        f"LEFT JOIN users u ON u.id = m.user_id {payments} "
        f"WHERE {conditions} AND e.occurred_on >= :date_from "
        f"AND e.occurred_on <= :date_to) "
        f"SELECT {select} AS line FROM r ORDER BY r.occurred_on, r.entry_id, r.posting_id"
    )


def sql_csv_lines(header: bytes, params: dict, sql: str, chunk: int = CHUNK_LINES,
                  progress=None) -> Iterator[bytes]:
    """The header, then the rows of `sql` as CSV lines ending in '\\n', in chunks of `chunk`
    lines, read in the session's transaction. The header comes with the first lines, so
    the read has begun (and its snapshot is taken) when the first chunk is handed on."""
    raw = db.session.connection().connection.driver_connection
    # SQLite keeps dates as ISO text (as SQLAlchemy writes them).
    params = {k: v.isoformat() if isinstance(v, date) else v for k, v in params.items()}
    # SQLite's sorts (the window's and the export order's) hold up to the page cache's size
    # in memory before they spill to temporary files: with the connections' 64 MiB cache a
    # million postings peaked at 263 MB, with this one at 89 MB, in the same time.
    cache = raw.execute("PRAGMA cache_size").fetchone()[0]
    cursor = None
    try:
        raw.execute(f"PRAGMA cache_size = -{EXPORT_CACHE_KIB}")
        cursor = raw.execute(sql, params)
        chunks = _chunks(cursor, chunk, progress)
        yield header + next(chunks, b"")
        yield from chunks
    finally:
        if cursor is not None:
            cursor.close()
        raw.execute(f"PRAGMA cache_size = {int(cache)}")


def _chunks(cursor, chunk: int, progress) -> Iterator[bytes]:
    """The finished lines from a cursor, `chunk` rows at a time."""
    while rows := cursor.fetchmany(chunk):
        if progress is not None:
            progress(len(rows))
        yield ("\n".join([row[0] for row in rows]) + "\n").encode()

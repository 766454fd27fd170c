"""The CSV the database writes (reports/csv_copy.py on PostgreSQL, reports/csv_sql.py on
SQLite) is byte for byte the CSV the row-by-row Python writer makes
(exports.python_csv_chunks), for every preset and filter.

The ledger is the report tests' books plus entries written to be awkward: memos with commas,
quotes, newlines, carriage returns, backslashes and tabs, memos and member names that look
like spreadsheet formulas, amounts in currencies with 0, 2 and 3 decimals, negative running
balances, reversals, and entries before the range (opening balances).
"""
from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from collective.extensions import db
from collective.ledger import services as ledger
from collective.ledger.services import Line
from collective.reports import csv_copy, csv_sql, exports
from tests.factories import make_member, make_user
from tests.reports.factories import RANGE_FROM, RANGE_TO, Books, make_books

MEMOS = [
    "two\nlines", "carriage\rreturn", "\rstarts with a carriage return", "=1+2", "+plus",
    "-minus, with a comma", "@at", "\ttab first", "back\\slash \\n not a newline",
    'comma, "quoted"', "", "'already quoted", '"starts with a quote', "ends with a comma,",
    "Zoë's café ☕", "trailing space ", "control \x01\x03 bytes\r and \x01\x02", "=HYPERLINK(\"http://e.vil\",\"x\")",
]
HOSTILE_NAMES = ["=SUM(A1:A9)", '-Minus, "Quoted"', "@Handle\nNewline"]


@pytest.fixture
def books(ctx) -> Books:
    books = make_books()
    collective = books.treasurer.collective
    members = [make_member(collective, user=make_user(name=name)) for name in HOSTILE_NAMES]
    bank, fund = books.account(ledger.BANK), books.account(ledger.COMMON_FUND)
    for i, memo in enumerate(MEMOS):
        payable = books.payable(members[i % len(members)])
        currency, amount = [("USD", 12_345), ("JPY", 700), ("BHD", 1_005), ("EUR", 7)][i % 4]
        on = date(2026, 2, 1) if i % 5 == 0 else date(2026, 3, 1 + i)
        entry = ledger.post_entry(books.collective_id, kind="opening", occurred_on=on,
                                  idempotency_key=f"awkward:{i},\"x\"" if i % 3 else
                                  f"=awkward:{i}",
                                  lines=[Line(bank.id, -amount * (i + 2), currency),
                                         Line(payable.id, amount, currency),
                                         Line(fund.id, amount * (i + 1), currency)], memo=memo)
        if i % 4 == 1:
            ledger.reverse_entry(entry, occurred_on=date(2026, 4, 1 + i), memo=memo + " undone")
    db.session.flush()
    return books


def _both(query: exports.LedgerQuery, preset: str) -> tuple[bytes, bytes]:
    ours = b"".join(exports.csv_chunks(query, preset))
    reference = b"".join(exports.python_csv_chunks(query, preset))
    return ours, reference


def _filters(books: Books) -> dict[str, dict]:
    return {
        "everything": {},
        "bank": {"account_code": ledger.BANK},
        "common fund": {"account_code": ledger.COMMON_FUND},
        "a member": {"membership_id": books.ann.id},
        "a hostile member": {"membership_id": books.payable(books.ann).membership_id},
        "opening entries": {"kind": "opening"},
        "reversals": {"kind": "reversal"},
        "bank reversals": {"account_code": ledger.BANK, "kind": "reversal"},
        "no such account": {"account_code": "9999"},
    }


@pytest.mark.parametrize("preset", exports.PRESETS)
def test_database_csv_is_byte_identical_for_every_filter(books, preset):
    ranges = [(RANGE_FROM, RANGE_TO), (date(2000, 1, 1), date(2027, 12, 31)),
              (date(2026, 3, 5), date(2026, 3, 5))]
    compared = 0
    for name, filters in _filters(books).items():
        for date_from, date_to in ranges:
            query = exports.LedgerQuery(books.collective_id, date_from, date_to, **filters)
            ours, reference = _both(query, preset)
            assert ours == reference, (name, date_from, date_to)
            compared += ours.count(b"\n")
    assert compared > 200


def test_the_awkward_text_really_is_in_the_export(books):
    """The comparison above is only worth something if the hard cases are in the file."""
    query = exports.LedgerQuery(books.collective_id, date(2000, 1, 1), date(2027, 12, 31))
    ours, _ = _both(query, "full")
    rows = list(csv.DictReader(io.StringIO(ours.decode(), newline="")))
    memos = {r["memo"] for r in rows}
    # Python 3.11's writer leaves a lone carriage return unquoted (a reader then splits the
    # row there), so those two are looked for in the bytes.
    assert b",carriage\rreturn," in ours and b",'\rstarts with a carriage return," in ours
    assert {"two\nlines", "'=1+2",
            "'-minus, with a comma", "'\ttab first", 'comma, "quoted"', ""} <= memos
    assert "'=SUM(A1:A9)" in {r["member"] for r in rows}
    assert {"JPY", "BHD", "EUR", "USD"} <= {r["currency"] for r in rows}
    assert any(r["balance"].startswith("-") for r in rows)
    assert any(r["reverses_entry_id"] for r in rows)
    assert {"1", "1.085"} == {r["rate"] for r in rows if r["rate"]}
    bhd = [r for r in rows if r["currency"] == "BHD"]
    assert bhd and all(len(r["balance"].split(".")[1]) == 3 for r in bhd)
    assert all("." not in r["balance"] for r in rows if r["currency"] == "JPY")


def test_database_csv_quotes_what_pythons_csv_quotes():
    """The quoting rule is read off the running Python's csv writer, not assumed."""
    assert {",", '"', "\n"} <= set(csv_sql.quoted_characters())
    for char in csv_sql.quoted_characters():
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow(["x" + char])
        assert buffer.getvalue().startswith('"')


def test_a_carriage_return_is_written_as_pythons_csv_writes_it():
    """PostgreSQL quotes a field holding a carriage return; the chunk is written again as
    this Python's csv writer writes it (3.11 leaves it bare)."""
    copied = b'a,"b\rc","d, e"\nx,"y ""z""",\n'
    bare = "\r" not in csv_sql.quoted_characters()  # Python 3.11
    expected = (b'a,b\rc,"d, e"\nx,"y ""z""",\n' if bare else copied)
    assert csv_copy._as_python_writes(copied) == expected
    assert csv_copy._pg_text("b\rc") == b'"b\rc"' and csv_copy._pg_text("") == b""


def test_a_sqlite_export_reads_with_a_small_cache_and_gives_the_connection_back_as_it_was(
        books):
    if db.session.get_bind().dialect.name != "sqlite":
        pytest.skip("the page cache's size is SQLite's")

    def cache_size() -> int:
        return db.session.connection().exec_driver_sql("PRAGMA cache_size").scalar()

    before = cache_size()
    chunks = exports.csv_chunks(exports.LedgerQuery(books.collective_id, RANGE_FROM, RANGE_TO))
    next(chunks)
    assert cache_size() == -csv_sql.EXPORT_CACHE_KIB != before
    list(chunks)
    assert cache_size() == before

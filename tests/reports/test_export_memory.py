"""A ledger of 200,000 postings exports as CSV with flat memory.

The ledger is written straight into the tables (balanced, and checked) inside the test's
rolled-back transaction; tracemalloc starts only once it is built, so the peak is the
export's own. Measured peaks were about 9 MB on SQLite and 8 MB on PostgreSQL; the bound is
more than three times that, and far below what holding the rows in memory would take.
"""
from __future__ import annotations

import csv
import gc
import io
import tracemalloc
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from collective.extensions import db
from collective.ledger import balances
from collective.ledger import services as ledger
from collective.ledger.models import JournalEntry, Posting
from collective.reports import exports
from tests.factories import make_collective, make_member

ENTRIES = 100_000
POSTINGS = 2 * ENTRIES
DAYS = 300
MEMBERS = 8
FIRST_DAY = date(2025, 1, 1)
BATCH = 20_000
PEAK_LIMIT = 30 * 2**20


def _amount(n: int) -> int:
    return 100 + n % 97


def _fill_ledger(collective_id: int, bank_id: int, payable_ids: list[int]) -> None:
    """ENTRIES deposits (bank debited, one member's payable credited) over DAYS days."""
    first_id = (db.session.scalar(sa.select(sa.func.max(JournalEntry.id))) or 0) + 1
    posted_at = datetime(2026, 1, 1, tzinfo=UTC)
    for start in range(0, ENTRIES, BATCH):
        numbers = range(start, min(start + BATCH, ENTRIES))
        db.session.execute(sa.insert(JournalEntry), [
            {"id": first_id + n, "collective_id": collective_id, "kind": "deposit",
             "occurred_on": FIRST_DAY + timedelta(days=n % DAYS), "posted_at": posted_at,
             "idempotency_key": f"bulk:{n}", "memo": f"Deposit {n}"} for n in numbers])
        db.session.execute(sa.insert(Posting), [
            {"entry_id": first_id + n, "account_id": account, "amount": amount,
             "currency": "USD"}
            for n in numbers
            for account, amount in ((bank_id, _amount(n)),
                                    (payable_ids[n % MEMBERS], -_amount(n)))])


class CountingSink:
    """Counts the bytes and rows it is given; keeps only the last chunk."""

    def __init__(self) -> None:
        self.bytes = 0
        self.rows = 0
        self.last = b""

    def write(self, chunk: bytes) -> None:
        self.bytes += len(chunk)
        self.rows += chunk.count(b"\n")
        if chunk:
            self.last = chunk


def test_csv_export_of_200k_postings_streams_in_bounded_memory(ctx):
    collective = make_collective().collective
    members = [make_member(collective) for _ in range(MEMBERS)]
    bank = ledger.account_by_code(collective.id, ledger.BANK)
    _fill_ledger(collective.id, bank.id, [ledger.member_account(m.id).id for m in members])
    check = balances.check_ledger(collective.id)
    assert (check.ok, check.entries, check.postings) == (True, ENTRIES, POSTINGS)
    bank_total = sum(_amount(n) for n in range(ENTRIES))
    query = exports.LedgerQuery(collective.id, FIRST_DAY, FIRST_DAY + timedelta(days=DAYS))
    sink = CountingSink()
    gc.collect()

    tracemalloc.start()
    try:
        for chunk in exports.csv_chunks(query):
            sink.write(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    print(f"\n{db.engine.dialect.name}: {sink.rows} rows, {sink.bytes} bytes, "
          f"peak {peak / 2**20:.1f} MiB")
    assert sink.rows == POSTINGS + 1  # and the header
    assert sink.bytes > POSTINGS * 50
    assert peak < PEAK_LIMIT
    # The stream is complete and right to its last row: the bank's running balance.
    last_rows = list(csv.reader(io.StringIO(sink.last.decode())))
    bank_rows = [r for r in last_rows if r[4] == ledger.BANK]
    assert bank_rows[-1][10] == f"{bank_total / 100:.2f}"
    assert balances.account_balance(bank.id) == {"USD": bank_total}

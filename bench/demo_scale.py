"""The scale demo (`flask demo --scale N`): build time, postings and database size, and its
bulk writes against posting the same entries one at a time through the ledger's service.

- now: `build_scale(BENCH_SCALE, BENCH_MONTHS)` on a fresh database (a SQLite file, or
  BENCH_DATABASE_URL), committed; then its postings and the database's size.
- baseline, measured in the same run on the same database: BENCH_ENTRIES contribution
  entries (a member's payable to the fund, two postings each) posted one at a time with
  `ledger.post_entry` (what a service does), against as many written by `Bulk.entries`
  (what the scale demo does); both rolled back.

Prints the figures and the ratio.
"""
from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
import time
from contextlib import closing
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("COLLECTIVE_ENV", "testing")

import flask_migrate  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from bench.conftest_reset import reset  # noqa: E402
from collective import create_app  # noqa: E402
from collective.config import normalise_database_url  # noqa: E402
from collective.demo.bulk import Bulk  # noqa: E402
from collective.demo.scale import build_scale  # noqa: E402
from collective.extensions import db  # noqa: E402
from collective.ledger import services as ledger  # noqa: E402
from collective.ledger.models import Account, EntryKind  # noqa: E402

SCALE = int(os.environ.get("BENCH_SCALE", "2000"))
MONTHS = int(os.environ.get("BENCH_MONTHS", "24"))
ENTRIES = int(os.environ.get("BENCH_ENTRIES", "2000"))


def database_size(url: str) -> int:
    """Bytes the database takes: the SQLite file, or PostgreSQL's pg_database_size."""
    if db.engine.dialect.name == "postgresql":
        return int(db.session.scalar(sa.text("SELECT pg_database_size(current_database())")))
    path = sa.make_url(url).database
    db.session.close()
    db.engine.dispose()
    with closing(sqlite3.connect(path)) as connection:  # the write-ahead log into the file
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return Path(path).stat().st_size


def one_at_a_time_vs_bulk(collective_id: int) -> tuple[float, float]:
    """Seconds to post ENTRIES contribution entries with post_entry, then with Bulk.entries
    (each rolled back)."""
    fund = ledger.account_by_code(collective_id, ledger.BENEFITS_FUND).id
    payables = list(db.session.scalars(
        sa.select(Account.id).where(Account.collective_id == collective_id,
                                    Account.membership_id.is_not(None))
        .order_by(Account.id).limit(ENTRIES)))
    payables = (payables * (ENTRIES // len(payables) + 1))[:ENTRIES]
    day = date(2099, 1, 31)
    started = time.perf_counter()
    for i, payable in enumerate(payables):
        ledger.post_entry(collective_id, kind=EntryKind.CONTRIBUTION, occurred_on=day,
                          idempotency_key=f"bench-one:{i}", memo="bench",
                          lines=[ledger.Line(payable, 45_00, "USD"),
                                 ledger.Line(fund, -45_00, "USD")])
    db.session.flush()
    one = time.perf_counter() - started
    db.session.rollback()
    started = time.perf_counter()
    Bulk().entries(collective_id, [
        (EntryKind.CONTRIBUTION, day, f"bench-bulk:{i}", "bench",
         [(payable, 45_00), (fund, -45_00)]) for i, payable in enumerate(payables)], None)
    bulk = time.perf_counter() - started
    db.session.rollback()
    return one, bulk


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = normalise_database_url(os.environ.get("BENCH_DATABASE_URL",
                                                    f"sqlite:///{tmp}/scale.sqlite3"))
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
        with app.app_context():
            reset(db.engine)
            flask_migrate.upgrade()
            started = time.perf_counter()
            summary = build_scale(SCALE, MONTHS, progress=False)
            db.session.commit()
            built = time.perf_counter() - started
            # Statistics for what was just loaded (as `flask demo --scale` leaves them), so
            # the comparison below is planned for the tables as they are.
            db.session.execute(sa.text("ANALYZE"))
            db.session.commit()
            size = database_size(url)
            one, bulk = one_at_a_time_vs_bulk(summary.collective_id)
            dialect = db.engine.dialect.name
    postings = summary.counts["postings"]
    print(f"scale demo on {dialect}: {SCALE:,} members, {MONTHS} months")
    print(f"  built in {built:.1f} s: {postings:,} postings "
          f"({postings / built:,.0f} a second), {summary.counts['entries']:,} entries")
    print(f"  database size after: {size / 2**20:,.0f} MiB")
    print(f"{ENTRIES:,} contribution entries on that database:")
    print(f"  ours (Bulk.entries): {bulk:.2f} s")
    print(f"  baseline (ledger.post_entry, one at a time): {one:.2f} s")
    print(f"  ratio: {one / bulk:.1f}x faster")


if __name__ == "__main__":
    main()

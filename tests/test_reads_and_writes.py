"""Reads never block writes (collective/database.py), on SQLite and on PostgreSQL.

A ledger export is held open mid-stream (its generator suspended after the first chunk, the
query's cursor and transaction still open) while another thread, with its own app context,
session and connection, records a client payment and commits. Before WAL and deferred
reads, the export held SQLite's write lock for the whole download and the payment failed
with "database is locked" after the busy timeout.

These tests commit for real (no rollback fixture), like tests/test_concurrency.py.
"""
from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from collective import database
from collective.database import WriteInRead, reading
from collective.extensions import db, limiter
from collective.ledger import balances
from collective.ledger import services as ledger
from collective.ledger.models import JournalEntry, Posting
from collective.members.models import Membership
from collective.pool import payments
from collective.pool.models import ClientPayment, Pitch, PitchState
from collective.reports import exports
from tests.factories import PASSWORD, make_collective, make_user
from tests.pool.factories import TODAY, allocate, found_rule, make_pitch, move_to

#: Enough postings for more than one CSV chunk (csv_chunks yields every 1,000 rows).
ENTRIES = 700
POSTINGS = 2 * ENTRIES
FIRST_DAY = TODAY - timedelta(days=30)


@pytest.fixture
def books(app):
    """A committed collective with ENTRIES deposits in its ledger and a won pitch to pay."""
    with app.app_context():
        founder = make_collective()
        found_rule(founder)
        pitch = move_to(founder, make_pitch(founder), PitchState.WON)
        allocate(founder, pitch, founder)
        collective_id = founder.collective_id
        bank = ledger.account_by_code(collective_id, ledger.BANK).id
        payable = ledger.member_account(founder.id).id
        posted_at = datetime(2026, 1, 1, tzinfo=UTC)
        entry_ids = db.session.scalars(
            sa.insert(JournalEntry).returning(JournalEntry.id, sort_by_parameter_order=True),
            [{"collective_id": collective_id, "kind": "deposit", "posted_at": posted_at,
              "occurred_on": FIRST_DAY + timedelta(days=n % 30),
              "idempotency_key": f"wal:{collective_id}:{n}", "memo": f"Deposit {n}"}
             for n in range(ENTRIES)]).all()
        db.session.execute(sa.insert(Posting), [
            {"entry_id": entry_id, "account_id": account, "amount": amount, "currency": "USD"}
            for entry_id in entry_ids for account, amount in ((bank, 100), (payable, -100))])
        db.session.commit()
        return {"founder": founder.id, "email": founder.user.email, "pitch": pitch.id,
                "slug": founder.collective.slug, "collective": collective_id}


def pay_in_another_thread(app, books) -> object:
    """Record a client payment on its own connection and commit; "ok" or the exception."""
    outcome: list[object] = [None]

    def run():
        with app.app_context():
            try:
                founder = db.session.get(Membership, books["founder"])
                payments.record_payment(founder, db.session.get(Pitch, books["pitch"]),
                                        amount=50_000, currency="USD", received_on=TODAY,
                                        today=TODAY)
                db.session.commit()
                outcome[0] = "ok"
            except Exception as exc:  # reported by the caller's assertion
                db.session.rollback()
                outcome[0] = exc

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive()
    return outcome[0]


def _csv_rows(chunks: list[bytes]) -> int:
    return b"".join(chunks).count(b"\n") - 1  # less the header


def _paid(app, books) -> tuple[int, bool]:
    with app.app_context():
        count = db.session.scalar(sa.select(sa.func.count(ClientPayment.id))
                                  .where(ClientPayment.pitch_id == books["pitch"]))
        return count, balances.check_ledger(books["collective"]).ok


def test_a_payment_commits_while_a_ledger_download_is_held_open_mid_stream(app, books):
    client = app.test_client()
    limiter.reset()
    assert client.post("/login", data={"email": books["email"],
                                       "password": PASSWORD}).status_code == 302
    response = client.get(
        f"/c/{books['slug']}/reports/ledger?format=csv&preset=accounting"
        f"&date_from={FIRST_DAY}&date_to={TODAY}", buffered=False)
    assert response.status_code == 200
    stream = response.iter_encoded()
    first = next(stream)  # the first 1,000 rows; the generator waits mid-stream
    assert first.count(b"\n") == 1 + 1000

    outcome = pay_in_another_thread(app, books)
    rest = list(stream)
    response.close()

    assert outcome == "ok"
    assert _paid(app, books) == (1, True)
    # The download finished, and it is the ledger as it stood when it began.
    assert _csv_rows([first, *rest]) == POSTINGS


def test_a_payment_commits_while_the_cli_export_is_held_open_mid_stream(app, books):
    """The CLI's export runs inside `reading()` (collective/reports/cli.py)."""
    query = exports.LedgerQuery(books["collective"], FIRST_DAY, TODAY)
    with app.app_context(), reading():
        chunks = exports.export_chunks(query, "csv")
        first = next(chunks)
        outcome = pay_in_another_thread(app, books)
        rest = list(chunks)
        db.session.rollback()
    assert outcome == "ok"
    assert _paid(app, books) == (1, True)
    assert _csv_rows([first, *rest]) == POSTINGS


def _can_take_the_write_lock(path: str) -> bool:
    """Whether another connection (not waiting at all) can begin a write now."""
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc)
        return False
    finally:
        other.close()


def test_only_a_transaction_that_may_write_takes_the_write_lock(app, books, database_url):
    """SQLite: outside reads a transaction begins IMMEDIATE, so a second writer waits for
    the first to end instead of failing half-way (the read-then-write upgrade); a read
    (a GET, an export) holds no write lock."""
    if not database_url.startswith("sqlite"):
        pytest.skip("BEGIN IMMEDIATE is SQLite's")
    path = sa.make_url(database_url).database
    with app.app_context():
        db.session.get(Membership, books["founder"])  # a read that begins the transaction
        assert not _can_take_the_write_lock(path)
        db.session.rollback()
    with app.test_request_context("/", method="POST"):
        db.session.get(Membership, books["founder"])
        assert not _can_take_the_write_lock(path)
        db.session.rollback()
    with app.test_request_context("/", method="GET"):
        db.session.get(Membership, books["founder"])
        assert _can_take_the_write_lock(path)
        db.session.rollback()
    with app.app_context(), reading():
        db.session.get(Membership, books["founder"])
        assert _can_take_the_write_lock(path)
        db.session.rollback()


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS"])
def test_a_read_request_that_flushes_a_change_is_refused(app, db_session, method):
    with app.test_request_context("/", method=method), pytest.raises(WriteInRead,
                                                                     match=method):
        make_user()


def test_a_flush_inside_reading_is_refused_and_a_post_may_write(app, db_session):
    with app.app_context(), reading(), pytest.raises(WriteInRead, match="a read tried"):
        make_user()
    with app.test_request_context("/", method="POST"):
        assert make_user(email="writer@example.test").id is not None


def test_the_file_database_runs_in_wal_with_full_sync(app, database_url):
    if not database_url.startswith("sqlite"):
        pytest.skip("journal modes are SQLite's")
    with app.app_context(), db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


@pytest.mark.parametrize(("url", "wal"), [
    ("sqlite:////srv/collective/collective.sqlite3", True),
    ("sqlite:///relative.sqlite3", True),
    ("sqlite://", False),
    ("sqlite:///:memory:", False),
    ("sqlite:///file:books?mode=memory&cache=shared&uri=true", False),
])
def test_wal_is_only_for_a_database_in_a_file(url, wal):
    assert database.is_file_database(sa.make_url(url)) is wal

"""Migration 0009 links the time entries of payments already recorded to the payment whose
old split counted them, on a database that holds rows, so no hour is paid twice; hours the
old rule never counted stay unpaid. Downgrade drops the links."""
from __future__ import annotations

import flask_migrate
import pytest
import sqlalchemy as sa

from collective.extensions import db
from tests.migrations_at import rows_at

BEFORE = "0007_ledger_insert_guard"
#: An app on a scratch database of this run's kind (shared with the enum migration test).

#: One pitch with Ann (allocation 1) and Bob (allocation 2), and four payments:
#:   1: received 15 Oct, recorded 15 Oct      3: received 20 Oct, reversed
#:   2: received 1 Nov, recorded 1 Nov        4: received 10 Nov, recorded 10 Nov
#: and five time entries (worked on, logged on):
#:   1: Ann, 10 Oct, 10 Oct -> payment 1 (its window: everything up to 15 Oct)
#:   2: Bob, 12 Oct, 12 Oct -> payment 1
#:   3: Ann, 1 Oct, logged late on 20 Oct: payment 1 was recorded before it, payment 2's
#:      window (15 Oct, 1 Nov] leaves it out; payment 4 found nothing in (1 Nov, 10 Nov], so
#:      the old rule's fallback counted every hour up to 10 Nov -> payment 4
#:   4: Bob, 25 Oct, 25 Oct -> payment 2
#:   5: Ann, 12 Nov, 12 Nov -> after every payment: unpaid
ROWS = [
    "INSERT INTO users (id, email, name, password_hash, timezone, created_at) VALUES "
    "(1, 'ann@example.test', 'Ann', 'x', 'UTC', '2026-09-01 00:00:00'), "
    "(2, 'bob@example.test', 'Bob', 'x', 'UTC', '2026-09-01 00:00:00')",
    "INSERT INTO collectives (id, name, slug, base_currency, timezone, created_at) VALUES "
    "(1, 'Scratch', 'scratch', 'USD', 'UTC', '2026-09-01 00:00:00')",
    "INSERT INTO memberships (id, collective_id, user_id, status, status_note, "
    "weekly_capacity_hours, joined_at) VALUES "
    "(1, 1, 1, 'active', '', 10, '2026-09-01 00:00:00'), "
    "(2, 1, 2, 'active', '', 10, '2026-09-01 00:00:00')",
    "INSERT INTO journal_entries (id, collective_id, occurred_on, posted_at, kind, memo, "
    "idempotency_key, reverses_id) VALUES "
    "(1, 1, '2026-10-15', '2026-10-15 10:00:00', 'payment', '', 'payment:1', NULL), "
    "(2, 1, '2026-11-01', '2026-11-01 10:00:00', 'payment', '', 'payment:2', NULL), "
    "(3, 1, '2026-10-20', '2026-10-20 10:00:00', 'payment', '', 'payment:3', NULL), "
    "(4, 1, '2026-10-20', '2026-10-21 10:00:00', 'reversal', '', 'reversal:3', 3), "
    "(5, 1, '2026-11-10', '2026-11-10 10:00:00', 'payment', '', 'payment:4', NULL)",
    "INSERT INTO clients (id, collective_id, name, country, contact, notes, created_at) "
    "VALUES (1, 1, 'Client', 'NZ', '', '', '2026-09-01 00:00:00')",
    "INSERT INTO pitches (id, collective_id, client_id, title, description, estimated_hours, "
    "value_amount, value_currency, state, version, created_at) VALUES "
    "(1, 1, 1, 'Site', '', 0, 100, 'USD', 'in_progress', 4, '2026-09-01 00:00:00')",
    "INSERT INTO allocations (id, pitch_id, membership_id, role, weight, weekly_hours, "
    "created_at) VALUES (1, 1, 1, 'lead', 1, 0, '2026-09-01 00:00:00'), "
    "(2, 1, 2, 'contributor', 1, 0, '2026-09-01 00:00:00')",
    "INSERT INTO share_rules (id, collective_id, version, common_fund_bp, finder_fee_bp, "
    "method, effective_on, created_at) VALUES "
    "(1, 1, 1, 1000, 0, 'hours', '2026-01-01', '2026-09-01 00:00:00')",
    "INSERT INTO client_payments (id, collective_id, pitch_id, amount, currency, rate, "
    "base_amount, received_on, reference, share_rule_id, split_note, entry_id, "
    "recorded_by_id, created_at) VALUES "
    "(1, 1, 1, 10000, 'USD', 1, 10000, '2026-10-15', '', 1, '', 1, 1, '2026-10-15 10:00:00'), "
    "(2, 1, 1, 10000, 'USD', 1, 10000, '2026-11-01', '', 1, '', 2, 1, '2026-11-01 10:00:00'), "
    "(3, 1, 1, 10000, 'USD', 1, 10000, '2026-10-20', '', 1, '', 3, 1, '2026-10-20 10:00:00'), "
    "(4, 1, 1, 10000, 'USD', 1, 10000, '2026-11-10', '', 1, '', 5, 1, '2026-11-10 10:00:00')",
    "INSERT INTO time_entries (id, allocation_id, membership_id, worked_on, minutes, note, "
    "created_at) VALUES "
    "(1, 1, 1, '2026-10-10', 120, '', '2026-10-10 18:00:00'), "
    "(2, 2, 2, '2026-10-12', 60, '', '2026-10-12 18:00:00'), "
    "(3, 1, 1, '2026-10-01', 180, '', '2026-10-20 18:00:00'), "
    "(4, 2, 2, '2026-10-25', 60, '', '2026-10-25 18:00:00'), "
    "(5, 1, 1, '2026-11-12', 30, '', '2026-11-12 18:00:00')",
]
LINKED = [(1, 1), (2, 1), (3, 4), (4, 2)]


def _links(conn: sa.Connection) -> list[tuple[int, int]]:
    return [tuple(r) for r in conn.execute(sa.text(
        "SELECT time_entry_id, payment_id FROM time_entry_payments "
        "WHERE released_by_id IS NULL ORDER BY time_entry_id"))]


def test_upgrade_links_the_hours_old_payments_used_and_downgrade_drops_the_links(scratch_app):
    with scratch_app.app_context():
        rows_at(BEFORE, ROWS)

        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            assert _links(conn) == LINKED
            # The database refuses a second standing link for an entry already paid...
            with pytest.raises(sa.exc.IntegrityError), conn.begin_nested():
                conn.execute(sa.text(
                    "INSERT INTO time_entry_payments (time_entry_id, payment_id, created_at) "
                    "VALUES (1, 2, '2026-11-01 10:00:00')"))
            # ...and takes one once the first is released by a reversal.
            conn.execute(sa.text(
                "UPDATE time_entry_payments SET released_by_id = 4 WHERE time_entry_id = 1"))
            conn.execute(sa.text(
                "INSERT INTO time_entry_payments (time_entry_id, payment_id, created_at) "
                "VALUES (1, 2, '2026-11-01 10:00:00')"))
            if conn.dialect.name == "sqlite":
                assert conn.execute(sa.text("PRAGMA foreign_key_check")).all() == []
            conn.rollback()

        flask_migrate.downgrade(revision=BEFORE)
        with db.engine.connect() as conn:
            assert "time_entry_payments" not in sa.inspect(conn).get_table_names()
            assert conn.scalar(sa.text("SELECT count(*) FROM time_entries")) == 5
            conn.rollback()

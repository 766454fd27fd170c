"""Migration 0032 gives each person the largest weekly capacity of their memberships that
are not removed (none: left unset), and adds the exchange rates; downgrade takes them off."""
from __future__ import annotations

import flask_migrate
import sqlalchemy as sa

from collective.extensions import db
from tests.migrations_at import rows_at

BEFORE = "0035_skill_evidence"
ROWS = [
    "INSERT INTO users (id, email, name, password_hash, timezone, created_at) VALUES "
    "(1, 'ann@example.test', 'Ann', 'x', 'UTC', '2026-09-01 00:00:00'), "
    "(2, 'bob@example.test', 'Bob', 'x', 'UTC', '2026-09-01 00:00:00'), "
    "(3, 'cy@example.test', 'Cy', 'x', 'UTC', '2026-09-01 00:00:00')",
    "INSERT INTO collectives (id, name, slug, base_currency, timezone, created_at) VALUES "
    "(1, 'One', 'one', 'USD', 'UTC', '2026-09-01 00:00:00'), "
    "(2, 'Two', 'two', 'EUR', 'UTC', '2026-09-01 00:00:00')",
    # Ann offers 10 and 25 h; Bob 12 h, and 40 h where he was removed; Cy is in none.
    "INSERT INTO memberships (id, collective_id, user_id, status, status_note, "
    "weekly_capacity_hours, joined_at) VALUES "
    "(1, 1, 1, 'active', '', 10, '2026-09-01 00:00:00'), "
    "(2, 2, 1, 'paused', '', 25, '2026-09-01 00:00:00'), "
    "(3, 1, 2, 'active', '', 12, '2026-09-01 00:00:00'), "
    "(4, 2, 2, 'removed', '', 40, '2026-09-01 00:00:00')",
]


def test_each_person_gets_the_largest_capacity_of_their_memberships(scratch_app):
    with scratch_app.app_context():
        rows_at(BEFORE, ROWS)
        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            found = conn.execute(sa.text(
                "SELECT id, weekly_capacity_hours, display_currency, is_other_work_private "
                "FROM users ORDER BY id")).all()
            assert [tuple(r) for r in found] == [(1, 25, None, False), (2, 12, None, False),
                                                 (3, None, None, False)]
            assert "exchange_rates" in sa.inspect(conn).get_table_names()
            conn.rollback()
        flask_migrate.downgrade(revision=BEFORE)
        with db.engine.connect() as conn:
            columns = {c["name"] for c in sa.inspect(conn).get_columns("users")}
            assert "weekly_capacity_hours" not in columns
            assert "exchange_rates" not in sa.inspect(conn).get_table_names()
            conn.rollback()

"""Migration 0017 adds users.email_confirmed_at: every account that exists then counts as
confirmed since it was created, so nobody is locked out. Downgrade drops the column and the
table of confirmation requests."""
from __future__ import annotations

from datetime import UTC, datetime

import flask_migrate
import sqlalchemy as sa

from collective.extensions import db

BEFORE = "0015_mail_outbox"
AFTER = "0016_email_confirmation"


def _as_utc(value) -> datetime:
    if isinstance(value, str):  # SQLite hands back text
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def test_upgrade_confirms_every_existing_account_since_its_creation(scratch_app):
    with scratch_app.app_context():
        flask_migrate.upgrade(revision=BEFORE)
        with db.engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO users (id, email, name, password_hash, timezone, created_at) "
                "VALUES (1, 'ann@example.test', 'Ann', 'x', 'UTC', '2026-09-01 08:00:00'), "
                "(2, 'bo@example.test', 'Bo', 'x', 'UTC', '2026-10-15 17:30:00')"))

        flask_migrate.upgrade(revision=AFTER)
        with db.engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT id, email_confirmed_at FROM users ORDER BY id")).all()
            assert [(i, _as_utc(at)) for i, at in rows] == [
                (1, datetime(2026, 9, 1, 8, 0, tzinfo=UTC)),
                (2, datetime(2026, 10, 15, 17, 30, tzinfo=UTC))]
            assert "email_confirmation_requests" in sa.inspect(conn).get_table_names()
            conn.rollback()
        with db.engine.begin() as conn:  # a new account starts unconfirmed
            conn.execute(sa.text(
                "INSERT INTO users (id, email, name, password_hash, timezone, created_at) "
                "VALUES (3, 'cy@example.test', 'Cy', 'x', 'UTC', '2026-11-26 10:00:00')"))
            assert conn.scalar(sa.text(
                "SELECT email_confirmed_at FROM users WHERE id = 3")) is None

        flask_migrate.downgrade(revision=BEFORE)
        with db.engine.connect() as conn:
            inspector = sa.inspect(conn)
            assert "email_confirmed_at" not in {c["name"] for c in inspector.get_columns("users")}
            assert "email_confirmation_requests" not in inspector.get_table_names()
            assert conn.scalar(sa.text("SELECT count(*) FROM users")) == 3
            conn.rollback()

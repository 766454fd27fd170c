"""Migration 0018 gives every collective the accounts of complete books and lets entries of
the new kinds be posted, on a database that holds entries; no posting moves, and the ledger
stays append-only. Downgrade puts the chart and the kinds back."""
from __future__ import annotations

import flask_migrate
import pytest
import sqlalchemy as sa

from collective.extensions import db

BEFORE = "0017_notifications"
ROWS = [
    "INSERT INTO collectives (id, name, slug, base_currency, timezone, created_at) VALUES "
    "(1, 'One', 'one', 'USD', 'UTC', '2026-09-01 00:00:00'), "
    "(2, 'Two', 'two', 'EUR', 'UTC', '2026-09-01 00:00:00')",
    "INSERT INTO accounts (id, collective_id, code, name, type, created_at) VALUES "
    "(1, 1, '1000', 'Bank', 'asset', '2026-09-01 00:00:00'), "
    "(2, 1, '3000', 'Common fund', 'equity', '2026-09-01 00:00:00'), "
    "(3, 1, '5000', 'Expenses', 'expense', '2026-09-01 00:00:00')",
    "INSERT INTO journal_entries (id, collective_id, occurred_on, posted_at, kind, memo, "
    "idempotency_key, reverses_id) VALUES "
    "(1, 1, '2026-10-01', '2026-10-01 10:00:00', 'opening', '', 'seed', NULL)",
    "INSERT INTO postings (id, entry_id, account_id, amount, currency) VALUES "
    "(1, 1, 1, 5000, 'USD'), (2, 1, 2, -5000, 'USD')",
]
NEW_CODES = [("2300", "Sales tax payable", "liability"),
             ("4900", "Exchange gains and losses", "income"),
             ("5100", "Members' shares of client work", "expense"),
             ("5200", "Finder's fees", "expense"),
             ("5300", "Bad debts", "expense")]


def _chart(conn: sa.Connection, collective_id: int) -> list[tuple]:
    return [tuple(r) for r in conn.execute(sa.text(
        "SELECT code, name, type FROM accounts WHERE collective_id = :c ORDER BY code"),
        {"c": collective_id})]


def _entry(conn: sa.Connection, entry_id: int, kind: str) -> None:
    conn.execute(sa.text(
        "INSERT INTO journal_entries (id, collective_id, occurred_on, posted_at, kind, memo, "
        "idempotency_key) VALUES (:id, 1, '2026-12-31', '2026-12-31 10:00:00', :kind, '', "
        ":key)"), {"id": entry_id, "kind": kind, "key": f"k{entry_id}"})


def test_upgrade_adds_the_accounts_and_kinds_and_keeps_the_ledger_append_only(scratch_app):
    with scratch_app.app_context():
        flask_migrate.upgrade(revision=BEFORE)
        with db.engine.begin() as conn:
            for statement in ROWS:
                conn.execute(sa.text(statement))
            if conn.dialect.name == "postgresql":
                # The rows above chose their ids; a real database's sequences are past them.
                for table in ("accounts", "journal_entries", "postings"):
                    conn.execute(sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 100)"))

        flask_migrate.upgrade(revision="0018_books_chart")
        with db.engine.connect() as conn:
            assert _chart(conn, 1) == [("1000", "Bank", "asset"),
                                       ("2300", "Sales tax payable", "liability"),
                                       ("3000", "Common fund", "equity"),
                                       ("4900", "Exchange gains and losses", "income"),
                                       ("5000", "Other expenses", "expense"),
                                       *NEW_CODES[2:]]
            assert _chart(conn, 2) == NEW_CODES
            assert [tuple(r) for r in conn.execute(sa.text(
                "SELECT id, account_id, amount FROM postings ORDER BY id"))] == [
                (1, 1, 5000), (2, 2, -5000)]
            conn.rollback()
        flask_migrate.downgrade(revision=BEFORE)
        with db.engine.connect() as conn:
            assert _chart(conn, 1) == [("1000", "Bank", "asset"),
                                       ("3000", "Common fund", "equity"),
                                       ("5000", "Expenses", "expense")]
            assert _chart(conn, 2) == []
            with pytest.raises(sa.exc.IntegrityError), conn.begin_nested():
                _entry(conn, 9, "invoice")
            conn.rollback()

        flask_migrate.upgrade(revision="0018_books_chart")
        with db.engine.begin() as conn:
            for number, kind in enumerate(("invoice", "credit-note", "write-off", "expense",
                                           "transfer", "closing"), start=2):
                _entry(conn, number, kind)
        with db.engine.connect() as conn:
            with pytest.raises(sa.exc.IntegrityError), conn.begin_nested():
                _entry(conn, 9, "bonus")
            # The rebuild on SQLite put the append-only triggers back.
            with pytest.raises(sa.exc.DatabaseError), conn.begin_nested():
                conn.execute(sa.text("UPDATE journal_entries SET memo = 'x' WHERE id = 1"))
            with pytest.raises(sa.exc.DatabaseError), conn.begin_nested():
                conn.execute(sa.text("DELETE FROM postings WHERE id = 1"))
            conn.rollback()

"""Migration 0020 gives every existing collective the accounts 5400-5700 and the default
expense categories, booked to them (Other to 5000); downgrade takes them away again."""
from __future__ import annotations

import flask_migrate
import sqlalchemy as sa

from collective.books.expenses.categories import DEFAULT_CATEGORIES
from collective.extensions import db

BEFORE = "0019_payment_split_amount"


def _categories(conn: sa.Connection, collective_id: int) -> set[tuple]:
    return {tuple(r) for r in conn.execute(sa.text(
        "SELECT e.name, a.code, a.collective_id FROM expense_categories e "
        "JOIN accounts a ON a.id = e.account_id WHERE e.collective_id = :c"),
        {"c": collective_id})}


def _codes(conn: sa.Connection, collective_id: int) -> list[str]:
    return [r[0] for r in conn.execute(sa.text(
        "SELECT code FROM accounts WHERE collective_id = :c AND code >= '5400' "
        "ORDER BY code"), {"c": collective_id})]


def test_upgrade_gives_existing_collectives_the_accounts_and_categories(scratch_app):
    with scratch_app.app_context():
        flask_migrate.upgrade(revision=BEFORE)
        with db.engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO collectives (id, name, slug, base_currency, timezone, created_at) "
                "VALUES (1, 'One', 'one', 'USD', 'UTC', '2026-09-01 00:00:00'), "
                "(2, 'Two', 'two', 'EUR', 'UTC', '2026-09-01 00:00:00')"))
            for collective_id in (1, 2):
                conn.execute(sa.text(
                    "INSERT INTO accounts (collective_id, code, name, type, created_at) "
                    "VALUES (:c, '5000', 'Other expenses', 'expense', '2026-09-01 00:00:00')"),
                    {"c": collective_id})

        flask_migrate.upgrade(revision="0020_expenses")
        with db.engine.connect() as conn:
            for collective_id in (1, 2):
                assert _codes(conn, collective_id) == ["5400", "5500", "5600", "5700"]
                assert _categories(conn, collective_id) == {
                    (name, code, collective_id) for name, code in DEFAULT_CATEGORIES}
            assert conn.execute(sa.text(
                "SELECT count(*) FROM expense_categories WHERE is_active")).scalar() == 10

        flask_migrate.downgrade(revision=BEFORE)
        with db.engine.connect() as conn:
            assert _codes(conn, 1) == [] and _codes(conn, 2) == []
            assert not sa.inspect(conn).has_table("expense_categories")

"""Migration 0011 turns the benefits fund into the members' reserves (a liability, 2200),
gives every collective the receivable for gift debts (1200), and lets run lines record
debts, make-ups and leavers' returns, on a database that holds rows. No posting changes.
Downgrade puts the chart back."""
from __future__ import annotations

import flask_migrate
import pytest
import sqlalchemy as sa

from collective.extensions import db
from tests.migrations_at import rows_at

BEFORE = "0010_claim_end"
ROWS = [
    "INSERT INTO users (id, email, name, password_hash, timezone, created_at) VALUES "
    "(1, 'ann@example.test', 'Ann', 'x', 'UTC', '2026-09-01 00:00:00')",
    "INSERT INTO collectives (id, name, slug, base_currency, timezone, created_at) VALUES "
    "(1, 'One', 'one', 'USD', 'UTC', '2026-09-01 00:00:00'), "
    "(2, 'Two', 'two', 'EUR', 'UTC', '2026-09-01 00:00:00')",
    "INSERT INTO accounts (id, collective_id, code, name, type, created_at) VALUES "
    "(1, 1, '1000', 'Bank', 'asset', '2026-09-01 00:00:00'), "
    "(2, 1, '3100', 'Benefits fund', 'equity', '2026-09-01 00:00:00'), "
    "(3, 2, '3100', 'Benefits fund', 'equity', '2026-09-01 00:00:00')",
    "INSERT INTO journal_entries (id, collective_id, occurred_on, posted_at, kind, memo, "
    "idempotency_key, reverses_id) VALUES "
    "(1, 1, '2026-10-01', '2026-10-01 10:00:00', 'opening', '', 'seed', NULL)",
    "INSERT INTO postings (id, entry_id, account_id, amount, currency) VALUES "
    "(1, 1, 1, 5000, 'USD'), (2, 1, 2, -5000, 'USD')",
    "INSERT INTO memberships (id, collective_id, user_id, status, status_note, "
    "weekly_capacity_hours, joined_at) VALUES (1, 1, 1, 'active', '', 10, "
    "'2026-09-01 00:00:00')",
]


def _chart(conn: sa.Connection) -> list[tuple]:
    return [tuple(r) for r in conn.execute(sa.text(
        "SELECT collective_id, code, name, type FROM accounts ORDER BY collective_id, code"))]


def test_upgrade_makes_the_fund_a_liability_and_adds_the_receivable(scratch_app):
    with scratch_app.app_context():
        rows_at(BEFORE, ROWS)

        flask_migrate.upgrade(revision="0011_fund_reserves")
        with db.engine.connect() as conn:
            assert _chart(conn) == [
                (1, "1000", "Bank", "asset"),
                (1, "1200", "Owed to the benefits fund by members", "asset"),
                (1, "2200", "Benefits fund: members' reserves", "liability"),
                (2, "1200", "Owed to the benefits fund by members", "asset"),
                (2, "2200", "Benefits fund: members' reserves", "liability")]
            # The postings are the same rows, on the same account (id 2, now 2200).
            assert [tuple(r) for r in conn.execute(sa.text(
                "SELECT id, account_id, amount FROM postings ORDER BY id"))] == [
                (1, 1, 5000), (2, 2, -5000)]
            conn.rollback()
        with db.engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO benefit_plans (id, collective_id, version, effective_on, terms, "
                "created_at) VALUES (1, 1, 1, '2026-01-01', '{}', '2026-09-01 00:00:00')"))
            conn.execute(sa.text(
                "INSERT INTO benefit_runs (id, collective_id, kind, period, plan_id, "
                "total_amount, shortfall_amount, entry_count, triggered_by, finished_at) "
                "VALUES (1, 1, 'payouts', '2026-10-01', 1, 0, 0, 0, 'test', "
                "'2026-11-01 00:00:00')"))
            for kind in ("debt", "debt-paid", "makeup", "leaving"):
                conn.execute(sa.text(
                    "INSERT INTO run_lines (run_id, membership_id, kind, amount, shortfall) "
                    f"VALUES (1, 1, '{kind}', 1, 0)"))
        with db.engine.connect() as conn:
            with pytest.raises(sa.exc.IntegrityError), conn.begin_nested():
                conn.execute(sa.text(
                    "INSERT INTO run_lines (run_id, membership_id, kind, amount, shortfall) "
                    "VALUES (1, 1, 'bonus', 1, 0)"))
            assert "uq_run_lines_claim_id_for_period" in {
                index["name"] for index in sa.inspect(conn).get_indexes("run_lines")}
            conn.rollback()

        flask_migrate.downgrade(revision=BEFORE)
        with db.engine.connect() as conn:
            assert _chart(conn) == [(1, "1000", "Bank", "asset"),
                                    (1, "3100", "Benefits fund", "equity"),
                                    (2, "3100", "Benefits fund", "equity")]
            assert conn.scalar(sa.text("SELECT count(*) FROM run_lines")) == 0
            conn.rollback()

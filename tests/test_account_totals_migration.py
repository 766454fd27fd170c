"""Migration 0038 makes ledger_account_totals from ledger_kind_totals (the same postings up
to the same watermark, a row per account and currency), and downgrades."""
from __future__ import annotations

import flask_migrate
import sqlalchemy as sa

from collective.extensions import db
from tests.migrations_at import rows_at

BEFORE = "0037_member_hire_requests"
AT = "2026-10-01 00:00:00"
ROWS = [
    "INSERT INTO collectives (id, name, slug, base_currency, timezone, created_at) VALUES "
    f"(1, 'One', 'one', 'EUR', 'UTC', '{AT}'), (2, 'Two', 'two', 'EUR', 'UTC', '{AT}')",
    "INSERT INTO accounts (id, collective_id, code, name, type, created_at) VALUES "
    f"(1, 1, '1000', 'Bank', 'asset', '{AT}'), (2, 1, '3000', 'Common fund', 'equity', "
    f"'{AT}'), (3, 2, '1000', 'Bank', 'asset', '{AT}')",
    "INSERT INTO ledger_kind_totals (collective_id, account_id, currency, kind, "
    "effective_kind, debits, credits, postings) VALUES "
    "(1, 1, 'EUR', 'payment', 'payment', 10000, 0, 2), "
    "(1, 1, 'EUR', 'payout', 'payout', 0, 4000, 1), "
    "(1, 1, 'EUR', 'reversal', 'payment', 0, 2500, 1), "
    "(1, 1, 'USD', 'payment', 'payment', 700, 0, 1), "
    "(1, 2, 'EUR', 'payment', 'payment', 0, 1000, 2), "
    "(2, 3, 'EUR', 'payment', 'payment', 50, 0, 1)",
]


def test_the_account_totals_are_the_kind_totals_summed_per_account(scratch_app):
    with scratch_app.app_context():
        rows_at(BEFORE, ROWS)
        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            assert [tuple(r) for r in conn.execute(sa.text(
                "SELECT collective_id, account_id, currency, debits, credits, postings "
                "FROM ledger_account_totals ORDER BY account_id, currency"))] == [
                (1, 1, "EUR", 10000, 6500, 4), (1, 1, "USD", 700, 0, 1),
                (1, 2, "EUR", 0, 1000, 2), (2, 3, "EUR", 50, 0, 1)]
        flask_migrate.downgrade(revision=BEFORE)
        assert "ledger_account_totals" not in sa.inspect(db.engine).get_table_names()
        flask_migrate.upgrade()
        assert "ledger_account_totals" in sa.inspect(db.engine).get_table_names()

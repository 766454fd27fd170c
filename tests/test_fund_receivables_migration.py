"""Migration 0022 brings what members owed the benefits fund before it into the ledger, per
member, on a database that holds old-style rows: Ann's month in arrears (only in run lines)
and Bob's gift debt (in the aggregate receivable 1200) move onto their own receivables by
two transfer entries, no posting is touched, the fund holds what it held, and the next run
settles Ann's arrears from her migrated receivable."""
from __future__ import annotations

import json
from datetime import date

import flask_migrate
import sqlalchemy as sa

from collective.benefits import invariants, queries, receivables, runs
from collective.benefits.compute import PlanTerms
from collective.demo.fund import BREAD_FUND
from collective.extensions import db
from collective.ledger.models import Posting

BEFORE = "0021_bank_periods"
TERMS = json.dumps(PlanTerms.from_json(BREAD_FUND).to_json()).replace("'", "''")
#: Collective 1 (USD): Ann (membership 1) and Bob (2). October's contribution run took
#: 10.00 from Bob and found Ann's payable short of her 22.50 (a run line 'owed', no entry).
#: October's payouts paid Ann 27.50, a gift from Bob, whose reserve (10.00) covered only
#: part: he owes the fund 17.50, posted to the aggregate receivable 1200. Ann has since paid
#: 45.00 in. Collective 2 has no fund history.
ROWS = [
    "INSERT INTO users (id, email, name, password_hash, timezone, created_at) VALUES "
    "(1, 'ann@example.test', 'Ann', 'x', 'UTC', '2026-01-01 00:00:00'), "
    "(2, 'bob@example.test', 'Bob', 'x', 'UTC', '2026-01-01 00:00:00')",
    "INSERT INTO collectives (id, name, slug, base_currency, timezone, created_at) VALUES "
    "(1, 'One', 'one', 'USD', 'UTC', '2026-01-01 00:00:00'), "
    "(2, 'Two', 'two', 'EUR', 'UTC', '2026-01-01 00:00:00')",
    "INSERT INTO memberships (id, collective_id, user_id, status, status_note, "
    "weekly_capacity_hours, joined_at) VALUES "
    "(1, 1, 1, 'active', '', 10, '2026-01-01 00:00:00'), "
    "(2, 1, 2, 'active', '', 10, '2026-01-01 00:00:00')",
    "INSERT INTO accounts (id, collective_id, code, name, type, membership_id, created_at) "
    "VALUES (1, 1, '1000', 'Bank', 'asset', NULL, '2026-01-01 00:00:00'), "
    "(2, 1, '1200', 'Owed to the benefits fund by members', 'asset', NULL, "
    "'2026-01-01 00:00:00'), "
    "(3, 1, '2200', 'Benefits fund: members'' reserves', 'liability', NULL, "
    "'2026-01-01 00:00:00'), "
    "(4, 1, '2100-1', 'Payable to Ann', 'liability', 1, '2026-01-01 00:00:00'), "
    "(5, 1, '2100-2', 'Payable to Bob', 'liability', 2, '2026-01-01 00:00:00'), "
    "(6, 2, '1200', 'Owed to the benefits fund by members', 'asset', NULL, "
    "'2026-01-01 00:00:00'), "
    "(7, 2, '2200', 'Benefits fund: members'' reserves', 'liability', NULL, "
    "'2026-01-01 00:00:00')",
    "INSERT INTO journal_entries (id, collective_id, occurred_on, posted_at, kind, memo, "
    "idempotency_key) VALUES "
    "(1, 1, '2026-10-02', '2026-10-02 10:00:00', 'deposit', '', 'bob-in'), "
    "(2, 1, '2026-10-31', '2026-11-01 10:00:00', 'contribution', '', "
    "'contribution:2026-10:member:2'), "
    "(3, 1, '2026-10-31', '2026-11-01 10:00:00', 'benefit', '', 'benefit:1:2026-10'), "
    "(4, 1, '2026-11-03', '2026-11-03 10:00:00', 'deposit', '', 'ann-in')",
    "INSERT INTO postings (id, entry_id, account_id, amount, currency) VALUES "
    "(1, 1, 1, 1000, 'USD'), (2, 1, 5, -1000, 'USD'), "
    "(3, 2, 5, 1000, 'USD'), (4, 2, 3, -1000, 'USD'), "
    "(5, 3, 3, 1000, 'USD'), (6, 3, 2, 1750, 'USD'), (7, 3, 4, -2750, 'USD'), "
    "(8, 4, 1, 4500, 'USD'), (9, 4, 4, -4500, 'USD')",
    "INSERT INTO benefit_plans (id, collective_id, version, effective_on, terms, created_at) "
    f"VALUES (1, 1, 1, '2026-01-01', '{TERMS}', '2026-01-01 00:00:00')",
    "INSERT INTO benefit_runs (id, collective_id, kind, period, plan_id, total_amount, "
    "shortfall_amount, entry_count, triggered_by, finished_at) VALUES "
    "(1, 1, 'contributions', '2026-10-01', 1, 1000, 2250, 1, 'test', '2026-11-01 10:00:00'), "
    "(2, 1, 'payouts', '2026-10-01', 1, 2750, 0, 1, 'test', '2026-11-01 10:00:00')",
    "INSERT INTO run_lines (id, run_id, membership_id, kind, amount, shortfall, entry_id) "
    "VALUES (1, 1, 2, 'contribution', 1000, 0, 2), (2, 1, 1, 'owed', 2250, 0, NULL), "
    "(3, 2, 1, 'benefit', 2750, 0, 3), (4, 2, 2, 'gift', 2750, 0, 3), "
    "(5, 2, 2, 'debt', 1750, 0, 3)",
]


def _postings(conn: sa.Connection, key: str) -> dict[str, int]:
    return {code: amount for code, amount in conn.execute(sa.text(
        "SELECT a.code, p.amount FROM postings p JOIN accounts a ON a.id = p.account_id "
        "JOIN journal_entries e ON e.id = p.entry_id WHERE e.idempotency_key = :key"),
        {"key": key})}


def test_upgrade_moves_old_arrears_and_gift_debts_onto_each_members_receivable(scratch_app):
    with scratch_app.app_context():
        flask_migrate.upgrade(revision=BEFORE)
        with db.engine.begin() as conn:
            for statement in ROWS:
                conn.execute(sa.text(statement))
            if conn.dialect.name == "postgresql":
                # The rows above chose their ids; a real database's sequences are past them.
                for table in ("accounts", "journal_entries", "postings", "run_lines",
                              "benefit_runs", "memberships", "users", "collectives"):
                    conn.execute(sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 100)"))

        flask_migrate.upgrade(revision="0022_member_receivables")

        with db.engine.connect() as conn:
            assert [tuple(r) for r in conn.execute(sa.text(
                "SELECT collective_id, code, name, type, owed_by_membership_id FROM accounts "
                "WHERE code LIKE '12%' OR code = '2210' ORDER BY collective_id, code"))] == [
                (1, "1200", "Owed to the benefits fund by members", "asset", None),
                (1, "1210-1", "Owed to the benefits fund by Ann", "asset", 1),
                (1, "1210-2", "Owed to the benefits fund by Bob", "asset", 2),
                (1, "2210", "Benefits fund: contributions due, not yet paid", "liability",
                 None),
                (2, "1200", "Owed to the benefits fund by members", "asset", None),
                (2, "2210", "Benefits fund: contributions due, not yet paid", "liability",
                 None)]
            # The old postings are the same rows; two transfers were added.
            assert [tuple(r) for r in conn.execute(sa.text(
                "SELECT id, entry_id, account_id, amount FROM postings WHERE id < 10 "
                "ORDER BY id"))] == [(1, 1, 1, 1000), (2, 1, 5, -1000), (3, 2, 5, 1000),
                                     (4, 2, 3, -1000), (5, 3, 3, 1000), (6, 3, 2, 1750),
                                     (7, 3, 4, -2750), (8, 4, 1, 4500), (9, 4, 4, -4500)]
            assert [tuple(r) for r in conn.execute(sa.text(
                "SELECT collective_id, kind FROM journal_entries WHERE id > 4"))] == [
                (1, "transfer"), (1, "transfer")]
            assert _postings(conn, "fund-receivables:gift-debts") == {
                "1210-2": 1750, "1200": -1750}
            assert _postings(conn, "fund-receivables:arrears") == {
                "1210-1": 2250, "2210": -2250}
            conn.rollback()

        # The pages' numbers come from the receivables now, and the fund holds what it held.
        assert queries.owing(1).to_dict("records") == [
            {"membership_id": 1, "name": "Ann", "owed": 2250, "debt": 0},
            {"membership_id": 2, "name": "Bob", "owed": 0, "debt": 1750}]
        # Before, 2200 and 1200 held -(-1000 + 1000 + 1750): what Bob owes was paid out.
        # (A plain sum: fund_balance reads the ledger totals, a later migration's tables.)
        fund_accounts = receivables.fund_account_ids(1)
        assert -db.session.scalar(sa.select(sa.func.sum(Posting.amount)).where(
            Posting.account_id.in_(fund_accounts))) == -1750

        # November's run: Ann pays the month and settles October from her receivable; Bob,
        # whose payable is empty, owes November on his. Today's code runs on today's schema
        # (the run writes tables added later, such as the audit log; the fund's check
        # reads the ledger totals).
        db.session.rollback()
        flask_migrate.upgrade()
        check = invariants.reserve_check(1)
        assert check.ok, check.describe()
        assert (check.arrears, check.debts, check.owed_held) == (2250, 1750, 4000)
        assert invariants.reserve_problems() == []
        runs.run_contributions(1, date(2026, 11, 1), today=date(2026, 12, 1))
        db.session.commit()
        with db.engine.connect() as conn:
            assert _postings(conn, "settled:2026-11:member:1") == {
                "2100-1": 2250, "1210-1": -2250, "2210": 2250, "2200": -2250}
            assert _postings(conn, "arrears:2026-11:member:2") == {
                "1210-2": 2250, "2210": -2250}
            conn.rollback()
        assert queries.owing(1).to_dict("records") == [
            {"membership_id": 2, "name": "Bob", "owed": 2250, "debt": 1750}]
        assert invariants.reserve_check(1).ok
        db.session.rollback()
        db.session.remove()

        flask_migrate.downgrade(revision=BEFORE)
        with db.engine.connect() as conn:
            assert "owed_by_membership_id" not in {
                column["name"] for column in sa.inspect(conn).get_columns("accounts")}
            # Collective 2's 2210 held nothing and is gone; what holds postings stays.
            assert [tuple(r) for r in conn.execute(sa.text(
                "SELECT collective_id, code FROM accounts WHERE code LIKE '12%' "
                "OR code = '2210' ORDER BY collective_id, code"))] == [
                (1, "1200"), (1, "1210-1"), (1, "1210-2"), (1, "2210"), (2, "1200")]
            conn.rollback()

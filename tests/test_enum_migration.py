"""Migration 0006 adds the enum CHECK constraints to a database that already holds rows, and
takes them off again, on this run's database (conftest's scratch_app: a scratch SQLite file,
or a scratch PostgreSQL schema beside the one the other tests use)."""
from __future__ import annotations

import flask_migrate
import pytest
import sqlalchemy as sa

from collective.extensions import db

BEFORE = "0004"
NEW_CHECKS = {"ck_journal_entries_kind_known", "ck_proposals_kind_known",
              "ck_pitch_events_from_state_known", "ck_pitch_events_to_state_known",
              "ck_claim_events_status_known"}

#: Rows as the code wrote them before the enums: an entry and its reversal (a table that
#: others reference, and that refers to itself), a pitch created ('' as its earlier state)
#: and moved on, a proposal with a vote, a claim with its first event.
ROWS = [
    "INSERT INTO users (id, email, name, password_hash, timezone, created_at) VALUES "
    "(1, 'ann@example.test', 'Ann', 'x', 'UTC', '2026-09-01 00:00:00')",
    "INSERT INTO collectives (id, name, slug, base_currency, timezone, created_at) VALUES "
    "(1, 'Scratch', 'scratch', 'USD', 'UTC', '2026-09-01 00:00:00')",
    "INSERT INTO memberships (id, collective_id, user_id, status, status_note, "
    "weekly_capacity_hours, joined_at) VALUES (1, 1, 1, 'active', '', 10, "
    "'2026-09-01 00:00:00')",
    "INSERT INTO accounts (id, collective_id, code, name, type, created_at) VALUES "
    "(1, 1, '1000', 'Bank', 'asset', '2026-09-01 00:00:00'), "
    "(2, 1, '3000', 'Common fund', 'equity', '2026-09-01 00:00:00')",
    "INSERT INTO journal_entries (id, collective_id, occurred_on, posted_at, kind, memo, "
    "idempotency_key, reverses_id) VALUES "
    "(1, 1, '2026-09-01', '2026-09-01 00:00:00', 'opening', '', 'opening', NULL), "
    "(2, 1, '2026-09-02', '2026-09-02 00:00:00', 'reversal', '', 'reversal:1', 1)",
    "INSERT INTO postings (id, entry_id, account_id, amount, currency) VALUES "
    "(1, 1, 1, 500, 'USD'), (2, 1, 2, -500, 'USD'), (3, 2, 1, -500, 'USD'), "
    "(4, 2, 2, 500, 'USD')",
    "INSERT INTO clients (id, collective_id, name, country, contact, notes, created_at) "
    "VALUES (1, 1, 'Client', 'NZ', '', '', '2026-09-01 00:00:00')",
    "INSERT INTO pitches (id, collective_id, client_id, title, description, estimated_hours, "
    "value_amount, value_currency, state, version, created_at) VALUES "
    "(1, 1, 1, 'Site', '', 0, 100, 'USD', 'pitched', 2, '2026-09-01 00:00:00')",
    "INSERT INTO pitch_events (id, pitch_id, from_state, to_state, actor_id, at, note) VALUES "
    "(1, 1, '', 'open', 1, '2026-09-01 00:00:00', ''), "
    "(2, 1, 'open', 'pitched', 1, '2026-09-02 00:00:00', '')",
    "INSERT INTO proposals (id, collective_id, kind, title, description, payload, "
    "created_by_id, created_at, deadline_at, quorum_bp, threshold_bp, status, outcome) VALUES "
    "(1, 1, 'share_rule', 'Rule', '', '{}', 1, '2026-09-01 00:00:00', "
    "'2026-09-08 00:00:00', 5000, 5000, 'open', '')",
    "INSERT INTO votes (id, proposal_id, membership_id, choice, reason, cast_at) VALUES "
    "(1, 1, 1, 'agree', '', '2026-09-02 00:00:00')",
    "INSERT INTO claims (id, collective_id, membership_id, kind, start_period, months, "
    "amount, invoice_amount, note, status, decision_reason, created_at) VALUES "
    "(1, 1, 1, 'sick', '2026-09-01', 2, 0, 0, '', 'pending', '', '2026-09-01 00:00:00')",
    "INSERT INTO claim_events (id, claim_id, status, actor_id, note, at) VALUES "
    "(1, 1, 'pending', 1, 'filed', '2026-09-01 00:00:00')",
]
COUNTED = ("journal_entries", "postings", "pitch_events", "proposals", "votes", "claims",
           "claim_events")


def _counts(conn: sa.Connection) -> dict[str, int]:
    return {t: conn.scalar(sa.text(f"SELECT count(*) FROM {t}")) for t in COUNTED}


def _checks(conn: sa.Connection) -> set[str]:
    inspector = sa.inspect(conn)
    return {c["name"] for table in ("journal_entries", "proposals", "pitch_events",
                                    "claim_events")
            for c in inspector.get_check_constraints(table)}


def _from_states(conn: sa.Connection) -> list:
    return conn.scalars(sa.text("SELECT from_state FROM pitch_events ORDER BY id")).all()


def _ledger_refuses_changes(conn: sa.Connection) -> None:
    for statement in ("UPDATE journal_entries SET memo = 'edited'",
                      "DELETE FROM postings"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), conn.begin_nested():
            conn.execute(sa.text(statement))


def test_upgrade_keeps_every_row_and_adds_the_checks_and_downgrade_takes_them_off(scratch_app):
    with scratch_app.app_context():
        flask_migrate.upgrade(revision=BEFORE)
        with db.engine.begin() as conn:
            for statement in ROWS:
                conn.execute(sa.text(statement))
            before = _counts(conn)

        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            assert _counts(conn) == before
            assert _from_states(conn) == [None, "open"]
            assert _checks(conn) >= NEW_CHECKS
            _ledger_refuses_changes(conn)
            with pytest.raises(sa.exc.IntegrityError, match="ck_journal_entries_kind_known"), \
                    conn.begin_nested():
                conn.execute(sa.text(
                    "INSERT INTO journal_entries (collective_id, occurred_on, posted_at, kind, "
                    "memo, idempotency_key) VALUES (1, '2026-09-03', '2026-09-03 00:00:00', "
                    "'manual', '', 'manual:1')"))
            if conn.dialect.name == "sqlite":
                # Enforcement, off while the tables were rebuilt, is back on.
                assert conn.scalar(sa.text("PRAGMA foreign_keys")) == 1
                assert conn.execute(sa.text("PRAGMA foreign_key_check")).all() == []
            conn.rollback()

        flask_migrate.downgrade(revision=BEFORE)
        with db.engine.connect() as conn:
            assert _counts(conn) == before
            assert _from_states(conn) == ["", "open"]
            assert not _checks(conn) & NEW_CHECKS
            _ledger_refuses_changes(conn)
            if conn.dialect.name == "sqlite":
                assert conn.scalar(sa.text("PRAGMA foreign_keys")) == 1
            conn.rollback()

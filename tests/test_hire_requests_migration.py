"""Migration 0037 lets a shared pitch be a member's request (requested, turned down), keeps
the sharings already there as they were, counts a request in the one-live-sharing-per-pitch
index, and downgrades (dropping requests never offered) and upgrades again."""
from __future__ import annotations

import flask_migrate
import pytest
import sqlalchemy as sa

from collective.extensions import db
from tests.migrations_at import rows_at

BEFORE = "0036_one_person_many_collectives"
AT = "2026-10-01 00:00:00"
ROWS = [
    "INSERT INTO users (id, email, name, password_hash, timezone, created_at) VALUES "
    f"(1, 'ann@example.test', 'Ann', 'x', 'UTC', '{AT}'), "
    f"(2, 'zoe@example.test', 'Zoe', 'x', 'UTC', '{AT}')",
    "INSERT INTO collectives (id, name, slug, base_currency, timezone, created_at) VALUES "
    f"(1, 'Host', 'host', 'EUR', 'UTC', '{AT}'), (2, 'Partner', 'partner', 'EUR', 'UTC', "
    f"'{AT}')",
    "INSERT INTO memberships (id, collective_id, user_id, status, status_note, "
    f"weekly_capacity_hours, joined_at) VALUES (1, 1, 1, 'active', '', 10, '{AT}'), "
    f"(2, 2, 2, 'active', '', 10, '{AT}')",
    "INSERT INTO clients (id, collective_id, name, country, contact, notes, created_at) "
    f"VALUES (1, 1, 'Client', 'NZ', '', '', '{AT}')",
    "INSERT INTO pitches (id, collective_id, client_id, title, description, estimated_hours, "
    "value_amount, value_currency, state, version, created_at) VALUES "
    f"(1, 1, 1, 'Shared', '', 0, 100, 'EUR', 'won', 1, '{AT}'), "
    f"(2, 1, 1, 'Asked', '', 0, 100, 'EUR', 'won', 1, '{AT}')",
    "INSERT INTO federations (id, low_collective_id, high_collective_id, "
    "requested_by_collective_id, status, created_at, leave_reason) VALUES "
    f"(1, 1, 2, 1, 'active', '{AT}', '')",
    "INSERT INTO shared_pitches (id, pitch_id, federation_id, host_collective_id, "
    "partner_collective_id, partner_bp, role, status, note, proposed_by_id, proposed_at) "
    f"VALUES (1, 1, 1, 1, 2, 2500, 'partner', 'accepted', '', 1, '{AT}')",
]
REQUEST = (
    "INSERT INTO shared_pitches (id, pitch_id, federation_id, host_collective_id, "
    "partner_collective_id, partner_bp, role, status, note, requested_by_id, requested_at) "
    f"VALUES (:id, 2, 1, 1, 2, 1000, 'supplier', :status, 'payroll', 1, '{AT}')")
#: What either database names when the one-live-sharing-per-pitch index refuses a row.
LIVE_INDEX = "ix_shared_pitches_live_pitch|shared_pitches.pitch_id"


def _rows(conn) -> list[tuple]:
    return [tuple(r) for r in conn.execute(sa.text(
        "SELECT id, pitch_id, status, proposed_by_id FROM shared_pitches ORDER BY id"))]


def test_a_request_is_a_live_sharing_after_the_upgrade_and_goes_on_downgrade(scratch_app):
    with scratch_app.app_context():
        rows_at(BEFORE, ROWS)
        flask_migrate.upgrade()
        with db.engine.begin() as conn:
            assert _rows(conn) == [(1, 1, "accepted", 1)]
            conn.execute(sa.text(REQUEST), {"id": 2, "status": "requested"})
        with pytest.raises(sa.exc.IntegrityError, match=LIVE_INDEX), \
                db.engine.begin() as conn:
            conn.execute(sa.text(REQUEST), {"id": 3, "status": "requested"})   # a second one
        with db.engine.begin() as conn:
            conn.execute(sa.text(REQUEST), {"id": 3, "status": "turned_down"})   # not live
            assert [r[2] for r in _rows(conn)] == ["accepted", "requested", "turned_down"]

        flask_migrate.downgrade(revision=BEFORE)
        with db.engine.connect() as conn:
            assert _rows(conn) == [(1, 1, "accepted", 1)]
            columns = {c["name"] for c in sa.inspect(conn).get_columns("shared_pitches")}
            assert not columns & {"requested_by_id", "requested_at"}
            conn.rollback()
        with pytest.raises(sa.exc.IntegrityError, match="ck_shared_pitches_status_known"), \
                db.engine.begin() as conn:
            conn.execute(sa.text(
                "UPDATE shared_pitches SET status = 'requested' WHERE id = 1"))

        flask_migrate.upgrade()
        with db.engine.begin() as conn:
            conn.execute(sa.text(REQUEST), {"id": 4, "status": "requested"})
            assert len(_rows(conn)) == 2

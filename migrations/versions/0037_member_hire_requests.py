"""member hire requests: a member working a pitch asks to hire a partner as supplier
(issue 15, subcontracting)

shared_pitches gets requested_by_id and requested_at (the member who asked, and when);
proposed_by_id and proposed_at may be empty while a request waits for a host coordinator
(or after it was turned down or withdrawn), and two CHECKs say what is left: someone asked
(a coordinator or a member), and a member's request hires a supplier. status takes
'requested' and 'turned_down', and the one-live-sharing-per-pitch index counts a request as
live, so two requests on one pitch cannot both be written.

The partial index is dropped before the table changes and created again after, so SQLite's
batch mode (which rebuilds the table) does not have to carry its condition across; on
PostgreSQL the batch runs as plain ALTERs.

Revision ID: 0037_member_hire_requests
Revises: 0036_one_person_many_collectives
Create Date: 2026-11-27 05:40:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0037_member_hire_requests"
down_revision = "0036_one_person_many_collectives"
branch_labels = None
depends_on = None

OLD_STATUSES = ("proposed", "accepted", "declined", "withdrawn")
NEW_STATUSES = ("requested",) + OLD_STATUSES + ("turned_down",)
OLD_LIVE = ("proposed", "accepted")
NEW_LIVE = ("requested",) + OLD_LIVE
LIVE_INDEX = "ix_shared_pitches_live_pitch"


def _in(values):
    return f"status IN ({', '.join(repr(v) for v in values)})"


def _live_index(values):
    live = sa.text(_in(values))
    op.create_index(LIVE_INDEX, "shared_pitches", ["pitch_id"], unique=True,
                    sqlite_where=live, postgresql_where=live)


def upgrade():
    op.drop_index(LIVE_INDEX, table_name="shared_pitches")
    with op.batch_alter_table("shared_pitches") as batch_op:
        batch_op.add_column(sa.Column("requested_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("requested_at", sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_shared_pitches_requested_by_id_memberships"), "memberships",
            ["requested_by_id"], ["id"])
        batch_op.alter_column("proposed_by_id", existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column("proposed_at", existing_type=sa.DateTime(timezone=True),
                              nullable=True)
        batch_op.drop_constraint(batch_op.f("ck_shared_pitches_status_known"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_shared_pitches_status_known"),
                                         _in(NEW_STATUSES))
        batch_op.create_check_constraint(
            batch_op.f("ck_shared_pitches_someone_asked"),
            "proposed_by_id IS NOT NULL OR requested_by_id IS NOT NULL")
        batch_op.create_check_constraint(
            batch_op.f("ck_shared_pitches_request_hires_supplier"),
            "requested_by_id IS NULL OR role = 'supplier'")
    _live_index(NEW_LIVE)


def downgrade():
    # A member's request never offered to the partner has no place in the older schema; an
    # offer that began as a request stays, as the coordinator's offer it became.
    op.execute("DELETE FROM shared_pitches WHERE proposed_by_id IS NULL")
    op.drop_index(LIVE_INDEX, table_name="shared_pitches")
    with op.batch_alter_table("shared_pitches") as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_shared_pitches_request_hires_supplier"),
                                 type_="check")
        batch_op.drop_constraint(batch_op.f("ck_shared_pitches_someone_asked"),
                                 type_="check")
        batch_op.drop_constraint(batch_op.f("ck_shared_pitches_status_known"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_shared_pitches_status_known"),
                                         _in(OLD_STATUSES))
        batch_op.alter_column("proposed_at", existing_type=sa.DateTime(timezone=True),
                              nullable=False)
        batch_op.alter_column("proposed_by_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint(batch_op.f("fk_shared_pitches_requested_by_id_memberships"),
                                 type_="foreignkey")
        batch_op.drop_column("requested_at")
        batch_op.drop_column("requested_by_id")
    _live_index(OLD_LIVE)

"""federation: partners between collectives (issue 15)

Three new tables: federations (a pair of collectives in id order, each side's vote, and
who left when; one proposed or active row per pair, by a partial unique index),
shared_pitches (a host's pitch shared with a partner under a split in basis points; one
offered or accepted row per pitch) and partner_settlements (what one collective paid the
other, with its entry on each side). proposals.kind takes 'federation'.

PostgreSQL replaces the proposals CHECK constraint in place; SQLite rebuilds the table in
batch mode (migrations/env.py turns foreign keys off while it does). No ledger table is
touched: the partner accounts (1400-<id>, 2400-<id>, 5800) are opened when first needed.

Revision ID: 0033_federation
Revises: 0032_webhook_secret_rotation
Create Date: 2026-11-27 03:30:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0033_federation"
down_revision = "0032_webhook_secret_rotation"
branch_labels = None
depends_on = None

OLD_KINDS = ("share_rule", "benefit_plan", "benefit_claim")
NEW_KINDS = OLD_KINDS + ("federation",)


def _kinds(values):
    with op.batch_alter_table("proposals") as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_proposals_kind_known"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_proposals_kind_known"),
            f"kind IN ({', '.join(repr(v) for v in values)})")


def _when(statuses):
    return sa.text(f"status IN ({', '.join(repr(s) for s in statuses)})")


def upgrade():
    _kinds(NEW_KINDS)
    op.create_table(
        "federations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("low_collective_id", sa.Integer(), nullable=False),
        sa.Column("high_collective_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_collective_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("low_proposal_id", sa.Integer(), nullable=True),
        sa.Column("high_proposal_id", sa.Integer(), nullable=True),
        sa.Column("low_agreed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("high_agreed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("active_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("declined_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("left_by_id", sa.Integer(), nullable=True),
        sa.Column("left_by_collective_id", sa.Integer(), nullable=True),
        sa.Column("leave_reason", sa.String(length=500), nullable=False),
        sa.CheckConstraint("low_collective_id < high_collective_id",
                           name=op.f("ck_federations_pair_ordered")),
        sa.CheckConstraint("status IN ('proposed', 'active', 'declined', 'left')",
                           name=op.f("ck_federations_status_known")),
        sa.ForeignKeyConstraint(["low_collective_id"], ["collectives.id"],
                                name=op.f("fk_federations_low_collective_id_collectives")),
        sa.ForeignKeyConstraint(["high_collective_id"], ["collectives.id"],
                                name=op.f("fk_federations_high_collective_id_collectives")),
        sa.ForeignKeyConstraint(
            ["requested_by_collective_id"], ["collectives.id"],
            name=op.f("fk_federations_requested_by_collective_id_collectives")),
        sa.ForeignKeyConstraint(["low_proposal_id"], ["proposals.id"],
                                name=op.f("fk_federations_low_proposal_id_proposals")),
        sa.ForeignKeyConstraint(["high_proposal_id"], ["proposals.id"],
                                name=op.f("fk_federations_high_proposal_id_proposals")),
        sa.ForeignKeyConstraint(["left_by_id"], ["users.id"],
                                name=op.f("fk_federations_left_by_id_users")),
        sa.ForeignKeyConstraint(
            ["left_by_collective_id"], ["collectives.id"],
            name=op.f("fk_federations_left_by_collective_id_collectives")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_federations")),
    )
    op.create_index(op.f("ix_federations_low_collective_id"), "federations",
                    ["low_collective_id"])
    op.create_index(op.f("ix_federations_high_collective_id"), "federations",
                    ["high_collective_id"])
    live = _when(("proposed", "active"))
    op.create_index("ix_federations_live_pair", "federations",
                    ["low_collective_id", "high_collective_id"], unique=True,
                    sqlite_where=live, postgresql_where=live)

    op.create_table(
        "shared_pitches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pitch_id", sa.Integer(), nullable=False),
        sa.Column("federation_id", sa.Integer(), nullable=False),
        sa.Column("host_collective_id", sa.Integer(), nullable=False),
        sa.Column("partner_collective_id", sa.Integer(), nullable=False),
        sa.Column("partner_bp", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("proposed_by_id", sa.Integer(), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("partner_bp BETWEEN 0 AND 10000",
                           name=op.f("ck_shared_pitches_partner_bp_range")),
        sa.CheckConstraint("host_collective_id <> partner_collective_id",
                           name=op.f("ck_shared_pitches_two_sides")),
        sa.CheckConstraint("role IN ('partner', 'supplier')",
                           name=op.f("ck_shared_pitches_role_known")),
        sa.CheckConstraint("status IN ('proposed', 'accepted', 'declined', 'withdrawn')",
                           name=op.f("ck_shared_pitches_status_known")),
        sa.ForeignKeyConstraint(["pitch_id"], ["pitches.id"],
                                name=op.f("fk_shared_pitches_pitch_id_pitches")),
        sa.ForeignKeyConstraint(["federation_id"], ["federations.id"],
                                name=op.f("fk_shared_pitches_federation_id_federations")),
        sa.ForeignKeyConstraint(
            ["host_collective_id"], ["collectives.id"],
            name=op.f("fk_shared_pitches_host_collective_id_collectives")),
        sa.ForeignKeyConstraint(
            ["partner_collective_id"], ["collectives.id"],
            name=op.f("fk_shared_pitches_partner_collective_id_collectives")),
        sa.ForeignKeyConstraint(["proposed_by_id"], ["memberships.id"],
                                name=op.f("fk_shared_pitches_proposed_by_id_memberships")),
        sa.ForeignKeyConstraint(["answered_by_id"], ["memberships.id"],
                                name=op.f("fk_shared_pitches_answered_by_id_memberships")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shared_pitches")),
    )
    for column in ("pitch_id", "federation_id", "host_collective_id",
                   "partner_collective_id"):
        op.create_index(op.f(f"ix_shared_pitches_{column}"), "shared_pitches", [column])
    live_share = _when(("proposed", "accepted"))
    op.create_index("ix_shared_pitches_live_pitch", "shared_pitches", ["pitch_id"],
                    unique=True, sqlite_where=live_share, postgresql_where=live_share)

    op.create_table(
        "partner_settlements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("federation_id", sa.Integer(), nullable=False),
        sa.Column("payer_collective_id", sa.Integer(), nullable=False),
        sa.Column("payee_collective_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=120), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("request_key", sa.String(length=64), nullable=True),
        sa.Column("payer_entry_id", sa.Integer(), nullable=True),
        sa.Column("payee_entry_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_partner_settlements_amount_positive")),
        sa.CheckConstraint("payer_collective_id <> payee_collective_id",
                           name=op.f("ck_partner_settlements_two_sides")),
        sa.ForeignKeyConstraint(
            ["federation_id"], ["federations.id"],
            name=op.f("fk_partner_settlements_federation_id_federations")),
        sa.ForeignKeyConstraint(
            ["payer_collective_id"], ["collectives.id"],
            name=op.f("fk_partner_settlements_payer_collective_id_collectives")),
        sa.ForeignKeyConstraint(
            ["payee_collective_id"], ["collectives.id"],
            name=op.f("fk_partner_settlements_payee_collective_id_collectives")),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["memberships.id"],
            name=op.f("fk_partner_settlements_recorded_by_id_memberships")),
        sa.ForeignKeyConstraint(
            ["payer_entry_id"], ["journal_entries.id"],
            name=op.f("fk_partner_settlements_payer_entry_id_journal_entries")),
        sa.ForeignKeyConstraint(
            ["payee_entry_id"], ["journal_entries.id"],
            name=op.f("fk_partner_settlements_payee_entry_id_journal_entries")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_settlements")),
        sa.UniqueConstraint("payer_collective_id", "request_key",
                            name=op.f("uq_partner_settlements_payer_collective_id_request_key")),
        sa.UniqueConstraint("payer_entry_id",
                            name=op.f("uq_partner_settlements_payer_entry_id")),
        sa.UniqueConstraint("payee_entry_id",
                            name=op.f("uq_partner_settlements_payee_entry_id")),
    )
    for column in ("federation_id", "payer_collective_id", "payee_collective_id"):
        op.create_index(op.f(f"ix_partner_settlements_{column}"), "partner_settlements",
                        [column])


def downgrade():
    op.drop_table("partner_settlements")
    op.drop_table("shared_pitches")
    op.drop_table("federations")
    op.execute("DELETE FROM votes WHERE proposal_id IN "
               "(SELECT id FROM proposals WHERE kind = 'federation')")
    op.execute("DELETE FROM proposals WHERE kind = 'federation'")
    _kinds(OLD_KINDS)

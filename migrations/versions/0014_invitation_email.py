"""invitations that can be revoked, and who may propose share-rule changes

invitations.revoked_at, revoked_by_id: when and by whom an invitation link was revoked; a
revoked link can no longer be accepted. Empty for every existing invitation. (The e-mail an
invitation names was already stored; accepting now checks it.)

collectives.is_rule_proposing_open: whether every member may propose a share-rule change
(true, the default for existing and new collectives) or only coordinators and treasurers.

PostgreSQL adds the columns in place. SQLite rebuilds both tables in batch mode
(migrations/env.py turns foreign-key enforcement off while it runs and checks every key
before commit). No existing row changes meaning.

Revision ID: 0014_invitation_email
Revises: 0013_pitch_edits
Create Date: 2026-11-26 15:30:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0014_invitation_email"
down_revision = "0013_pitch_edits"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("invitations") as batch_op:
        batch_op.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("revoked_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_invitations_revoked_by_id_users"), "users",
                                    ["revoked_by_id"], ["id"])
    with op.batch_alter_table("collectives") as batch_op:
        batch_op.add_column(sa.Column("is_rule_proposing_open", sa.Boolean(), nullable=False,
                                      server_default=sa.true()))


def downgrade():
    with op.batch_alter_table("collectives") as batch_op:
        batch_op.drop_column("is_rule_proposing_open")
    with op.batch_alter_table("invitations") as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_invitations_revoked_by_id_users"),
                                 type_="foreignkey")
        batch_op.drop_column("revoked_by_id")
        batch_op.drop_column("revoked_at")

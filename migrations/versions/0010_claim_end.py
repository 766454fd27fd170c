"""claim length: a claim ends early on recovery, and a relapse continues it

claims.ended_on: the day the member recovered (their first day well again), when a monthly
claim was ended early; empty while it runs its course. claims.continues_id: for a relapse
within the plan's relapse window, the claim it continues (no new waiting period, and the
months paid on both count towards one maximum); a claim is continued at most once.

PostgreSQL adds the columns in place. SQLite rebuilds the table in batch mode (run_lines and
proposals' claims reference it; migrations/env.py turns foreign-key enforcement off while it
runs and checks every key before commit). No existing row changes: both columns start empty.

Revision ID: 0010_claim_end
Revises: 0009_time_entry_payment
Create Date: 2026-11-26 14:00:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0010_claim_end"
down_revision = "0009_time_entry_payment"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("claims") as batch_op:
        batch_op.add_column(sa.Column("ended_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("continues_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_claims_continues_id_claims"), "claims",
                                    ["continues_id"], ["id"])
        batch_op.create_unique_constraint(batch_op.f("uq_claims_continues_id"),
                                          ["continues_id"])


def downgrade():
    with op.batch_alter_table("claims") as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_claims_continues_id"), type_="unique")
        batch_op.drop_constraint(batch_op.f("fk_claims_continues_id_claims"),
                                 type_="foreignkey")
        batch_op.drop_column("continues_id")
        batch_op.drop_column("ended_on")

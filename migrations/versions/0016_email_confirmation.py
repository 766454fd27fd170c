"""e-mail confirmation: when an account's address was confirmed, and resend limits

users.email_confirmed_at: when the address in users.email was confirmed by a mailed link;
empty until then. Every account that exists when this runs counts as confirmed, since its
creation (email_confirmed_at = created_at), so nobody is locked out of anything.

email_confirmation_requests: confirmation links mailed on request (sent again, or to a new
address) in the last day or so (a hash of the address, the client's IP, when), to limit them
per address and per IP across processes. The table is new and starts empty.

PostgreSQL adds the column in place. SQLite rebuilds the users table in batch mode (many
tables reference it; migrations/env.py turns foreign-key enforcement off while it runs and
checks every key before commit).

Revision ID: 0016_email_confirmation
Revises: 0015_mail_outbox
Create Date: 2026-11-26 16:40:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0016_email_confirmation"
down_revision = "0015_mail_outbox"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("email_confirmed_at", sa.DateTime(timezone=True),
                                      nullable=True))
    op.execute("UPDATE users SET email_confirmed_at = created_at")
    op.create_table(
        "email_confirmation_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email_hash", sa.String(length=64), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_confirmation_requests")),
    )
    for column in ("email_hash", "ip", "requested_at"):
        op.create_index(op.f(f"ix_email_confirmation_requests_{column}"),
                        "email_confirmation_requests", [column])


def downgrade():
    for column in ("requested_at", "ip", "email_hash"):
        op.drop_index(op.f(f"ix_email_confirmation_requests_{column}"),
                      table_name="email_confirmation_requests")
    op.drop_table("email_confirmation_requests")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("email_confirmed_at")

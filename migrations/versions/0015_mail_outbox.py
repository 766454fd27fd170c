"""the mail outbox, and the record of password-reset requests

outbox_messages: every e-mail the app means to send, written in the same transaction as the
change that caused it and delivered by the scheduler (docs/mail.md). A unique
(event_key, recipient) lets one event mail one address at most once; message_id is made
when the row is queued and reused on every try; status is pending, sent or failed, with the
tries counted, when the next may happen and the last error.

password_reset_requests: the "forgot your password" requests let through in the last hour
or so (a hash of the address typed, the client's IP, when), to limit them per address and
per IP across processes.

Both tables are new and start empty; no existing row changes.

Revision ID: 0015_mail_outbox
Revises: 0014_invitation_email
Create Date: 2026-11-26 16:10:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0015_mail_outbox"
down_revision = "0014_invitation_email"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("collective_id", sa.Integer(), nullable=True),
        sa.Column("event_key", sa.String(length=200), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=False),
        sa.Column("html_body", sa.Text(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("message_id", sa.String(length=250), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('pending', 'sent', 'failed')",
                           name=op.f("ck_outbox_messages_status")),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_outbox_messages_attempts_not_negative")),
        sa.ForeignKeyConstraint(["collective_id"], ["collectives.id"],
                                name=op.f("fk_outbox_messages_collective_id_collectives")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_outbox_messages_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
        sa.UniqueConstraint("event_key", "recipient",
                            name=op.f("uq_outbox_messages_event_key_recipient")),
        sa.UniqueConstraint("message_id", name=op.f("uq_outbox_messages_message_id")),
    )
    op.create_index("ix_outbox_messages_due", "outbox_messages", ["status", "next_attempt_at"])
    op.create_index(op.f("ix_outbox_messages_collective_id"), "outbox_messages",
                    ["collective_id"])
    op.create_index(op.f("ix_outbox_messages_user_id"), "outbox_messages", ["user_id"])
    op.create_table(
        "password_reset_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email_hash", sa.String(length=64), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_reset_requests")),
    )
    for column in ("email_hash", "ip", "requested_at"):
        op.create_index(op.f(f"ix_password_reset_requests_{column}"),
                        "password_reset_requests", [column])


def downgrade():
    for column in ("requested_at", "ip", "email_hash"):
        op.drop_index(op.f(f"ix_password_reset_requests_{column}"),
                      table_name="password_reset_requests")
    op.drop_table("password_reset_requests")
    op.drop_index(op.f("ix_outbox_messages_user_id"), table_name="outbox_messages")
    op.drop_index(op.f("ix_outbox_messages_collective_id"), table_name="outbox_messages")
    op.drop_index("ix_outbox_messages_due", table_name="outbox_messages")
    op.drop_table("outbox_messages")

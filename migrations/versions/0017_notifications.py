"""notifications, and each member's choice of how they are told

notifications: what one person was told in one collective (kind, title, body, the page
concerned), written in the same transaction as the change that caused it (docs/
notifications.md). A unique (event_key, user_id) tells one person about one event at most
once. channel records how it reached them (app, email, digest: their preference then);
read_at marks it read, mailed_at when its e-mail or the digest carrying it was queued.

notification_preferences: a user's chosen channel per kind; no row means the kind's default.

Both tables are new and start empty; no existing row changes.

Revision ID: 0017_notifications
Revises: 0016_email_confirmation
Create Date: 2026-11-26 16:40:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0017_notifications"
down_revision = "0016_email_confirmation"
branch_labels = None
depends_on = None

CHANNELS = "channel IN ('app', 'email', 'digest')"


def upgrade():
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("membership_id", sa.Integer(), nullable=False),
        sa.Column("collective_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("event_key", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("mailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(CHANNELS, name=op.f("ck_notifications_channel")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_notifications_user_id_users")),
        sa.ForeignKeyConstraint(["membership_id"], ["memberships.id"],
                                name=op.f("fk_notifications_membership_id_memberships")),
        sa.ForeignKeyConstraint(["collective_id"], ["collectives.id"],
                                name=op.f("fk_notifications_collective_id_collectives")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("event_key", "user_id",
                            name=op.f("uq_notifications_event_key_user_id")),
    )
    op.create_index("ix_notifications_unread", "notifications",
                    ["user_id", "collective_id", "read_at"])
    op.create_index("ix_notifications_digest", "notifications", ["channel", "mailed_at"])
    op.create_table(
        "notification_preferences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.CheckConstraint(CHANNELS, name=op.f("ck_notification_preferences_channel")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_notification_preferences_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_preferences")),
        sa.UniqueConstraint("user_id", "kind",
                            name=op.f("uq_notification_preferences_user_id_kind")),
    )


def downgrade():
    op.drop_table("notification_preferences")
    op.drop_index("ix_notifications_digest", table_name="notifications")
    op.drop_index("ix_notifications_unread", table_name="notifications")
    op.drop_table("notifications")

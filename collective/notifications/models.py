"""A notification for one person, and each person's choice of channel per kind."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective.extensions import UTCDateTime, db, str_enum, utcnow
from collective.notifications.kinds import Channel


class Notification(db.Model):
    """Something one member was told, in one collective."""

    __tablename__ = "notifications"
    __table_args__ = (
        # One event tells one person at most once.
        sa.UniqueConstraint("event_key", "user_id"),
        sa.Index("ix_notifications_unread", "user_id", "collective_id", "read_at"),
        sa.Index("ix_notifications_digest", "channel", "mailed_at"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), nullable=False)
    membership_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("memberships.id"),
                                                     nullable=False)
    collective_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("collectives.id"),
                                                     nullable=False)
    #: A Kind value (kinds.py).
    kind: so.Mapped[str] = so.mapped_column(sa.String(40), nullable=False)
    #: What happened, named once, e.g. 'proposal-opened:12'.
    event_key: so.Mapped[str] = so.mapped_column(sa.String(200), nullable=False)
    title: so.Mapped[str] = so.mapped_column(sa.String(300), nullable=False)
    body: so.Mapped[str] = so.mapped_column(sa.Text, nullable=False, default="")
    #: The page concerned, as a path ('/c/coop/votes/12').
    link: so.Mapped[str] = so.mapped_column(sa.String(500), nullable=False, default="")
    #: How it reached the member, chosen when it was made (their preference then).
    channel: so.Mapped[Channel] = so.mapped_column(
        str_enum(Channel, name="channel", length=10), nullable=False, default=Channel.APP)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow,
                                                       nullable=False)
    read_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime(), nullable=True)
    #: When its e-mail (or the digest that carried it) was queued.
    mailed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime(), nullable=True)

    #: The person told ("User" is the members package's model, named, not imported).
    user = so.relationship("User", viewonly=True)

    def __repr__(self) -> str:
        return f"<Notification {self.id} {self.event_key} user={self.user_id}>"


class NotificationPreference(db.Model):
    """A member's choice of channel for one kind; no row means the kind's default."""

    __tablename__ = "notification_preferences"
    __table_args__ = (sa.UniqueConstraint("user_id", "kind"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), nullable=False)
    kind: so.Mapped[str] = so.mapped_column(sa.String(40), nullable=False)
    channel: so.Mapped[Channel] = so.mapped_column(
        str_enum(Channel, name="channel", length=10), nullable=False)

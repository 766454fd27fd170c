"""The outbox: every e-mail the app means to send, stored with the change that caused it."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective.extensions import UTCDateTime, db, str_enum, utcnow
from collective.outbox import OutboxStatus

__all__ = ["OutboxMessage", "OutboxStatus"]


class OutboxMessage(db.Model):
    """One e-mail to one recipient, rendered when queued and delivered by the scheduler."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        # One event mails one recipient at most once.
        sa.UniqueConstraint("event_key", "recipient"),
        sa.Index("ix_outbox_messages_due", "status", "next_attempt_at"),
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    #: The collective the message is about, if any: its treasurers see it if it fails.
    collective_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("collectives.id"), index=True, nullable=True)
    #: What caused the message, e.g. 'password-reset:42' or 'invitation:7:3f2a9c'.
    event_key: so.Mapped[str] = so.mapped_column(sa.String(200), nullable=False)
    #: The lower-cased address it goes to.
    recipient: so.Mapped[str] = so.mapped_column(sa.String(254), nullable=False)
    #: The account it is for, when there is one.
    user_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id"), index=True, nullable=True)
    subject: so.Mapped[str] = so.mapped_column(sa.String(300), nullable=False)
    text_body: so.Mapped[str] = so.mapped_column(sa.Text, nullable=False)
    html_body: so.Mapped[str] = so.mapped_column(sa.Text, nullable=False)
    #: Extra headers ({name: value}) added to the message.
    headers: so.Mapped[dict] = so.mapped_column(sa.JSON, nullable=False, default=dict)
    #: Made when queued and reused on every retry, so a receiver can drop a duplicate.
    message_id: so.Mapped[str] = so.mapped_column(sa.String(250), unique=True, nullable=False)
    status: so.Mapped[OutboxStatus] = so.mapped_column(
        str_enum(OutboxStatus, name="status", length=10), nullable=False,
        default=OutboxStatus.PENDING)
    attempts: so.Mapped[int] = so.mapped_column(sa.Integer, nullable=False, default=0)
    #: When the delivery job may try it (again).
    next_attempt_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), nullable=False)
    #: The last error the SMTP server or the connection gave.
    last_error: so.Mapped[str | None] = so.mapped_column(sa.Text, nullable=True)
    sent_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime(), nullable=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow,
                                                       nullable=False)

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.id} {self.event_key} to={self.recipient} {self.status}>"

"""Webhook endpoints (a treasurer's subscription), the deliveries queued for them in the
transaction of the event, and each attempt to deliver one."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective.extensions import UTCDateTime, db, str_enum, utcnow
from collective.outbox import OutboxStatus


class WebhookEndpoint(db.Model):
    """An HTTPS URL of one collective subscribed to some event types."""

    __tablename__ = "webhook_endpoints"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    collective_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collectives.id"), index=True, nullable=False)
    #: Where deliveries are POSTed (https, checked against private addresses).
    url: so.Mapped[str] = so.mapped_column(sa.String(2000), nullable=False)
    #: A note the treasurer gave it, e.g. "accounting sync".
    description: so.Mapped[str] = so.mapped_column(sa.String(200), nullable=False, default="")
    #: The EventType values it receives, as a JSON list.
    event_types: so.Mapped[list] = so.mapped_column(sa.JSON, nullable=False, default=list)
    #: The signing secret, Standard Webhooks style ('whsec_' + base64 of 32 random bytes);
    #: kept as is, since every delivery is signed with it.
    secret: so.Mapped[str] = so.mapped_column(sa.String(100), nullable=False)
    #: The secret before the last rotation: deliveries are signed with it too until
    #: `previous_secret_expires_at`, so a receiver can switch without losing any.
    previous_secret: so.Mapped[str | None] = so.mapped_column(sa.String(100), nullable=True)
    previous_secret_expires_at: so.Mapped[datetime | None] = so.mapped_column(
        UTCDateTime(), nullable=True)
    #: Disabled endpoints get no new deliveries; their pending ones wait.
    is_enabled: so.Mapped[bool] = so.mapped_column(sa.Boolean, nullable=False, default=True)
    created_by_user_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id"), nullable=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow,
                                                       nullable=False)

    def signing_secrets(self, at: datetime) -> list[str]:
        """The secrets a delivery made at `at` is signed with: the current one, and the one
        before it while a rotation's overlap lasts."""
        if self.previous_secret and self.previous_secret_expires_at and \
                at < self.previous_secret_expires_at:
            return [self.secret, self.previous_secret]
        return [self.secret]

    def __repr__(self) -> str:
        state = "enabled" if self.is_enabled else "disabled"
        return f"<WebhookEndpoint {self.id} {self.url} {state}>"


class WebhookDelivery(db.Model):
    """One event for one endpoint: an outbox row the scheduler delivers (collective/outbox.py).
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # One event goes to one endpoint at most once, however often the service runs.
        sa.UniqueConstraint("event_key", "endpoint_id"),
        sa.Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        sa.Index("ix_webhook_deliveries_endpoint", "endpoint_id", "id"),
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    endpoint_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("webhook_endpoints.id"), nullable=False)
    collective_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collectives.id"), index=True, nullable=False)
    #: What happened, named once, e.g. 'payment.recorded:41'.
    event_key: so.Mapped[str] = so.mapped_column(sa.String(200), nullable=False)
    #: An EventType value (the payload's `type`).
    event_type: so.Mapped[str] = so.mapped_column(sa.String(40), nullable=False)
    #: The webhook-id header and the payload's `id` ('msg_' + random): the same on every
    #: retry and resend, so a receiver can drop a replay.
    message_id: so.Mapped[str] = so.mapped_column(sa.String(40), nullable=False)
    #: The payload's fixed parts, {"collective": slug, "data": {...}}, stored when queued:
    #: with the id, type and created_at they make the same request body on every try.
    payload: so.Mapped[dict] = so.mapped_column(sa.JSON, nullable=False)
    status: so.Mapped[OutboxStatus] = so.mapped_column(
        str_enum(OutboxStatus, name="status", length=10), nullable=False,
        default=OutboxStatus.PENDING)
    #: Tries since it was queued (or resent).
    attempts: so.Mapped[int] = so.mapped_column(sa.Integer, nullable=False, default=0)
    #: When the delivery job may try it (again).
    next_attempt_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow,
                                                            nullable=False)
    #: The last error: a response code or what the connection said.
    last_error: so.Mapped[str | None] = so.mapped_column(sa.Text, nullable=True)
    #: When the endpoint last answered 2xx.
    sent_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime(), nullable=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow,
                                                       nullable=False)

    attempt_rows: so.Mapped[list[WebhookAttempt]] = so.relationship(
        order_by="WebhookAttempt.id.desc()", viewonly=True)

    def __repr__(self) -> str:
        return (f"<WebhookDelivery {self.id} {self.event_key} endpoint={self.endpoint_id} "
                f"{self.status}>")


class WebhookAttempt(db.Model):
    """One POST of a delivery: when, how long, and the response code or the error."""

    __tablename__ = "webhook_attempts"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    delivery_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("webhook_deliveries.id"), index=True, nullable=False)
    attempted_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), nullable=False)
    #: How long the request took, in milliseconds.
    duration_ms: so.Mapped[int] = so.mapped_column(sa.Integer, nullable=False)
    #: The HTTP status the endpoint answered; empty when no response came.
    response_status: so.Mapped[int | None] = so.mapped_column(sa.Integer, nullable=True)
    #: Why the attempt failed, when it did (no response, a refused address, a redirect).
    error: so.Mapped[str | None] = so.mapped_column(sa.Text, nullable=True)

    def __repr__(self) -> str:
        return f"<WebhookAttempt {self.id} delivery={self.delivery_id} {self.response_status}>"

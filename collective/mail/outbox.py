"""Queue mail in the caller's transaction; claim, and mark sent or failed, for the delivery
job (through collective/outbox.py, the outbox machinery webhooks share). Flush, never commit;
`now` comes from the caller."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from email.utils import make_msgid, parseaddr

import sqlalchemy as sa
from flask import current_app, render_template

from collective import outbox as shared
from collective.errors import DomainError
from collective.extensions import db
from collective.mail.models import OutboxMessage, OutboxStatus
from collective.outbox import MAX_BACKOFF, backoff, mark_attempt_failed, mark_sent

__all__ = ["MAX_BACKOFF", "backoff", "check_address", "claim_next", "failed_count",
           "failed_messages", "mark_attempt_failed", "mark_sent", "pending_count",
           "queue_mail", "retry_failed"]


def _message_id_domain() -> str:
    _, address = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])
    return address.rpartition("@")[2] or "collective.local"


def check_address(address: str) -> str:
    """A recipient address, trimmed and lower-cased, or DomainError."""
    cleaned = (address or "").strip().lower()
    name, _, domain = cleaned.partition("@")
    if not name or "." not in domain or len(cleaned) > 254 or any(c.isspace() for c in cleaned):
        raise DomainError(f"{cleaned[:60]!r} is not an e-mail address", field="email")
    return cleaned


def queue_mail(*, event_key: str, to: str, template: str, context: Mapping[str, object],
               subject: str, now: datetime, collective_id: int | None = None,
               user_id: int | None = None, headers: Mapping[str, str] | None = None
               ) -> OutboxMessage | None:
    """Render mail/<template>.txt and .html with `context` and store the message for the
    delivery job, in the caller's transaction. The row, or None when this event has already
    mailed this recipient (the unique key keeps the first one)."""
    recipient = check_address(to)
    subject = " ".join((subject or "").split())[:300]  # one line: a header holds no breaks
    values = {
        "collective_id": collective_id, "event_key": event_key, "recipient": recipient,
        "user_id": user_id, "subject": subject,
        "text_body": render_template(f"mail/{template}.txt", **context),
        "html_body": render_template(f"mail/{template}.html", subject=subject, **context),
        "headers": dict(headers or {}), "message_id": make_msgid(domain=_message_id_domain()),
        "status": OutboxStatus.PENDING.value, "attempts": 0, "next_attempt_at": now,
        "created_at": now,
    }
    new_id = shared.insert_once(OutboxMessage, values, ["event_key", "recipient"])
    return db.session.get(OutboxMessage, new_id) if new_id is not None else None


def claim_next(now: datetime) -> OutboxMessage | None:
    """The oldest pending message due at `now`, locked until the transaction ends; rows
    another process holds are skipped (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite has one
    writer at a time)."""
    return shared.claim_due(OutboxMessage, now)


def failed_count(collective_id: int) -> int:
    """How many of the collective's messages are marked failed."""
    return db.session.scalar(
        sa.select(sa.func.count(OutboxMessage.id))
        .where(OutboxMessage.collective_id == collective_id,
               OutboxMessage.status == OutboxStatus.FAILED.value)) or 0


def pending_count(collective_id: int) -> int:
    """How many of the collective's messages wait to be sent."""
    return db.session.scalar(
        sa.select(sa.func.count(OutboxMessage.id))
        .where(OutboxMessage.collective_id == collective_id,
               OutboxMessage.status == OutboxStatus.PENDING.value)) or 0


def failed_messages(collective_id: int, limit: int = 100) -> list[OutboxMessage]:
    """The collective's failed messages, newest first (at most `limit`)."""
    return list(db.session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.collective_id == collective_id,
               OutboxMessage.status == OutboxStatus.FAILED.value)
        .order_by(OutboxMessage.id.desc()).limit(limit)))


def retry_failed(collective_id: int, message_id: int, now: datetime) -> OutboxMessage:
    """Put one of the collective's failed messages back in the queue, due at `now`, with its
    tries counted afresh (and the same Message-ID)."""
    message = db.session.scalar(
        sa.select(OutboxMessage).filter_by(id=message_id, collective_id=collective_id)
        .with_for_update())
    if message is None or message.status != OutboxStatus.FAILED:
        raise DomainError("there is no failed message like that to send again")
    shared.requeue(message, now)
    return message

"""Queue mail in the caller's transaction; claim, and mark sent or failed, for the delivery
job. Flush, never commit; `now` comes from the caller."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from email.utils import make_msgid, parseaddr

import sqlalchemy as sa
from flask import current_app, render_template
from sqlalchemy.dialects import postgresql, sqlite

from collective.errors import DomainError
from collective.extensions import db
from collective.mail.models import OutboxMessage, OutboxStatus

#: The longest wait between two tries, however many have failed.
MAX_BACKOFF = timedelta(hours=6)


def _insert_for(dialect: str):
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


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
    insert = _insert_for(db.session.get_bind().dialect.name)
    new_id = db.session.execute(
        insert(OutboxMessage).values(**values)
        .on_conflict_do_nothing(index_elements=["event_key", "recipient"])
        .returning(OutboxMessage.id)).scalar()
    return db.session.get(OutboxMessage, new_id) if new_id is not None else None


def claim_next(now: datetime) -> OutboxMessage | None:
    """The oldest pending message due at `now`, locked until the transaction ends; rows
    another process holds are skipped (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite has one
    writer at a time)."""
    return db.session.scalar(
        sa.select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.PENDING.value,
               OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(1).with_for_update(skip_locked=True))


def mark_sent(message: OutboxMessage, now: datetime) -> None:
    """Record that the SMTP server (or the development folder) accepted the message."""
    message.attempts += 1
    message.status = OutboxStatus.SENT
    message.sent_at = now
    message.last_error = None
    db.session.flush()


def backoff(attempts: int, first_wait: timedelta) -> timedelta:
    """How long to wait after the `attempts`-th failed try: doubling, at most MAX_BACKOFF."""
    return min(first_wait * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def mark_attempt_failed(message: OutboxMessage, error: str, now: datetime, *,
                        max_attempts: int, first_wait: timedelta,
                        permanent: bool = False) -> None:
    """Count a failed try: retry later with backoff, or mark the message failed after
    `max_attempts` tries (at once when the server refused it for good)."""
    message.attempts += 1
    message.last_error = error[:2000]
    if permanent or message.attempts >= max_attempts:
        message.status = OutboxStatus.FAILED
    else:
        message.next_attempt_at = now + backoff(message.attempts, first_wait)
    db.session.flush()


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
    message.status = OutboxStatus.PENDING
    message.attempts = 0
    message.next_attempt_at = now
    db.session.flush()
    return message

"""The one way of outbox delivery, shared by the mail outbox (collective/mail) and webhook
deliveries (collective/webhooks).

An outbox row is written in the transaction of the change that caused it, at most once per
unique key (`insert_once`: INSERT ... ON CONFLICT DO NOTHING). A delivery job claims due rows
one at a time (`claim_due`: FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite has one writer at a
time), sends each, and marks it sent, or counts a failed try and waits with exponential
backoff (`mark_attempt_failed`) until it is marked failed after the set number of tries.

A row model has the columns `id`, `status` (OutboxStatus), `attempts`, `next_attempt_at`,
`last_error` and `sent_at`. Flush, never commit; `now` comes from the caller.
"""
from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from collective.database import conflict_insert
from collective.extensions import db

#: The longest wait between two tries, however many have failed.
MAX_BACKOFF = timedelta(hours=6)


class OutboxStatus(enum.StrEnum):
    """Pending rows wait for the delivery job; sent and failed ones are done with."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


def insert_once(model: type, values: Mapping[str, Any], unique: list[str]) -> int | None:
    """Insert one row in the caller's transaction; its id, or None when a row with the same
    `unique` columns stands already (the first one is kept)."""
    return db.session.execute(
        conflict_insert(model).values(**values).on_conflict_do_nothing(index_elements=unique)
        .returning(model.id)).scalar()


def claim_due(model: type, now: datetime, *where: Any) -> Any | None:
    """The oldest pending row due at `now` (and matching `where`), locked until the
    transaction ends; rows another process holds are skipped."""
    return db.session.scalar(
        sa.select(model)
        .where(model.status == OutboxStatus.PENDING.value, model.next_attempt_at <= now,
               *where)
        .order_by(model.next_attempt_at, model.id)
        .limit(1).with_for_update(skip_locked=True, of=model))


def mark_sent(row: Any, now: datetime) -> None:
    """Record that the row's receiver accepted it."""
    row.attempts += 1
    row.status = OutboxStatus.SENT
    row.sent_at = now
    row.last_error = None
    db.session.flush()


def backoff(attempts: int, first_wait: timedelta) -> timedelta:
    """How long to wait after the `attempts`-th failed try: doubling, at most MAX_BACKOFF."""
    return min(first_wait * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def mark_attempt_failed(row: Any, error: str, now: datetime, *, max_attempts: int,
                        first_wait: timedelta, permanent: bool = False) -> None:
    """Count a failed try: retry later with backoff, or mark the row failed after
    `max_attempts` tries (at once when the receiver refused it for good)."""
    row.attempts += 1
    row.last_error = error[:2000]
    if permanent or row.attempts >= max_attempts:
        row.status = OutboxStatus.FAILED
    else:
        row.next_attempt_at = now + backoff(row.attempts, first_wait)
    db.session.flush()


def requeue(row: Any, now: datetime) -> None:
    """Put a row back in the queue, due at `now`, with its tries counted afresh."""
    row.status = OutboxStatus.PENDING
    row.attempts = 0
    row.next_attempt_at = now
    db.session.flush()

"""Webhook deliveries through the outbox (collective/outbox.py): queued in the transaction of
the event, one per subscribed, enabled endpoint and at most once per (event key, endpoint);
delivered by the scheduler's job (jobs.py); resent on a treasurer's request under the same
webhook-id. Flush, never commit."""
from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from collective import outbox
from collective.errors import NotFound
from collective.extensions import db
from collective.notifications.mailing import absolute
from collective.outbox import OutboxStatus
from collective.webhooks.events import EventType
from collective.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from collective.webhooks.sending import Answer
from collective.webhooks.signing import new_message_id


def emit(collective: Any, event_type: EventType, *, key: str, data: Mapping[str, Any],
         link: str = "", now: datetime | None = None) -> list[WebhookDelivery]:
    """Queue the event for each of the collective's enabled endpoints subscribed to its type,
    in the caller's transaction. `key` names the event once (e.g. 'payment:41'): the same
    key again queues nothing more. `data` holds ids, amounts in minor units with their
    currency, dates as ISO text; `link` is the path of its page. The new deliveries.

    `now` is the event's moment; left out, each row is stamped when written."""
    event_type = EventType(event_type)
    endpoints = [endpoint for endpoint in db.session.scalars(
        sa.select(WebhookEndpoint).where(WebhookEndpoint.collective_id == collective.id,
                                         WebhookEndpoint.is_enabled.is_(True))
        .order_by(WebhookEndpoint.id)) if event_type.value in (endpoint.event_types or [])]
    if not endpoints:
        return []
    payload = {"collective": collective.slug,
               "data": {**data, **({"url": absolute(link)} if link else {})}}
    message_id = new_message_id()
    created = []
    for endpoint in endpoints:
        values = {"endpoint_id": endpoint.id, "collective_id": collective.id,
                  "event_key": f"{event_type.value}:{key}"[:200],
                  "event_type": event_type.value, "message_id": message_id,
                  "payload": payload, "status": OutboxStatus.PENDING.value, "attempts": 0,
                  **({"created_at": now, "next_attempt_at": now} if now is not None else {})}
        new_id = outbox.insert_once(WebhookDelivery, values, ["event_key", "endpoint_id"])
        if new_id is not None:
            created.append(db.session.get(WebhookDelivery, new_id))
    return created


def timestamp(moment: datetime) -> str:
    """A moment as the payload writes it: ISO 8601 in UTC, with a Z."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def body_of(delivery: WebhookDelivery) -> str:
    """The request body: the same text on every try, made from what was stored."""
    return json.dumps({"id": delivery.message_id, "type": delivery.event_type,
                       "timestamp": timestamp(delivery.created_at),
                       "collective": delivery.payload["collective"],
                       "data": delivery.payload["data"]},
                      sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def claim_next(now: datetime) -> WebhookDelivery | None:
    """The oldest pending delivery due at `now` whose endpoint is enabled, locked until the
    transaction ends; rows another process holds are skipped."""
    enabled = sa.select(WebhookEndpoint.id).where(WebhookEndpoint.is_enabled.is_(True))
    return outbox.claim_due(WebhookDelivery, now, WebhookDelivery.endpoint_id.in_(enabled))


def lock_delivery(delivery_id: int) -> WebhookDelivery | None:
    """The delivery, locked until the transaction ends; None when it was deleted."""
    return db.session.scalar(sa.select(WebhookDelivery).where(
        WebhookDelivery.id == delivery_id).with_for_update())


def record_attempt(delivery: WebhookDelivery, answer: Answer, now: datetime, *,
                   max_attempts: int, first_wait) -> WebhookAttempt:
    """Keep one attempt's outcome, and mark the delivery sent, retried later with backoff,
    or failed after `max_attempts` tries."""
    attempt = WebhookAttempt(delivery_id=delivery.id, attempted_at=now,
                             duration_ms=max(answer.duration_ms, 0),
                             response_status=answer.status, error=answer.error)
    db.session.add(attempt)
    if answer.ok:
        outbox.mark_sent(delivery, now)
    else:
        outbox.mark_attempt_failed(delivery, answer.error or "failed", now,
                                   max_attempts=max_attempts, first_wait=first_wait)
    return attempt


def get_delivery(collective_id: int, delivery_id: int) -> WebhookDelivery:
    """One of the collective's deliveries; another collective's is not found."""
    delivery = db.session.scalar(sa.select(WebhookDelivery).filter_by(
        id=delivery_id, collective_id=collective_id))
    if delivery is None:
        raise NotFound("no such delivery")
    return delivery


def resend(delivery: WebhookDelivery, now: datetime) -> WebhookDelivery:
    """Queue the delivery again, due at `now`, with its tries counted afresh: the same body
    and webhook-id, so a receiver that got it can tell the replay."""
    db.session.execute(sa.select(WebhookDelivery.id).where(WebhookDelivery.id == delivery.id)
                       .with_for_update())
    outbox.requeue(delivery, now)
    return delivery


def pending_count(collective_id: int) -> int:
    """How many of the collective's deliveries wait to go out."""
    return db.session.scalar(
        sa.select(sa.func.count(WebhookDelivery.id))
        .where(WebhookDelivery.collective_id == collective_id,
               WebhookDelivery.status == OutboxStatus.PENDING.value)) or 0


def purge_old_deliveries(now: datetime, keep: timedelta) -> int:
    """Forget deliveries done with for longer than `keep`, with their attempts: delivered
    ones by when they were delivered, failed ones by their last attempt (or when they were
    queued, if never tried). Pending ones stay, however old. How many were forgotten."""
    cutoff = now - keep
    recent_attempt = sa.select(WebhookAttempt.id).where(
        WebhookAttempt.delivery_id == WebhookDelivery.id, WebhookAttempt.attempted_at > cutoff)
    done = sa.select(WebhookDelivery.id).where(sa.or_(
        sa.and_(WebhookDelivery.status == OutboxStatus.SENT.value,
                WebhookDelivery.sent_at <= cutoff),
        sa.and_(WebhookDelivery.status == OutboxStatus.FAILED.value,
                WebhookDelivery.created_at <= cutoff, ~sa.exists(recent_attempt))))
    ids = list(db.session.scalars(done))
    forgotten = 0
    for start in range(0, len(ids), 1000):  # bounded IN lists
        chunk = ids[start:start + 1000]
        db.session.execute(sa.delete(WebhookAttempt)
                           .where(WebhookAttempt.delivery_id.in_(chunk)))
        forgotten += db.session.execute(sa.delete(WebhookDelivery)
                                        .where(WebhookDelivery.id.in_(chunk))).rowcount or 0
    return forgotten

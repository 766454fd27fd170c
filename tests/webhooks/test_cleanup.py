"""The scheduler's clean-up of webhook deliveries: delivered and failed ones are forgotten
30 days after they were done with, with their attempts; pending ones stay."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from collective.clock import now_utc
from collective.extensions import db
from collective.outbox import OutboxStatus
from collective.scheduling import build_scheduler
from collective.webhooks import endpoints
from collective.webhooks.jobs import purge_old_deliveries
from collective.webhooks.models import WebhookAttempt, WebhookDelivery
from tests.factories import make_collective


def _delivery(endpoint, key: str, status: OutboxStatus, *, created, sent=None,
              tried=None) -> int:
    delivery = WebhookDelivery(endpoint_id=endpoint.id, collective_id=endpoint.collective_id,
                               event_key=key, event_type="payment.recorded",
                               message_id=f"msg_{key}", payload={"collective": "x", "data": {}},
                               status=status.value, attempts=1 if tried else 0,
                               next_attempt_at=created, created_at=created, sent_at=sent)
    db.session.add(delivery)
    db.session.flush()
    if tried is not None:
        db.session.add(WebhookAttempt(delivery_id=delivery.id, attempted_at=tried,
                                      duration_ms=5, response_status=500 if sent is None
                                      else 200))
        db.session.flush()
    return delivery.id


def test_deliveries_done_with_for_30_days_are_forgotten_with_their_attempts(app, setup):
    now = now_utc()
    old, recent = now - timedelta(days=31), now - timedelta(days=29)
    with setup():
        founder = make_collective()
        endpoint = endpoints.create_endpoint(founder, url="https://hooks.example.test/in",
                                             event_types=["payment.recorded"],
                                             allow_private=True)
        sent_long_ago = _delivery(endpoint, "a", OutboxStatus.SENT, created=old, sent=old,
                                  tried=old)
        sent_lately = _delivery(endpoint, "b", OutboxStatus.SENT, created=old, sent=recent,
                                tried=recent)
        failed_long_ago = _delivery(endpoint, "c", OutboxStatus.FAILED, created=old, tried=old)
        # Queued long ago, but its last try (after a "send again") was lately.
        failed_lately = _delivery(endpoint, "d", OutboxStatus.FAILED, created=old,
                                  tried=recent)
        never_tried = _delivery(endpoint, "e", OutboxStatus.FAILED, created=old)
        pending = _delivery(endpoint, "f", OutboxStatus.PENDING, created=old)
        db.session.commit()

    with app.app_context():
        assert purge_old_deliveries(now) == 3
        assert purge_old_deliveries(now) == 0  # nothing more to forget

    with setup():
        kept = set(db.session.scalars(sa.select(WebhookDelivery.id)))
        assert kept == {sent_lately, failed_lately, pending}
        assert not {sent_long_ago, failed_long_ago, never_tried} & kept
        attempts = set(db.session.scalars(sa.select(WebhookAttempt.delivery_id)))
        assert attempts == {sent_lately, failed_lately}


def test_the_clean_up_is_a_daily_scheduled_job(app):
    job = build_scheduler(app, blocking=False).get_job("webhook_deliveries_purge")
    assert job is not None and job.name.startswith("forget webhook deliveries")
    assert job.trigger.interval == timedelta(days=1)

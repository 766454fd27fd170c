"""Webhooks end to end on a real receiver: an event queued in the service's transaction,
delivered by the scheduler's job, signed the Standard Webhooks way, once per (event,
endpoint), retried with backoff and marked failed after the set tries."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from collective.clock import now_utc
from collective.extensions import db
from collective.outbox import OutboxStatus
from collective.pool import payments, payouts
from collective.pool.models import PitchState
from collective.scheduling import build_scheduler
from collective.webhooks import endpoints
from collective.webhooks.jobs import deliver_webhooks
from collective.webhooks.models import WebhookAttempt, WebhookDelivery
from collective.webhooks.outbox import emit
from tests.factories import commit, make_collective, make_member
from tests.pool.factories import TODAY, allocate, found_rule, log, make_pitch, move_to

DOCS = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def _verify(secret: str, received) -> dict:
    """Check the signature as a receiver would, with nothing of the app's code; the payload."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = (f"{received.headers['webhook-id']}.{received.headers['webhook-timestamp']}."
              f"{received.body}").encode()
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert received.headers["webhook-signature"] == f"v1,{expected}"
    return json.loads(received.body)


@pytest.fixture
def world(ctx, receiver):
    """A collective whose treasurer subscribed the receiver to payments and payouts, and a
    won pitch with Ann's hours on it under a founding share rule."""
    founder = make_collective()
    ann = make_member(founder.collective)
    pitch = make_pitch(founder)
    move_to(founder, pitch, PitchState.WON)
    log(ann, allocate(founder, pitch, ann), 120)
    found_rule(founder)
    endpoint = endpoints.create_endpoint(
        founder, url=receiver.url, event_types=["payment.recorded", "payout.sent"],
        allow_http=True, allow_private=True)
    return founder, ann, pitch, endpoint


def _documented_verify():
    """The `verify` function docs/webhooks.md gives receivers, as written there."""
    code = DOCS.read_text().split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(code, namespace)  # noqa: S102 (our own documentation)
    return namespace["verify"]


def _deliveries() -> list[WebhookDelivery]:
    return list(db.session.scalars(sa.select(WebhookDelivery).order_by(WebhookDelivery.id)))


def test_a_recorded_payment_reaches_the_receiver_signed_through_the_scheduler_job(
        app, world, receiver):
    founder, _, pitch, endpoint = world
    payment = payments.record_payment(founder, pitch, amount=12_345, currency="USD",
                                      received_on=date(2026, 10, 5), today=TODAY)
    [queued] = _deliveries()
    assert (queued.event_type, queued.status) == ("payment.recorded", OutboxStatus.PENDING)

    job = build_scheduler(app, blocking=False).get_job("webhooks")
    assert job.trigger.interval == timedelta(minutes=1)
    done = job.func()

    assert done.sent == [queued.id]
    [received] = receiver.requests
    payload = _verify(endpoint.secret, received)
    assert received.path == "/hooks"
    assert payload["id"] == received.headers["webhook-id"] == queued.message_id
    assert payload["type"] == "payment.recorded"
    assert payload["collective"] == founder.collective.slug
    assert payload["data"]["payment_id"] == payment.id
    assert (payload["data"]["amount"], payload["data"]["currency"]) == (12_345, "USD")
    assert payload["data"]["url"].endswith(f"/c/{founder.collective.slug}/pool/payments/"
                                           f"{payment.id}")
    assert payload["timestamp"].endswith("Z")
    verify = _documented_verify()
    verify(endpoint.secret, received.headers, received.body.encode())
    with pytest.raises(ValueError, match="bad signature"):
        verify(endpoint.secret, received.headers, received.body.replace("12345", "99999")
               .encode())
    db.session.refresh(queued)
    assert queued.status == OutboxStatus.SENT and queued.attempts == 1
    [attempt] = db.session.scalars(sa.select(WebhookAttempt)).all()
    assert attempt.response_status == 200 and attempt.error is None
    assert attempt.duration_ms >= 0
    assert job.func().sent == []  # delivered once only


def test_a_resend_carries_the_same_webhook_id_and_body_signed_anew(world, receiver):
    founder, ann, _, endpoint = world
    payouts.record_deposit(founder, ann, amount=5_000, received_on=date(2026, 10, 6),
                           request_key="deposit-1", today=TODAY)
    payouts.pay_member(founder, ann, amount=1_000, paid_on=date(2026, 10, 7),
                       request_key="payout-1", today=TODAY)
    [delivery] = _deliveries()
    start = now_utc()  # after the event was queued, so it is due
    assert deliver_webhooks(start).sent == [delivery.id]

    endpoints.resend_delivery(founder, delivery.id, start + timedelta(hours=1))
    assert deliver_webhooks(start + timedelta(hours=1)).sent == [delivery.id]

    first, replay = receiver.requests
    assert _verify(endpoint.secret, first) == _verify(endpoint.secret, replay)
    assert first.headers["webhook-id"] == replay.headers["webhook-id"]
    assert first.body == replay.body
    assert int(replay.headers["webhook-timestamp"]) - int(
        first.headers["webhook-timestamp"]) == 3600
    assert json.loads(first.body)["data"]["payouts"] == [{"membership_id": ann.id,
                                                          "amount": 1_000}]
    assert db.session.scalar(sa.select(sa.func.count(WebhookAttempt.id))) == 2


def test_the_same_event_twice_queues_one_delivery(world):
    founder, ann, _, _ = world
    payouts.record_deposit(founder, ann, amount=5_000, received_on=date(2026, 10, 6),
                           request_key="deposit-1", today=TODAY)
    for _ in range(2):  # the same form sent twice: the service runs twice
        payouts.pay_member(founder, ann, amount=1_000, paid_on=date(2026, 10, 7),
                           request_key="payout-1", today=TODAY)
    assert [d.event_type for d in _deliveries()] == ["payout.sent"]


def test_a_disabled_endpoint_gets_no_new_events_and_an_unsubscribed_type_none(world):
    founder, ann, pitch, endpoint = world
    payouts.record_deposit(founder, ann, amount=5_000, received_on=date(2026, 10, 6),
                           request_key="deposit-1", today=TODAY)  # not subscribed: nothing
    endpoints.set_enabled(founder, endpoint, False)
    payments.record_payment(founder, pitch, amount=1_000, currency="USD",
                            received_on=date(2026, 10, 5), today=TODAY)
    assert _deliveries() == []


def test_a_failing_receiver_is_retried_with_backoff_then_marked_failed(app, world, receiver,
                                                                        monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOKS_MAX_ATTEMPTS", 3)
    monkeypatch.setitem(app.config, "WEBHOOKS_RETRY_SECONDS", 60)
    founder, _, pitch, _ = world
    receiver.status = 500
    payments.record_payment(founder, pitch, amount=1_000, currency="USD",
                            received_on=date(2026, 10, 5), today=TODAY)
    [delivery] = _deliveries()
    start = now_utc()  # after the event was queued, so it is due

    assert deliver_webhooks(start).retrying == [delivery.id]
    assert delivery.next_attempt_at == start + timedelta(seconds=60)
    assert deliver_webhooks(start + timedelta(seconds=59)).retrying == []  # still waiting
    assert deliver_webhooks(start + timedelta(seconds=60)).retrying == [delivery.id]
    assert delivery.next_attempt_at == start + timedelta(seconds=180)  # the wait doubled
    assert deliver_webhooks(start + timedelta(seconds=180)).failed == [delivery.id]
    assert deliver_webhooks(start + timedelta(days=1)).failed == []  # failed is not retried

    assert delivery.status == OutboxStatus.FAILED and delivery.attempts == 3
    assert delivery.last_error == "HTTP 500"
    assert len(receiver.requests) == 3
    assert {r.headers["webhook-id"] for r in receiver.requests} == {delivery.message_id}
    statuses = db.session.scalars(sa.select(WebhookAttempt.response_status)
                                  .order_by(WebhookAttempt.id)).all()
    assert statuses == [500, 500, 500]


def test_the_deliver_command_sends_what_is_due_now(runner, setup, receiver):
    with setup():
        founder = make_collective()
        endpoints.create_endpoint(founder, url=receiver.url, event_types=["run.finished"],
                                  allow_http=True, allow_private=True)
        emit(founder.collective, "run.finished", key="contributions:2026-10",
             data={"run_id": 1})
        commit()

    result = runner.invoke(args=["webhooks", "deliver"])

    assert result.exit_code == 0 and "1 sent, 0 to retry later, 0 failed" in result.output
    assert [json.loads(r.body)["type"] for r in receiver.requests] == ["run.finished"]


def test_a_receiver_that_never_answers_is_given_up_on_after_the_timeout(app, ctx, receiver,
                                                                       monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOKS_TIMEOUT", 0.2)
    silent = socket.create_server(("127.0.0.1", 0))  # listens, never accepts nor answers
    try:
        founder = make_collective()
        endpoints.create_endpoint(
            founder, url=f"http://127.0.0.1:{silent.getsockname()[1]}/hooks",
            event_types=["run.finished"], allow_http=True, allow_private=True)
        [delivery] = emit(founder.collective, "run.finished", key="1", data={"run_id": 1})
        start = now_utc()

        assert deliver_webhooks(start).retrying == [delivery.id]
    finally:
        silent.close()
    [attempt] = db.session.scalars(sa.select(WebhookAttempt)).all()
    assert attempt.response_status is None and "timed out" in attempt.error
    assert 150 <= attempt.duration_ms < 2000
    assert delivery.next_attempt_at == start + timedelta(seconds=60)  # the lease is over

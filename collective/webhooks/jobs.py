"""The webhook delivery job: every minute the scheduler process POSTs what is due.

Each delivery is claimed in a short transaction of its own (PostgreSQL: FOR UPDATE SKIP
LOCKED; SQLite: one writer at a time) that leases it: its next try is put off by LEASE, so
no other process takes it meanwhile. It is POSTed with no transaction open (a slow receiver
holds no lock: on SQLite that would stop every other writer), then the attempt is recorded
in a second transaction. A crash in between leaves the lease to run out, and the delivery
is sent again under the same webhook-id (docs/webhooks.md: at least once, so a receiver
drops what it has seen)."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from apscheduler.schedulers.base import BaseScheduler
from flask import Flask, current_app

from collective.clock import now_utc
from collective.extensions import db
from collective.outbox import OutboxStatus
from collective.periodic import add_app_job
from collective.transactions import transaction
from collective.webhooks import outbox
from collective.webhooks.models import WebhookEndpoint
from collective.webhooks.sending import DEADLINE_TIMEOUTS, Answer, post
from collective.webhooks.signing import signed_headers

log = logging.getLogger(__name__)

#: At most this many deliveries per run; the rest wait a minute.
BATCH_SIZE = 100
#: How long a claimed delivery is kept from other processes, at least: past the deadline
#: of its POST (sending.py), then it is due again.
LEASE = timedelta(minutes=2)


@dataclass
class Delivered:
    """What one run of the job did: the delivery ids sent, retried later, and marked failed."""

    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def deliver_webhooks(now: datetime | None = None, *, limit: int = BATCH_SIZE) -> Delivered:
    """POST every pending delivery due at `now` (default: the clock), each signed for the
    moment it is sent; a failure is recorded and retried later with backoff, never raised."""
    config = current_app.config
    retry = dict(max_attempts=int(config["WEBHOOKS_MAX_ATTEMPTS"]),
                 first_wait=timedelta(seconds=int(config["WEBHOOKS_RETRY_SECONDS"])))
    reach = dict(timeout=float(config["WEBHOOKS_TIMEOUT"]),
                 allow_http=bool(config["WEBHOOKS_ALLOW_HTTP"]),
                 allow_private=bool(config["WEBHOOKS_ALLOW_PRIVATE_URLS"]))
    lease = max(LEASE, timedelta(seconds=reach["timeout"] * DEADLINE_TIMEOUTS * 2))
    done = Delivered()
    for _ in range(limit):
        moment = now or now_utc()
        with transaction():
            delivery = outbox.claim_next(moment)
            if delivery is None:
                break
            delivery.next_attempt_at = moment + lease
            endpoint = db.session.get(WebhookEndpoint, delivery.endpoint_id)
            delivery_id, url, body = delivery.id, endpoint.url, outbox.body_of(delivery)
            headers = signed_headers(endpoint.signing_secrets(moment), delivery.message_id,
                                     int(moment.timestamp()), body)
        answer = _attempt(url, body, headers, reach)
        with transaction():
            delivery = outbox.lock_delivery(delivery_id)
            if delivery is None:  # its endpoint was deleted meanwhile
                continue
            outbox.record_attempt(delivery, answer, moment, **retry)
            if answer.ok:
                done.sent.append(delivery.id)
                continue
            log.warning("webhook %s to %s not delivered (try %s): %s", delivery.id, url,
                        delivery.attempts, answer.error)
            (done.failed if delivery.status == OutboxStatus.FAILED
             else done.retrying).append(delivery.id)
    return done


def _attempt(url: str, body: str, headers: dict[str, str], reach: dict) -> Answer:
    """One POST; whatever goes wrong is an answer to record, never an exception (a
    delivery that raised would be claimed again and again and hold up the queue)."""
    try:
        return post(url, body, headers, **reach)
    except Exception as exc:
        log.exception("webhook to %s failed unexpectedly", url)
        return Answer(None, f"{type(exc).__name__}: {exc}"[:500], 0)


def purge_old_deliveries(now: datetime | None = None) -> int:
    """Forget the deliveries delivered or failed more than WEBHOOKS_KEEP_DAYS ago, in one
    transaction; how many."""
    keep = timedelta(days=int(current_app.config["WEBHOOKS_KEEP_DAYS"]))
    with transaction():
        return outbox.purge_old_deliveries(now or now_utc(), keep)


def add_webhook_jobs(scheduler: BaseScheduler, app: Flask) -> None:
    """Deliver the webhooks every minute, and once at start; clean up old deliveries
    daily, and once at start."""

    add_app_job(scheduler, app, deliver_webhooks, job_id="webhooks",
                description="deliver the webhooks", trigger="interval", minutes=1,
                next_run_time=now_utc())
    add_app_job(scheduler, app, purge_old_deliveries, job_id="webhook_deliveries_purge",
                description="forget webhook deliveries done with more than "
                            "WEBHOOKS_KEEP_DAYS ago",
                trigger="interval", hours=24, next_run_time=now_utc())

"""The outbox delivery job: every minute the scheduler process sends what is due.

Each message is claimed, sent and marked in one transaction of its own, so two scheduler
processes never send the same row (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: one writer
at a time). A crash after the server accepted a message but before its row was committed
sends it again on the next run, under the same Message-ID (docs/mail.md: at least once).
"""
from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from apscheduler.schedulers.base import BaseScheduler
from flask import Flask, current_app

from collective.clock import now_utc
from collective.mail import outbox
from collective.mail.models import OutboxStatus
from collective.mail.transports import PermanentFailure, build_message, transport_for
from collective.periodic import add_app_job
from collective.transactions import transaction

log = logging.getLogger(__name__)

#: At most this many messages per run; the rest wait a minute.
BATCH_SIZE = 200


@dataclass
class Delivery:
    """What one run of the job did: the outbox ids sent, retried later, and marked failed."""

    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    #: False when no transport is configured (production without MAIL_SERVER).
    configured: bool = True


def deliver_outbox(now: datetime | None = None, *, limit: int = BATCH_SIZE) -> Delivery:
    """Send every pending message due at `now` (default: the clock), one transaction each;
    a failure is logged and retried later with backoff, never raised."""
    config = current_app.config
    transport = transport_for(config, current_app.instance_path)
    done = Delivery()
    if transport is None:
        done.configured = False
        log.warning("MAIL_SERVER is not set: outgoing mail waits in the outbox")
        return done
    now = now or now_utc()
    sender = config["MAIL_DEFAULT_SENDER"]
    retry = dict(max_attempts=int(config["MAIL_MAX_ATTEMPTS"]),
                 first_wait=timedelta(seconds=int(config["MAIL_RETRY_SECONDS"])))
    try:
        for _ in range(limit):
            with transaction():
                row = outbox.claim_next(now)
                if row is None:
                    break
                try:
                    message = build_message(row, sender)
                except Exception as exc:  # a row no message can be made of: never retried
                    log.exception("mail %s cannot be built; marked failed", row.id)
                    outbox.mark_attempt_failed(row, f"{type(exc).__name__}: {exc}", now,
                                               permanent=True, **retry)
                    done.failed.append(row.id)
                    continue
                try:
                    transport.send(message)
                except PermanentFailure as exc:
                    log.error("mail %s to %s refused for good: %s", row.id, row.recipient, exc)
                    outbox.mark_attempt_failed(row, str(exc), now, permanent=True, **retry)
                except (OSError, smtplib.SMTPException) as exc:
                    log.warning("mail %s to %s not sent (try %s): %r", row.id, row.recipient,
                                row.attempts + 1, exc)
                    outbox.mark_attempt_failed(row, f"{type(exc).__name__}: {exc}", now,
                                               **retry)
                except Exception as exc:  # anything else: logged and retried, never stuck
                    log.exception("mail %s to %s not sent (try %s)", row.id, row.recipient,
                                  row.attempts + 1)
                    transport.close()
                    outbox.mark_attempt_failed(row, f"{type(exc).__name__}: {exc}", now,
                                               **retry)
                else:
                    outbox.mark_sent(row, now)
                    done.sent.append(row.id)
                    continue
                (done.failed if row.status == OutboxStatus.FAILED
                 else done.retrying).append(row.id)
    finally:
        transport.close()
    return done


def add_mail_jobs(scheduler: BaseScheduler, app: Flask) -> None:
    """Deliver the outbox every minute, and once at start."""

    add_app_job(scheduler, app, deliver_outbox, job_id="mail-outbox",
                description="deliver the outbox", trigger="interval", minutes=1,
                next_run_time=now_utc())

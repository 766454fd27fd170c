"""The scheduler's notification job: the daily digest."""
from __future__ import annotations

from datetime import datetime

from apscheduler.schedulers.base import BaseScheduler
from flask import Flask

from collective.clock import now_utc
from collective.notifications.mailing import queue_digests
from collective.periodic import add_app_job
from collective.transactions import transaction

#: When the digest goes out each day (UTC).
DIGEST_HOUR = 6


def send_digests(now: datetime | None = None) -> list[int]:
    """Queue the day's digests, in one transaction; the users mailed."""
    with transaction():
        return queue_digests(now or now_utc())


def add_notification_jobs(scheduler: BaseScheduler, app: Flask) -> None:
    """The daily digest at DIGEST_HOUR UTC."""

    add_app_job(scheduler, app, send_digests, job_id="notification-digest",
                description="queue the daily notification digests", trigger="cron",
                hour=DIGEST_HOUR, minute=0)

"""The scheduler's notification job: the daily digest."""
from __future__ import annotations

from datetime import datetime

from apscheduler.schedulers.base import BaseScheduler
from flask import Flask

from collective.clock import now_utc
from collective.notifications.mailing import queue_digests
from collective.transactions import transaction

#: When the digest goes out each day (UTC).
DIGEST_HOUR = 6


def send_digests(now: datetime | None = None) -> list[int]:
    """Queue the day's digests, in one transaction; the users mailed."""
    with transaction():
        return queue_digests(now or now_utc())


def add_notification_jobs(scheduler: BaseScheduler, app: Flask) -> None:
    """The daily digest at DIGEST_HOUR UTC."""

    def job() -> list[int]:
        with app.app_context():
            return send_digests()

    job.__name__ = "send_digests"
    scheduler.add_job(job, "cron", hour=DIGEST_HOUR, minute=0, id="notification-digest",
                      name="queue the daily notification digests", replace_existing=True)

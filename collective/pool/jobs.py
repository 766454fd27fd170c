"""The scheduler's reminders: votes closing within a day and work due within three days
(pool/notices.py), every 10 minutes."""
from __future__ import annotations

from apscheduler.schedulers.base import BaseScheduler
from flask import Flask

from collective.clock import now_utc
from collective.pool.notices import send_reminders
from collective.transactions import transaction


def add_reminder_jobs(scheduler: BaseScheduler, app: Flask) -> None:
    """Send the due reminders every 10 minutes, and once at start."""

    def job() -> tuple[int, int]:
        with app.app_context(), transaction():
            return send_reminders(now_utc())

    job.__name__ = "send_reminders"
    scheduler.add_job(job, "interval", minutes=10, id="reminders",
                      name="remind members of votes closing and work due",
                      next_run_time=now_utc(), replace_existing=True)

"""The scheduler's reminders: votes closing within a day and work due within three days
(pool/notices.py), every 10 minutes."""
from __future__ import annotations

from apscheduler.schedulers.base import BaseScheduler
from flask import Flask

from collective.clock import now_utc
from collective.periodic import add_app_job
from collective.pool.notices import send_reminders
from collective.transactions import transaction


def add_reminder_jobs(scheduler: BaseScheduler, app: Flask) -> None:
    """Send the due reminders every 10 minutes, and once at start."""

    def send_due_reminders() -> tuple[int, int]:
        with transaction():
            return send_reminders(now_utc())

    send_due_reminders.__name__ = "send_reminders"
    add_app_job(scheduler, app, send_due_reminders, job_id="reminders",
                description="remind members of votes closing and work due",
                trigger="interval", minutes=10, next_run_time=now_utc())

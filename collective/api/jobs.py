"""The scheduler's purge of the API's idempotency keys older than 24 hours, hourly."""
from __future__ import annotations

from apscheduler.schedulers.base import BaseScheduler
from flask import Flask

from collective.api.idempotency import purge_expired
from collective.clock import now_utc
from collective.transactions import transaction


def add_api_jobs(scheduler: BaseScheduler, app: Flask) -> None:
    """Purge expired idempotency keys every hour, and once at start."""

    def job() -> int:
        with app.app_context(), transaction():
            return purge_expired(now_utc())

    job.__name__ = "purge_idempotency_keys"
    scheduler.add_job(job, "interval", hours=1, id="api_idempotency_keys",
                      name="forget the API's idempotency keys older than 24 hours",
                      next_run_time=now_utc(), replace_existing=True)

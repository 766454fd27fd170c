"""The scheduler's purge of the API's idempotency keys older than 24 hours, hourly."""
from __future__ import annotations

from apscheduler.schedulers.base import BaseScheduler
from flask import Flask

from collective.api.idempotency import purge_expired
from collective.clock import now_utc
from collective.periodic import add_app_job
from collective.transactions import transaction


def add_api_jobs(scheduler: BaseScheduler, app: Flask) -> None:
    """Purge expired idempotency keys every hour, and once at start."""

    def purge_idempotency_keys() -> int:
        with transaction():
            return purge_expired(now_utc())

    add_app_job(scheduler, app, purge_idempotency_keys, job_id="api_idempotency_keys",
                description="forget the API's idempotency keys older than 24 hours",
                trigger="interval", hours=1, next_run_time=now_utc())

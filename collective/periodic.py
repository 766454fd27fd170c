"""How a domain hands the scheduler a job: a function run in the app's context, under a
name of its own (APScheduler logs it) and a job id that a new registration replaces."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from apscheduler.schedulers.base import BaseScheduler
from flask import Flask


def add_app_job(scheduler: BaseScheduler, app: Flask, run: Callable[[], Any], *,
                job_id: str, description: str, trigger: str, **when: Any) -> None:
    """Schedule `run` (named by its own __name__) by `trigger` and `when` (APScheduler's
    trigger arguments, and next_run_time for a first run at start), in the app's context."""

    def job() -> Any:
        with app.app_context():
            return run()

    job.__name__ = run.__name__
    scheduler.add_job(job, trigger, id=job_id, name=description, replace_existing=True,
                      **when)

"""Scheduled work: the fund's monthly runs (caught up in order) and closing proposals.

`flask --app collective scheduler` runs these in their own process (BlockingScheduler);
`make run` starts that process beside the development server. Web workers never do.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime

import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from collective.benefits import services
from collective.extensions import db
from collective.members.proposals import close_due_proposals

log = logging.getLogger(__name__)

JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 2 * 24 * 3600}


def run_due(collective_id: int, today: date, triggered_by: str = "scheduler"
            ) -> list[services.RunResult]:
    """Every run the collective is owed, oldest first, each committed on its own."""
    results = []
    for kind, period in services.due_periods(collective_id, today):
        try:
            result = services.run(collective_id, kind, period, triggered_by=triggered_by)
            db.session.commit()
        except sa.exc.IntegrityError:
            # Another process recorded this run first; its work stands, ours is undone.
            db.session.rollback()
            continue
        except Exception:
            db.session.rollback()
            raise
        results.append(result)
    return results


def run_all_due(today: date | None = None, triggered_by: str = "scheduler",
                on_collective: Callable[[str], None] | None = None
                ) -> dict[str, list[services.RunResult]]:
    """Close proposals past their deadline, then catch every collective's runs up."""
    today = today or datetime.now(UTC).date()
    close_due_proposals()
    db.session.commit()
    done: dict[str, list[services.RunResult]] = {}
    for collective_id, slug in services.collectives_with_plans():
        try:
            done[slug] = run_due(collective_id, today, triggered_by)
        except Exception:
            log.exception("fund runs failed for collective %s; the others go on", slug)
        if on_collective is not None:
            on_collective(slug)
    return done


def close_proposals() -> int:
    """Decide proposals whose deadline has passed."""
    decided = close_due_proposals()
    db.session.commit()
    return len(decided)


def make_scheduler(app: Flask, *, blocking: bool) -> BaseScheduler:
    """A scheduler with the fund's daily runs and the proposal closer; both also run once at
    start, so months missed while it was down are caught up straight away."""
    scheduler_class = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = scheduler_class(timezone=UTC, job_defaults=JOB_DEFAULTS)

    def in_app(func: Callable[[], object]) -> Callable[[], object]:
        def job() -> object:
            with app.app_context():
                return func()
        job.__name__ = func.__name__
        return job

    now = datetime.now(UTC)
    scheduler.add_job(in_app(run_all_due), "cron", hour=2, minute=0, id="fund-runs",
                      name="benefit fund runs", next_run_time=now, replace_existing=True)
    scheduler.add_job(in_app(close_proposals), "interval", minutes=10, id="close-proposals",
                      name="close proposals", next_run_time=now, replace_existing=True)
    return scheduler

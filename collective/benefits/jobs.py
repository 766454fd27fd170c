"""Scheduled work: the fund's monthly runs (caught up in order), closing proposals, and the
fund forecasts that the treasurer's page reads.

`flask --app collective scheduler` runs these in their own process (BlockingScheduler);
`make run` starts that process beside the development server. Web workers never do.
Each collective's "today" is its own, from its timezone; each unit of work commits once.
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

from collective.benefits import forecasts, notices, plans, runs
from collective.clock import now_utc, today_in
from collective.extensions import db
from collective.members.models import Collective, Proposal, ProposalStatus
from collective.members.proposals import close_due_proposals
from collective.transactions import transaction

log = logging.getLogger(__name__)

JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 2 * 24 * 3600}


def run_due(collective_id: int, today: date, triggered_by: str = "scheduler"
            ) -> list[runs.RunResult]:
    """Every run the collective is owed, oldest first, each committed on its own."""
    results = []
    for kind, period in runs.due_periods(collective_id, today):
        try:
            with transaction():
                result = runs.run(collective_id, kind, period, today=today,
                                  triggered_by=triggered_by)
        except sa.exc.IntegrityError:
            # Another process recorded this run first; its work stands, ours is undone.
            continue
        results.append(result)
    return results


def stale_forecasts(now: datetime, collective_id: int | None = None
                    ) -> list[forecasts.ForecastState]:
    """The live collectives with a plan (or one) whose forecast is stale, each judged by its
    own today at `now`."""
    return [state for state in forecasts.forecast_states(collective_id)
            if state.is_stale(today_in(state.timezone, now))]


def refresh_forecasts(now: datetime | None = None, collective_id: int | None = None
                      ) -> list[str]:
    """Recompute every stale forecast (or one collective's), each committed on its own;
    the slugs refreshed. `now` defaults to the clock."""
    now = now or now_utc()
    refreshed = []
    for state in stale_forecasts(now, collective_id):
        try:
            with transaction():
                forecasts.compute_forecast(state.collective_id,
                                           today=today_in(state.timezone, now), now=now)
        except sa.exc.IntegrityError:
            continue  # another process stored it first
        except Exception:
            log.exception("the fund forecast failed for collective %s; the others go on",
                          state.slug)
            continue
        refreshed.append(state.slug)
    return refreshed


def run_all_due(now: datetime | None = None, triggered_by: str = "scheduler",
                on_collective: Callable[[str], None] | None = None
                ) -> dict[str, list[runs.RunResult]]:
    """Close proposals past their deadline, then catch every collective's runs up (to its
    own today) and refresh its forecast, all as of `now`.

    Without `now`, each step reads the clock as it comes: a run stamps its finish from the
    clock, so a forecast computed after it must not carry an earlier time (it would look
    older than the run, and stale at once)."""
    close_proposals(now)
    done: dict[str, list[runs.RunResult]] = {}
    for collective_id, slug, timezone in plans.collectives_with_plans():
        today = today_in(timezone, now)
        try:
            done[slug] = run_due(collective_id, today, triggered_by)
        except Exception as exc:
            log.exception("fund runs failed for collective %s; the others go on", slug)
            db.session.rollback()
            try:
                with transaction():
                    notices.fund_runs_failed(collective_id, today,
                                             f"{type(exc).__name__}: {exc}")
            except Exception:
                log.exception("telling the treasurers of %s failed too", slug)
        refresh_forecasts(now, collective_id=collective_id)
        if on_collective is not None:
            on_collective(slug)
    return done


def _collectives_with_due_proposals(now: datetime) -> list[tuple[int, str]]:
    """(id, slug) of the collectives with an open proposal whose deadline has passed."""
    due = sa.select(Proposal.collective_id).where(
        Proposal.status == ProposalStatus.OPEN.value, Proposal.deadline_at <= now)
    return [tuple(row) for row in db.session.execute(
        sa.select(Collective.id, Collective.slug).where(Collective.id.in_(due))
        .order_by(Collective.id)).all()]


def close_proposals(now: datetime | None = None) -> int:
    """Decide proposals whose deadline has passed, one transaction per collective: when
    adopting one fails, that collective's decisions roll back (and are tried again next
    time) and the failure is logged; the other collectives' go on. How many were decided."""
    now = now or now_utc()
    decided = 0
    for collective_id, slug in _collectives_with_due_proposals(now):
        try:
            with transaction():
                closed = close_due_proposals(collective_id, now=now)
        except Exception:
            log.exception("deciding proposals failed for collective %s; the others go on", slug)
            continue
        decided += len(closed)
    return decided


def close_proposals_and_refresh_forecasts() -> tuple[int, list[str]]:
    """The frequent job: decide due proposals, then recompute the forecasts that a run or a
    plan change (adopted just now, perhaps) has made stale."""
    return close_proposals(), refresh_forecasts()


def make_scheduler(app: Flask, *, blocking: bool) -> BaseScheduler:
    """A scheduler with the fund's daily runs and the frequent proposal closer (which also
    refreshes stale forecasts); both also run once at start, so months missed while it was
    down are caught up straight away."""
    scheduler_class = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = scheduler_class(timezone=UTC, job_defaults=JOB_DEFAULTS)

    def in_app(func: Callable[[], object]) -> Callable[[], object]:
        def job() -> object:
            with app.app_context():
                return func()
        job.__name__ = func.__name__
        return job

    now = now_utc()
    scheduler.add_job(in_app(run_all_due), "cron", hour=2, minute=0, id="fund-runs",
                      name="benefit fund runs", next_run_time=now, replace_existing=True)
    scheduler.add_job(in_app(close_proposals_and_refresh_forecasts), "interval", minutes=10,
                      id="close-proposals", name="close proposals, refresh fund forecasts",
                      next_run_time=now, replace_existing=True)
    return scheduler

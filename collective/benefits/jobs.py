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

from collective.benefits import forecasts, notices, plans, run_failures, runs
from collective.benefits.models import RunKind
from collective.clock import now_utc, today_in
from collective.extensions import db
from collective.joblocks import FUND_RUNS_LOCK, PROPOSALS_LOCK, CollectiveClaims
from collective.ledger import snapshots
from collective.members.models import Collective, Proposal, ProposalStatus
from collective.members.proposals import close_due_proposals
from collective.transactions import transaction, violates

log = logging.getLogger(__name__)

#: The unique keys whose clash means another process did the work first.
RUN_KEY = "uq_benefit_runs_collective_id_kind_period"
FORECAST_KEY = "uq_fund_forecasts_collective_id"

JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 2 * 24 * 3600}


def run_due(collective_id: int, today: date, triggered_by: str = "scheduler"
            ) -> list[runs.RunResult]:
    """Every run the collective is owed, oldest first, each committed on its own."""
    results = []
    for kind, period in runs.due_periods(collective_id, today):
        result = run_once(collective_id, kind, period, today, triggered_by)
        if result is not None:
            results.append(result)
    return results


def run_once(collective_id: int, kind: RunKind, period: date, today: date,
             triggered_by: str) -> runs.RunResult | None:
    """One run, committed; None when another process recorded the same run first (the
    unique run key clashed). Any other error, integrity errors included, is raised."""
    try:
        with transaction():
            return runs.run(collective_id, kind, period, today=today,
                            triggered_by=triggered_by)
    except sa.exc.IntegrityError as exc:
        if not violates(exc, RUN_KEY):
            raise
        return None  # its work stands, ours is undone


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
        except sa.exc.IntegrityError as exc:
            if violates(exc, FORECAST_KEY):
                continue  # another process stored it first
            log.exception("the fund forecast failed for collective %s; the others go on",
                          state.slug)
            continue
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
    snapshot_balances()
    done: dict[str, list[runs.RunResult]] = {}
    with CollectiveClaims(FUND_RUNS_LOCK) as claims:
        for collective_id, slug, timezone in plans.collectives_with_plans():
            with claims.claim(collective_id) as mine:
                if not mine:
                    log.info("fund runs of %s: another scheduler process has them", slug)
                    continue
                done[slug] = _run_one_collective(collective_id, slug, today_in(timezone, now),
                                                 now, triggered_by)
            if on_collective is not None:
                on_collective(slug)
    return done


def snapshot_balances() -> int | None:
    """Snapshot the ledger's balances when enough postings came since the last snapshot, in
    a short transaction of its own, so the runs that follow read balances from it; the new
    watermark, or None. A snapshot that fails is logged: the runs read the whole history
    instead, and the next round tries again."""
    try:
        with transaction():
            return snapshots.take_snapshot()
    except Exception:
        log.exception("the balance snapshot failed; balances are read from all postings")
        return None


def _run_one_collective(collective_id: int, slug: str, today: date, now: datetime | None,
                        triggered_by: str) -> list[runs.RunResult]:
    """One collective's due runs, then its forecast; the runs that posted. A failure is
    logged, kept for the treasurers' page and told to them, and never reaches the other
    collectives (the runs before it stay posted: each commits on its own)."""
    posted: list[runs.RunResult] = []
    kind = period = None
    try:
        for kind, period in runs.due_periods(collective_id, today):
            result = run_once(collective_id, kind, period, today, triggered_by)
            if result is not None:
                posted.append(result)
    except Exception as exc:
        log.exception("fund runs failed for collective %s; the others go on", slug)
        db.session.rollback()
        _keep_failure(collective_id, kind, period, today, exc, now or now_utc())
    refresh_forecasts(now, collective_id=collective_id)
    return posted


def _keep_failure(collective_id: int, kind: RunKind | None, period: date | None, today: date,
                  exc: Exception, now: datetime) -> None:
    """Keep the failed run for the treasurer's page and tell the treasurers, in a
    transaction of its own (which, failing too, is only logged)."""
    try:
        with transaction():
            if kind is not None and period is not None:
                run_failures.record_failure(collective_id, kind, period, exc, now)
            notices.fund_runs_failed(collective_id, today, run_failures.failure_reason(exc))
    except Exception:
        log.exception("telling the treasurers of collective %s failed too", collective_id)


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
    with CollectiveClaims(PROPOSALS_LOCK) as claims:
        for collective_id, slug in _collectives_with_due_proposals(now):
            with claims.claim(collective_id) as mine:
                if not mine:
                    continue  # another scheduler process is deciding them
                try:
                    with transaction():
                        closed = close_due_proposals(collective_id, now=now)
                except Exception:
                    log.exception("deciding proposals failed for collective %s; the others "
                                  "go on", slug)
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

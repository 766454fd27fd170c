"""The fund's scheduled runs: each month's contributions into the fund and benefits out of
it, and which months are due. The one entry point the web, the CLI and the scheduler call.

A run is refused for a month that has not ended by `today` (the caller's date in the
collective's timezone), so the web, the CLI, the scheduler and the API meet one rule. A run
posts once per (kind, collective, period); its row, journal entries and lines are flushed
together, and the caller commits once. The runs themselves are in contribution_runs.py and
payout_runs.py, what they share in run_steps.py.
"""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from collective.benefits import notices
from collective.benefits.compute import add_months, month_start
from collective.benefits.contribution_runs import RETURN_MONTH, run_contributions
from collective.benefits.models import BenefitRun, RunKind
from collective.benefits.payout_runs import run_payouts
from collective.benefits.plans import first_period
from collective.benefits.run_steps import (
    RunResult,
    check_month_ended,
    members_frame,
    require_contributions_run,
)
from collective.extensions import db

__all__ = ["RETURN_MONTH", "RunResult", "check_month_ended", "due_periods", "members_frame",
           "require_contributions_run", "run", "run_contributions", "run_payouts"]


def run(collective_id: int, kind: RunKind | str, period: date, *, today: date,
        dry_run: bool = False, triggered_by: str = "scheduler") -> RunResult:
    """Run one kind of run for one period (refused while the month has not ended)."""
    kind = RunKind(kind)
    runner = run_contributions if kind == RunKind.CONTRIBUTIONS else run_payouts
    result = runner(collective_id, period, today=today, dry_run=dry_run,
                    triggered_by=triggered_by)
    if not (dry_run or result.already_done or result.skipped) and result.run is not None:
        notices.fund_run_done(result.run, result.total, result.shortfall)
        if kind == RunKind.CONTRIBUTIONS:
            notices.contributions_owed_or_settled(result.run)
    return result


def due_periods(collective_id: int, today: date) -> list[tuple[RunKind, date]]:
    """Runs not yet done, in order: every month from the first plan to last month, each
    month's contributions before its payouts."""
    start = first_period(collective_id)
    if start is None:
        return []
    done = set(db.session.execute(
        sa.select(BenefitRun.kind, BenefitRun.period).filter_by(collective_id=collective_id)
    ).all())
    last = add_months(month_start(today), -1)
    due = []
    period = start
    while period <= last:
        for kind in (RunKind.CONTRIBUTIONS, RunKind.PAYOUTS):
            if (kind.value, period) not in done:
                due.append((kind, period))
        period = add_months(period, 1)
    return due

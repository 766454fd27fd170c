"""The scheduler's failed fund runs, kept for the treasurers: one row per collective naming
the run that failed and why, shown on the treasurer's page until that run is done (by the
scheduler's next round, or by hand). Flush, never commit."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa

from collective.benefits.models import BenefitRun, FundRunFailure, RunKind
from collective.errors import DomainError
from collective.extensions import db


def failure_reason(exc: BaseException) -> str:
    """What the treasurers may read: a refusal's own words (a closed month, a plan the run
    refuses), or for anything unexpected only its kind (the details go to the log)."""
    if isinstance(exc, DomainError):
        return str(exc)[:500]
    return (f"an unexpected error ({type(exc).__name__}); the details are in the scheduler's "
            "log")


def record_failure(collective_id: int, kind: RunKind, period: date, exc: BaseException,
                   now: datetime) -> FundRunFailure:
    """Note that this run failed now: a new failure, or one more round of the same."""
    failure = db.session.scalar(sa.select(FundRunFailure).filter_by(collective_id=collective_id))
    if failure is None or (failure.kind, failure.period) != (kind.value, period):
        failure = failure or FundRunFailure(collective_id=collective_id)
        failure.kind, failure.period = kind.value, period
        failure.attempts, failure.first_failed_at = 0, now
        db.session.add(failure)
    failure.attempts += 1
    failure.last_failed_at = now
    failure.reason = failure_reason(exc)
    db.session.flush()
    return failure


def open_failure(collective_id: int) -> FundRunFailure | None:
    """The collective's last failed run, while it is still not done."""
    done = sa.select(BenefitRun.id).where(BenefitRun.collective_id == collective_id,
                                          BenefitRun.kind == FundRunFailure.kind,
                                          BenefitRun.period == FundRunFailure.period)
    return db.session.scalar(sa.select(FundRunFailure).where(
        FundRunFailure.collective_id == collective_id, ~done.exists()))

"""How long the fund would last: the Monte Carlo forecast, computed off the request path.

The scheduler computes and stores one forecast per collective after its runs and after a
plan change (see jobs.py); the treasurer's page reads the stored one (queries.py). A stored
forecast is stale when it is missing, was computed for an earlier month (by the collective's
own today, which the caller gives), or is older than the collective's latest run or plan.
"""
from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import NamedTuple

import sqlalchemy as sa

from collective.benefits import simulation
from collective.benefits.compute import month_start
from collective.benefits.models import BenefitKind, BenefitPlan, BenefitRun, FundForecast
from collective.benefits.plans import plan_in_force, plan_terms
from collective.benefits.queries import fund_balance, stored_forecast
from collective.benefits.runs import members_frame
from collective.extensions import db
from collective.members.models import Collective


def compute_forecast(collective_id: int, *, today: date, now: datetime,
                     assumptions: simulation.ForecastAssumptions | None = None) -> FundForecast:
    """Simulate the fund under the plan in force in `today`'s month and store the result,
    replacing the collective's previous forecast (flushed, not committed)."""
    import pandas as pd
    assumptions = assumptions or simulation.ForecastAssumptions()
    period = month_start(today)
    plan = plan_in_force(collective_id, period)
    fund = fund_balance(collective_id)
    result = None
    if plan is not None:
        terms = plan_terms(plan)
        members = members_frame(collective_id, period, terms)
        sick = terms.rule(BenefitKind.SICK)
        levels = members["level"].where(members["level"] > 0, terms.lowest_level)
        if sick is not None and sick.amount != "level":
            levels = pd.Series(int(sick.amount), index=members.index)
        result = {**simulation.forecast_months(
            fund, levels.tolist(), members["due"].tolist(),
            sick.waiting_months if sick else 1, sick.max_months if sick else 24, assumptions),
            "members": len(members), "monthly_in": int(members["due"].sum())}
    forecast = stored_forecast(collective_id) or FundForecast(collective_id=collective_id)
    forecast.for_period = period
    forecast.plan_id = plan.id if plan is not None else None
    forecast.fund_amount = fund
    forecast.result = result
    forecast.assumptions = asdict(assumptions)
    forecast.computed_at = now
    db.session.add(forecast)
    db.session.flush()
    return forecast


class ForecastState(NamedTuple):
    """What says whether a collective's stored forecast is stale."""

    collective_id: int
    slug: str
    timezone: str
    #: The month the stored forecast was computed for; None when there is none.
    for_period: date | None
    #: Missing, or older than the collective's latest run or plan.
    outdated: bool

    def is_stale(self, today: date) -> bool:
        """Outdated, or computed for a month before the one of `today` (the collective's
        own date)."""
        return self.outdated or self.for_period != month_start(today)


def forecast_states(collective_id: int | None = None) -> list[ForecastState]:
    """The forecast state of every live collective with a plan (or of one), in one query;
    the caller judges each by the collective's own today."""
    last_run = (sa.select(sa.func.max(BenefitRun.finished_at))
                .where(BenefitRun.collective_id == Collective.id).scalar_subquery())
    last_plan = (sa.select(sa.func.max(BenefitPlan.created_at))
                 .where(BenefitPlan.collective_id == Collective.id).scalar_subquery())
    query = (sa.select(Collective.id, Collective.slug, Collective.timezone,
                       FundForecast.computed_at, FundForecast.for_period, last_run, last_plan)
             .outerjoin(FundForecast, FundForecast.collective_id == Collective.id)
             .where(Collective.archived_at.is_(None),
                    Collective.id.in_(sa.select(BenefitPlan.collective_id)))
             .order_by(Collective.id))
    if collective_id is not None:
        query = query.where(Collective.id == collective_id)
    states = []
    for cid, slug, timezone, computed_at, for_period, ran_at, planned_at in (
            db.session.execute(query).all()):
        changed = [moment for moment in (ran_at, planned_at) if moment is not None]
        outdated = computed_at is None or any(moment > computed_at for moment in changed)
        states.append(ForecastState(cid, slug, timezone, for_period, outdated))
    return states

"""The fund forecast off the request path: the service stores one per collective, a forecast
goes stale with a run, a plan change or a new month, and the scheduler's real jobs (the
frequent one and the daily one) and the command store it.

The job tests commit for real, like test_runs_reliability.py.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from collective.benefits import forecasts, jobs, plans, queries, runs
from collective.benefits.compute import PlanTerms, add_months
from collective.benefits.models import BenefitRun, FundForecast
from collective.clock import now_utc
from collective.demo.fund import BREAD_FUND
from collective.extensions import db
from collective.members.models import Collective, Membership
from tests.benefits.factories import (
    NOW,
    TODAY,
    deposit,
    found_fund,
    passed_plan_vote,
    seed_fund,
    set_level,
)
from tests.benefits.test_runs_reliability import MISSED, THIS_MONTH, _committed_fund

OCT = TODAY.replace(day=1)


def _forecast_rows(collective_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count(FundForecast.id))
                             .filter_by(collective_id=collective_id))


# --- The service ------------------------------------------------------------------------------


def test_a_forecast_is_stored_with_its_assumptions_and_replaced_when_computed_again(ctx):
    treasurer, ann, bob = found_fund(3, start=add_months(OCT, -3))
    cid = treasurer.collective_id
    set_level(ann, 100_000)
    seed_fund(cid, 250_000)

    first = forecasts.compute_forecast(cid, today=TODAY, now=NOW)

    assert (first.for_period, first.plan_id, first.fund_amount, first.computed_at) == (
        OCT, plans.plan_in_force(cid, OCT).id, 250_000, NOW)
    assert first.assumptions == {"monthly_claim_rate": 0.006, "mean_duration_months": 5.0,
                                 "runs": 2000, "horizon_months": 120, "seed": 7}
    assert (first.result["members"], first.result["monthly_in"]) == (3, 2_250 + 4_500 + 2_250)
    assert 0 <= first.result["p10"] <= first.result["median"] <= 120
    assert len(first.result["median_path"]) == 120
    assert queries.stored_forecast(cid) == first

    later = NOW + timedelta(days=31)
    again = forecasts.compute_forecast(cid, today=later.date(), now=later)

    assert again.id == first.id
    assert (again.for_period, again.computed_at) == (add_months(OCT, 1), later)
    assert _forecast_rows(cid) == 1


def test_without_a_plan_in_force_the_forecast_says_so(ctx):
    treasurer, _ = found_fund(2, start=add_months(OCT, 2))
    stored = forecasts.compute_forecast(treasurer.collective_id, today=TODAY, now=NOW)
    assert (stored.result, stored.plan_id, stored.for_period) == (None, None, OCT)


def test_a_forecast_goes_stale_with_a_run_a_plan_change_or_a_new_month(ctx):
    treasurer, ann = found_fund(2, start=add_months(THIS_MONTH, -2))
    cid = treasurer.collective_id
    today = now_utc().date()

    def stale(now=None) -> bool:
        return [row[0] for row in jobs.stale_forecasts(now or now_utc(), cid)] == [cid]

    assert stale()  # never computed
    forecasts.compute_forecast(cid, today=today, now=now_utc())
    assert not stale()
    assert stale(now_utc() + timedelta(days=32))  # a month later

    runs.run_contributions(cid, add_months(THIS_MONTH, -2), today=today)
    assert stale()
    forecasts.compute_forecast(cid, today=today, now=now_utc())
    assert not stale()

    proposal = plans.propose_plan(treasurer, PlanTerms.from_json(BREAD_FUND),
                                  effective_on=add_months(THIS_MONTH, 1), today=today,
                                  now=now_utc())
    assert not stale()  # proposed only
    plans.BENEFIT_PLANS.adopt(proposal, today)
    assert stale()


# --- The scheduler's jobs and the command -------------------------------------------------------


def _jobs(app):
    scheduler = jobs.make_scheduler(app, blocking=False)
    return scheduler.get_job("fund-runs"), scheduler.get_job("close-proposals")


def test_the_frequent_job_stores_a_missing_forecast_and_leaves_a_fresh_one_alone(app):
    fund = _committed_fund(app)
    _, frequent = _jobs(app)

    frequent.func()

    with app.app_context():
        stored = queries.stored_forecast(fund["id"])
        assert (stored.for_period, stored.result["members"]) == (THIS_MONTH, 3)
        first_at = stored.computed_at

    frequent.func()

    with app.app_context():
        assert queries.stored_forecast(fund["id"]).computed_at == first_at
        assert _forecast_rows(fund["id"]) == 1


def test_a_plan_adopted_by_vote_makes_the_frequent_job_recompute_the_forecast(app):
    fund = _committed_fund(app)
    _, frequent = _jobs(app)
    frequent.func()
    with app.app_context():
        first_at = queries.stored_forecast(fund["id"]).computed_at
        voters = [db.session.get(Membership, m) for m in fund["members"]]
        # A vote that closed an hour ago; the frequent job decides it and adopts the plan.
        passed_plan_vote(voters, add_months(THIS_MONTH, 1))
        db.session.commit()

    frequent.func()

    with app.app_context():
        newest = plans.plans_of(fund["id"])[0]
        assert (newest.version, newest.effective_on) == (2, add_months(THIS_MONTH, 1))
        stored = queries.stored_forecast(fund["id"])
        assert stored.computed_at > first_at
        assert stored.computed_at >= newest.created_at


def test_the_daily_job_stores_each_fund_s_forecast_after_its_runs(app):
    fund = _committed_fund(app)
    daily, _ = _jobs(app)

    done = daily.func()

    assert len(done[fund["slug"]]) == 2 * len(MISSED)
    with app.app_context():
        stored = queries.stored_forecast(fund["id"])
        last_run = db.session.scalar(sa.select(sa.func.max(BenefitRun.finished_at))
                                     .filter_by(collective_id=fund["id"]))
        assert stored.computed_at >= last_run
        assert stored.fund_amount == queries.fund_balance(fund["id"]) == 3 * 3 * 2_250
        assert jobs.stale_forecasts(now_utc(), fund["id"]) == []


def test_the_daily_job_forecasts_as_of_the_instant_it_is_given_in_each_collective_s_today(
        app):
    fund = _committed_fund(app)
    with app.app_context():
        db.session.get(Collective, fund["id"]).timezone = "Asia/Manila"
        db.session.commit()
    next_month = add_months(THIS_MONTH, 1)
    # 00:30 on the first of next month in Manila: still this month in UTC.
    now = datetime.combine(next_month, time(0, 30), tzinfo=ZoneInfo("Asia/Manila"))

    with app.app_context():
        done = jobs.run_all_due(now)

    assert [(r.kind, r.period) for r in done[fund["slug"]]][-2:] == [
        ("contributions", THIS_MONTH), ("payouts", THIS_MONTH)]
    with app.app_context():
        stored = queries.stored_forecast(fund["id"])
        assert (stored.for_period, stored.computed_at) == (next_month, now)
        assert jobs.stale_forecasts(now, fund["id"]) == []
        assert [state.collective_id for state in jobs.stale_forecasts(
            now - timedelta(hours=1), fund["id"])] == [fund["id"]]  # Manila's last month


def test_the_forecast_command_computes_it_now(runner, setup):
    with setup():
        people = found_fund(2, start=MISSED[0])
        deposit(people[0], people[1], 10_000, on=MISSED[0], today=now_utc().date())
        db.session.commit()
        slug, collective_id = people[0].collective.slug, people[0].collective_id

    result = runner.invoke(args=["benefits", "forecast", "--collective", slug])

    assert result.exit_code == 0, result.output
    assert f"{slug}: forecast for {THIS_MONTH:%B %Y} computed " in result.output
    with setup():
        assert queries.stored_forecast(collective_id).result["members"] == 2
    unknown = runner.invoke(args=["benefits", "forecast", "--collective", "nowhere"])
    assert unknown.exit_code != 0
    assert "no collective 'nowhere' with a fund plan" in unknown.output

"""The scheduler's proposal closer decides each collective's proposals in a transaction of
its own: a proposal whose adoption fails stays open, and the other collectives' go on.

These tests commit for real, like test_runs_reliability.py.
"""
from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from collective.benefits import jobs, plans, run_failures
from collective.benefits.compute import PlanTerms, add_months
from collective.benefits.models import BenefitRun, FundRunFailure
from collective.demo.fund import BREAD_FUND
from collective.extensions import db
from collective.ledger import periods
from collective.ledger import services as ledger
from collective.members.models import Membership, Proposal, ProposalStatus
from collective.notifications.models import Notification
from collective.transactions import violates
from collective.web.formatting import month_name
from tests.benefits.factories import passed_plan_vote
from tests.benefits.test_runs_reliability import (
    MISSED,
    THIS_MONTH,
    TODAY,
    _committed_fund,
    _state,
)
from tests.factories import PASSWORD


def _passed_plan_vote(app, fund: dict) -> int:
    """A plan proposal everyone agreed to, whose deadline passed an hour ago (committed)."""
    with app.app_context():
        voters = [db.session.get(Membership, m) for m in fund["members"]]
        proposal = passed_plan_vote(voters, add_months(THIS_MONTH, 1))
        db.session.commit()
        return proposal.id


def test_a_proposal_that_fails_to_adopt_stays_open_and_other_collectives_are_decided(
        app, caplog):
    broken_fund, good_fund = _committed_fund(app), _committed_fund(app)
    broken_id = _passed_plan_vote(app, broken_fund)
    good_id = _passed_plan_vote(app, good_fund)
    with app.app_context():
        # Terms that no longer parse (say, written before a rule was tightened).
        broken = db.session.get(Proposal, broken_id)
        broken.payload = {**broken.payload, "terms": {"contribution": {"kind": "bogus"}}}
        db.session.commit()
    _, frequent = (jobs.make_scheduler(app, blocking=False).get_job(job_id)
                   for job_id in ("fund-runs", "close-proposals"))

    with caplog.at_level(logging.ERROR, logger=jobs.log.name):
        decided, _ = frequent.func()

    assert decided >= 1
    assert (f"deciding proposals failed for collective {broken_fund['slug']}; "
            "the others go on") in caplog.text
    with app.app_context():
        assert db.session.get(Proposal, good_id).status == ProposalStatus.ADOPTED
        assert [p.version for p in plans.plans_of(good_fund["id"])] == [2, 1]
        broken = db.session.get(Proposal, broken_id)
        assert (broken.status, broken.decided_at) == (ProposalStatus.OPEN, None)
        assert [p.version for p in plans.plans_of(broken_fund["id"])] == [1]

    # Mended, it is decided on the next round.
    with app.app_context():
        broken = db.session.get(Proposal, broken_id)
        broken.payload = {**broken.payload, "terms": PlanTerms.from_json(BREAD_FUND).to_json()}
        db.session.commit()

    frequent.func()

    with app.app_context():
        assert db.session.get(Proposal, broken_id).status == ProposalStatus.ADOPTED
        assert [p.version for p in plans.plans_of(broken_fund["id"])] == [2, 1]


# --- One collective's failed run ------------------------------------------------------------


def _close_month(app, fund: dict, month) -> None:
    """The treasurer closes a month of the books before the fund's runs for it posted."""
    with app.app_context():
        founder = db.session.get(Membership, fund["members"][0])
        periods.close_month(founder, fund["id"], month, today=TODAY)
        db.session.commit()


def _treasurer_page(app, fund: dict) -> str:
    with app.app_context():
        email = db.session.get(Membership, fund["members"][0]).user.email
    client = app.test_client()
    client.post("/login", data={"email": email, "password": PASSWORD})
    page = client.get(f"/c/{fund['slug']}/fund/treasurer")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def test_a_collective_whose_run_is_refused_never_stops_the_others_and_its_treasurers_see_why(
        app, caplog):
    broken, good = _committed_fund(app), _committed_fund(app)
    _close_month(app, broken, MISSED[1])
    fund_runs_job = jobs.make_scheduler(app, blocking=False).get_job("fund-runs")

    with caplog.at_level(logging.ERROR, logger=jobs.log.name):
        done = fund_runs_job.func()

    every_run = [(kind, period) for period in MISSED for kind in ("contributions", "payouts")]
    assert [(r.kind, r.period) for r in done[good["slug"]]] == every_run
    # The month before the closed one posted; the closed month's run was refused.
    assert [(r.kind, r.period) for r in done[broken["slug"]]] == every_run[:2]
    assert (f"fund runs failed for collective {broken['slug']}; the others go on"
            in caplog.text)
    with app.app_context():
        assert _state(good["id"])["runs"] == [  # three members' contributions, no benefits
            (k, p, 3 if k == "contributions" else 0) for k, p in every_run]
        assert [(k, p) for k, p, _ in _state(broken["id"])["runs"]] == every_run[:2]
        failure = db.session.scalar(sa.select(FundRunFailure).filter_by(
            collective_id=broken["id"]))
        assert (failure.kind, failure.period, failure.attempts) == (
            "contributions", MISSED[1], 1)
        assert failure.reason.startswith(f"{MISSED[1]:%B %Y} is closed: no entry may be dated")
        assert run_failures.open_failure(good["id"]) is None
        told = db.session.scalars(sa.select(Notification.title).where(
            Notification.user_id == db.session.get(Membership, broken["members"][0]).user_id,
            Notification.kind == "fund_run")).all()
        assert "The fund's scheduled runs failed today" in told

    page = _treasurer_page(app, broken)
    assert (f"The scheduler could not post the contributions run for "
            f"{month_name(MISSED[1])}.") in page
    assert f"Why: {MISSED[1]:%B %Y} is closed: no entry may be dated" in page
    assert "could not post" not in _treasurer_page(app, good)

    fund_runs_job.func()  # refused again the next night

    with app.app_context():
        assert run_failures.open_failure(broken["id"]).attempts == 2
    assert "it has failed 2 times in a row" in _treasurer_page(app, broken)

    with app.app_context():  # the treasurer reopens the month; the next round posts it
        founder = db.session.get(Membership, broken["members"][0])
        periods.reopen_month(founder, broken["id"], MISSED[1], reason="the fund's runs")
        db.session.commit()
    again = fund_runs_job.func()

    assert [(r.kind, r.period) for r in again[broken["slug"]]] == every_run[2:]
    with app.app_context():
        assert run_failures.open_failure(broken["id"]) is None
    assert "could not post" not in _treasurer_page(app, broken)


# --- Only the run key's clash is "already done" -------------------------------------------


def test_only_the_run_key_s_clash_counts_as_done_and_another_integrity_error_surfaces(app):
    fund = _committed_fund(app, size=2)
    first = fund["members"][0]
    with app.app_context():
        # An entry already holds the key the first run's contribution would post under.
        bank = ledger.account_by_code(fund["id"], ledger.BANK)
        common = ledger.account_by_code(fund["id"], ledger.COMMON_FUND)
        ledger.post_entry(fund["id"], kind="opening", occurred_on=MISSED[0],
                          idempotency_key=f"contribution:{MISSED[0]:%Y-%m}:member:{first}",
                          lines=[ledger.Line(bank.id, 100, "USD"),
                                 ledger.Line(common.id, -100, "USD")])
        db.session.commit()

    with app.app_context():
        with pytest.raises(sa.exc.IntegrityError) as raised:
            jobs.run_due(fund["id"], TODAY)
        assert not violates(raised.value, jobs.RUN_KEY)
        # (the journal's key, or on SQLite the append-only guard's trigger before it)
        assert "journal_entries" in str(raised.value)
        db.session.rollback()
        assert _state(fund["id"])["runs"] == []

    with app.app_context():
        # The run key's own clash: another process recorded the run first.
        plan_id = plans.plans_of(fund["id"])[0].id
        row = {"collective_id": fund["id"], "kind": "payouts", "period": MISSED[0],
               "plan_id": plan_id, "total_amount": 0, "shortfall_amount": 0,
               "entry_count": 0, "triggered_by": "test"}
        db.session.add(BenefitRun(**row))
        db.session.flush()
        with pytest.raises(sa.exc.IntegrityError) as clash, db.session.begin_nested():
            db.session.add(BenefitRun(**row))
            db.session.flush()
        assert violates(clash.value, jobs.RUN_KEY)
        assert not violates(clash.value, jobs.FORECAST_KEY)
        db.session.rollback()

    # Through the scheduler the surfaced error is this collective's failure, kept for its
    # treasurers without the database's words.
    jobs.make_scheduler(app, blocking=False).get_job("fund-runs").func()
    with app.app_context():
        failure = run_failures.open_failure(fund["id"])
        assert (failure.kind, failure.period) == ("contributions", MISSED[0])
        assert failure.reason == ("an unexpected error (IntegrityError); the details are in "
                                  "the scheduler's log")
        assert _state(fund["id"])["runs"] == []

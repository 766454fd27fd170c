"""The scheduler's proposal closer decides each collective's proposals in a transaction of
its own: a proposal whose adoption fails stays open, and the other collectives' go on.

These tests commit for real, like test_runs_reliability.py.
"""
from __future__ import annotations

import logging

from collective.benefits import jobs, plans
from collective.benefits.compute import PlanTerms, add_months
from collective.demo.fund import BREAD_FUND
from collective.extensions import db
from collective.members.models import Membership, Proposal, ProposalStatus
from tests.benefits.factories import passed_plan_vote
from tests.benefits.test_runs_reliability import THIS_MONTH, _committed_fund


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

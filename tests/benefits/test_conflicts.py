"""Conflicts of interest: a claimant does not vote on their own hardship claim and does not
count towards its quorum; every other vote is untouched."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from collective.benefits import claims, plans, runs
from collective.benefits.compute import PlanTerms, add_months, month_start
from collective.clock import now_utc, today_in
from collective.demo.fund import BREAD_FUND
from collective.errors import DomainError
from collective.extensions import db
from collective.members import proposals
from collective.members.models import Proposal, Role, Vote, VoteChoice
from tests.benefits.factories import NOW, TODAY, deposit, found_fund
from tests.factories import commit, make_member

JUL, OCT = date(2026, 7, 1), date(2026, 10, 1)
RUN_DAY = date(2027, 1, 1)
LATER = NOW + timedelta(hours=1)


@pytest.fixture
def four(ctx):
    """The founder (treasurer), Ann, Bob and Tess; all contributed in July; Ann asks the
    members' vote for 250.00 of hardship help."""
    treasurer, ann, bob = found_fund(3)
    tess = make_member(treasurer.collective, roles=(Role.MEMBER, Role.TREASURER))
    tess.joined_at = ann.joined_at
    for person in (treasurer, ann, bob, tess):
        deposit(treasurer, person, 50_000)
    runs.run_contributions(treasurer.collective_id, JUL, today=RUN_DAY)
    claim = claims.file_claim(ann, kind="hardship", start_period=OCT, amount=25_000,
                              today=TODAY, now=NOW)
    return treasurer, ann, bob, tess, db.session.get(Proposal, claim.proposal_id)


def test_a_claimant_cannot_vote_on_their_own_hardship_claim(four):
    _, ann, bob, _, proposal = four

    with pytest.raises(DomainError, match="you cannot vote on this proposal") as refused:
        proposals.cast_vote(ann, proposal, VoteChoice.AGREE, now=LATER)

    assert refused.value.field == "choice"
    assert proposal.votes == []
    assert not proposals.may_vote(ann, proposal) and proposals.may_vote(bob, proposal)
    assert proposals.excluded_voters(proposal) == {ann.id}


def test_the_claimant_does_not_count_towards_the_quorum(four):
    """Quorum is more than 50% of those who may vote. Four members, Ann excluded: three may
    vote, and two votes are 2/3 > 50%, so the vote carries. Counting Ann it would be 2/4,
    not more than 50%: no quorum."""
    treasurer, ann, bob, _, proposal = four
    for voter in (treasurer, bob):
        proposals.cast_vote(voter, proposal, VoteChoice.AGREE, now=LATER)

    result = proposals.tally(proposal)

    assert (result.agree, result.cast, result.eligible, result.quorum_met) == (2, 2, 3, True)
    assert proposals.close_due_proposals(
        ann.collective_id, now=proposal.deadline_at + timedelta(minutes=1)) == [proposal]
    assert proposal.status == "adopted"
    assert proposal.outcome == "Adopted: 2 agree, 0 disagree, 0 abstain, 0 block; 2 of 3 " \
                               "members voted."


def test_a_claimant_s_vote_cast_before_the_rule_is_not_counted(four):
    treasurer, ann, bob, _, proposal = four
    db.session.add(Vote(proposal_id=proposal.id, membership_id=ann.id,
                        choice=VoteChoice.BLOCK.value, reason="", cast_at=LATER))
    db.session.flush()
    db.session.expire(proposal, ["votes"])
    for voter in (treasurer, bob):
        proposals.cast_vote(voter, proposal, VoteChoice.AGREE, now=LATER)

    result = proposals.tally(proposal)

    assert (result.block, result.agree, result.eligible, result.status.value) == (
        0, 2, 3, "adopted")


def test_the_claimant_is_not_asked_to_vote_but_still_votes_on_other_proposals(four):
    treasurer, ann, bob, _, proposal = four
    plan = plans.propose_plan(treasurer, PlanTerms.from_json(BREAD_FUND),
                              effective_on=date(2027, 1, 1), today=TODAY, now=NOW)

    assert proposals.awaiting_vote(ann, LATER) == [plan]
    assert proposals.awaiting_vote(bob, LATER) == [proposal, plan]
    assert proposals.cast_vote(ann, plan, VoteChoice.AGREE, now=LATER).choice == "agree"
    assert proposals.excluded_voters(plan) == frozenset()


def test_the_proposal_page_tells_the_claimant_why_there_is_no_vote_form(client, auth, setup):
    today, now = today_in("UTC"), now_utc()
    with setup():
        this_month = month_start(today)
        founder, ann = found_fund(2, start=add_months(this_month, -2))
        for person in (founder, ann):
            deposit(founder, person, 50_000, on=add_months(this_month, -2), today=today)
        runs.run_contributions(founder.collective_id, add_months(this_month, -2), today=today)
        claim = claims.file_claim(ann, kind="hardship", start_period=this_month,
                                  amount=10_000, today=today, now=now)
        slug, email, proposal_id = ann.collective.slug, ann.user.email, claim.proposal_id
        commit()
    auth.login(email)
    url = f"/c/{slug}/proposals/{proposal_id}"

    page = client.get(url).get_data(as_text=True)
    posted = client.post(url, data={"choice": "agree"})

    assert "it decides something of your own" in page
    assert 'name="choice"' not in page
    assert posted.status_code == 422  # the page again, with the refusal flashed on it
    assert "you cannot vote on this proposal" in posted.get_data(as_text=True)
    with setup():
        assert db.session.get(Proposal, proposal_id).votes == []

"""A page never decides a proposal: past its deadline it says the result is being counted,
and the scheduler's job decides it."""
from __future__ import annotations

import html
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from collective.benefits import jobs
from collective.clock import now_utc
from collective.extensions import db
from collective.members import accounts, proposals
from collective.members.models import Membership, Proposal
from tests.factories import commit, make_collective, make_member

BEING_COUNTED = "the result is being counted and shows here within minutes"


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def past_deadline(setup):
    """A share-rule proposal whose deadline passed an hour ago, still open; the member who
    looks at it lives in Asia/Manila."""
    with setup():
        founder = make_collective()
        member = make_member(founder.collective)
        accounts.update_profile(member.user, name=member.user.name, timezone="Asia/Manila",
                                country=None, skills={})
        opened = now_utc() - timedelta(days=2)
        proposal = proposals.open_proposal(
            founder, kind="share_rule", title="More for the fund",
            payload={"common_fund_bp": 2000, "finder_fee_bp": 0, "method": "equal",
                     "effective_on": (opened.date() + timedelta(days=40)).isoformat()},
            deadline_at=now_utc() - timedelta(hours=1), now=opened)
        commit()
        return {"slug": founder.collective.slug, "proposal_id": proposal.id,
                "email": member.user.email, "member_id": member.id}


def _status(setup, proposal_id: int) -> str:
    with setup():
        return db.session.get(Proposal, proposal_id).status


def test_a_proposal_past_its_deadline_is_not_decided_by_a_page_view(client, auth, setup,
                                                                     past_deadline):
    auth.login(past_deadline["email"])
    url = f"/c/{past_deadline['slug']}/proposals/{past_deadline['proposal_id']}"

    page = client.get(url)
    listing = client.get(f"/c/{past_deadline['slug']}/proposals")

    assert page.status_code == 200
    assert listing.status_code == 200
    assert _status(setup, past_deadline["proposal_id"]) == "open"
    for response in (page, listing):
        text = _text(response)
        assert "Voting closed on " in text
        assert BEING_COUNTED in text
        assert "being decided" in text
        assert "Asia/Manila" in text  # the deadline in the viewer's zone, named
    assert "Your vote" not in _text(page)
    assert 'name="choice"' not in _text(page)


def test_the_share_rules_page_says_a_past_deadline_proposal_is_being_decided(
        client, auth, setup, past_deadline):
    auth.login(past_deadline["email"])

    response = client.get(f"/c/{past_deadline['slug']}/pool/rules")

    assert response.status_code == 200
    text = _text(response)
    assert "More for the fund" in text
    assert "being decided" in text
    assert BEING_COUNTED in text
    assert "votes until" not in text
    assert _status(setup, past_deadline["proposal_id"]) == "open"


def test_a_vote_after_the_deadline_is_refused_and_decides_nothing(client, auth, setup,
                                                                 past_deadline):
    auth.login(past_deadline["email"])
    url = f"/c/{past_deadline['slug']}/proposals/{past_deadline['proposal_id']}"

    response = client.post(url, data={"choice": "agree"})

    assert response.status_code == 422
    assert "voting on this proposal has closed" in _text(response)
    assert _status(setup, past_deadline["proposal_id"]) == "open"


def test_the_scheduler_job_decides_the_proposal_and_the_page_shows_the_result(
        app, client, auth, setup, past_deadline):
    with setup():
        decided = jobs.close_proposals()

    assert decided == 1
    assert _status(setup, past_deadline["proposal_id"]) == "rejected"
    auth.login(past_deadline["email"])
    text = _text(client.get(
        f"/c/{past_deadline['slug']}/proposals/{past_deadline['proposal_id']}"))
    assert BEING_COUNTED not in text
    assert "No quorum" in text


def test_an_open_proposal_shows_its_deadline_and_votes_in_the_viewers_zone(
        client, auth, setup, past_deadline):
    with setup():
        voter = db.session.get(Membership, past_deadline["member_id"])
        proposal = proposals.open_proposal(
            voter, kind="share_rule", title="Later",
            payload={"common_fund_bp": 1000, "finder_fee_bp": 0, "method": "equal",
                     "effective_on": "2030-01-01"},
            deadline_at=now_utc() + timedelta(days=3), now=now_utc())
        proposals.cast_vote(voter, proposal, "agree", now=now_utc())
        proposal_id = proposal.id
        deadline = proposal.deadline_at
        commit()
    auth.login(past_deadline["email"])

    text = _text(client.get(f"/c/{past_deadline['slug']}/proposals/{proposal_id}"))

    local = deadline.astimezone(ZoneInfo("Asia/Manila"))
    assert f"votes can be cast and changed until {local:%Y-%m-%d %H:%M} Asia/Manila" in text
    assert text.count("Asia/Manila") >= 3  # proposed on, deadline, and the vote's time
    assert 'name="choice"' in text

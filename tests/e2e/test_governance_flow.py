"""A share rule proposed by a member and voted in, in a real browser; the vote is decided by
the scheduler's own job once its deadline has passed (the pages have no way to close a vote
early, on purpose)."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from collective.benefits.jobs import close_proposals
from collective.extensions import db
from collective.members.models import Proposal

from . import seeds
from .seeds import C, M, T

pytestmark = pytest.mark.e2e


def test_member_proposes_a_share_rule_and_the_others_vote_it_in(browse, seed, viewport):
    with seed():
        crew = seeds.crew(f"vote-{viewport}", {"cora": ({M, C, T}, {}), "mia": ({M}, {}),
                                               "raj": ({M}, {})})
        seeds.founding_rule(crew, "cora", common_fund_bp=1000, method="hours")
    proposer = browse.as_user(crew.emails["mia"])
    proposer.goto(f"/c/{crew.slug}/pool/rules")
    proposer.get_by_role("link", name="Propose a change").click()
    form = proposer.locator("main form")
    form.get_by_label("Common fund (%)").fill("7.5")
    form.get_by_label("Finder's fee (%)").fill("5")
    form.get_by_label("Equally").check()
    form.get_by_label("Title (optional)").fill("Less to the fund, more to finders")
    form.get_by_label("Why").fill("The fund is well above its reserve.")
    form.get_by_label("Days open for votes").fill("2")
    form.get_by_role("button", name="Put it to a vote").click()
    expect(proposer.get_by_role("heading", level=1)).to_contain_text(
        "Less to the fund, more to finders")
    proposal_url = proposer.url

    for name in ("mia", "raj", "cora"):
        voter = proposer if name == "mia" else browse.as_user(crew.emails[name])
        voter.goto(proposal_url)
        voter.locator("main form").get_by_label("Your vote").select_option("agree")
        voter.get_by_role("button", name="Vote").click()
        expect(voter.locator("main")).to_contain_text("Change your vote (now: agree)")
    expect(voter.locator("main")).to_contain_text("3 agree")
    browse.shot(voter, "flow4-proposal-votes")

    # The deadline passes; the scheduler's job decides the vote.
    with seed():
        proposal = db.session.scalar(sa.select(Proposal).where(
            Proposal.title == "Less to the fund, more to finders",
            Proposal.collective_id == crew.member("mia").collective_id))
        assert close_proposals(proposal.deadline_at + timedelta(minutes=1)) >= 1

    proposer.goto(f"/c/{crew.slug}/pool/rules")
    history = proposer.locator("table tbody tr")
    expect(history).to_have_count(2)
    adopted = history.filter(has_text="7.5%")
    expect(adopted).to_contain_text("equal")
    expect(adopted.get_by_role("link", name="vote")).to_be_visible()
    browse.shot(proposer, "flow4-rules-adopted")

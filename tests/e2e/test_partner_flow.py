"""Two partner collectives in a real browser: the host shares a pitch, the partner accepts
it, allocates one of its members, who logs time; after a client payment the host's
treasurer settles what it owes, and the partner sees the balance cleared."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from collective.extensions import db
from collective.federation import partners
from collective.federation.models import SharedPitch
from collective.members.models import Proposal
from collective.members.proposals import cast_vote, decide_proposal
from collective.pool import payments
from collective.pool.allocation import allocate_member
from collective.pool.models import Pitch, PitchState

from . import seeds
from .seeds import C, M, T

pytestmark = pytest.mark.e2e


def _federate(host: seeds.Crew, guest: seeds.Crew) -> int:
    """Every member of each collective votes for the partnership."""
    now = seeds.at(seeds.today()) - timedelta(days=20)
    asker, asked = host.member("hana"), guest.member("gus")
    federation = partners.propose_federation(asker, guest.slug, now=now)
    first = db.session.get(Proposal, federation.proposal_id(asker.collective_id))
    for crew, proposal in ((host, first), (guest, None)):
        proposal = proposal or partners.put_request_to_vote(asked, federation, now=now)
        for name in crew.ids:
            cast_vote(crew.member(name), proposal, "agree", now=now)
        decide_proposal(proposal, proposal.deadline_at + timedelta(minutes=1))
    assert federation.is_active
    return federation.id


def test_a_pitch_is_shared_worked_paid_and_settled_between_partners(browse, seed, viewport):
    with seed():
        host = seeds.crew(f"host-{viewport}", {"hana": ({M, C, T}, {})})
        guest = seeds.crew(f"guest-{viewport}", {"gus": ({M, C, T}, {}), "pia": ({M}, {})})
        pia_name = guest.member("pia").user.name
        partner_name = guest.member("gus").collective.name
        seeds.founding_rule(host, "hana")
        seeds.founding_rule(guest, "gus")
        federation_id = _federate(host, guest)
        books = seeds.work(host, "books", "hana", "Year-end books", state=PitchState.WON)
        allocate_member(host.member("hana"), books, membership_id=host.ids["hana"])

    hana = browse.as_user(host.emails["hana"])
    hana.goto(f"/c/{host.slug}/partners/")
    hana.get_by_role("link", name=partner_name).click()
    form = hana.locator("main form")
    form.get_by_label("Pitch").select_option(label="Year-end books")
    form.get_by_label("Partner's part, in basis points").fill("2500")
    form.get_by_label("The partner is").select_option("supplier")
    form.get_by_role("button", name="Offer it to").click()
    expect(hana.locator("main")).to_contain_text("25.00% to")
    shared_url = hana.url.replace(f"/c/{host.slug}/", f"/c/{guest.slug}/")

    gus = browse.as_user(guest.emails["gus"])
    gus.goto(shared_url)
    gus.get_by_role("button", name="Accept").click()
    expect(gus.locator("main")).to_contain_text("Accepted")
    allocate = gus.locator("main form").filter(has_text="Allocate someone")
    allocate.get_by_label("Partner member").select_option(label=pia_name)
    allocate.get_by_label("Hours a week").fill("6")
    allocate.get_by_role("button", name="Allocate").click()
    expect(gus.locator("main table").first).to_contain_text(pia_name)

    worker = browse.as_user(guest.emails["pia"])
    worker.goto(shared_url)
    logging = worker.locator("main form").filter(has_text="Log your time")
    logging.get_by_label("Hours").fill("2.5")
    logging.get_by_role("button", name="Log time").click()
    expect(worker.locator("main")).to_contain_text("Your time is logged")
    browse.shot(worker, "partner-shared-pitch")

    with seed():
        shared = db.session.scalar(sa.select(SharedPitch).where(
            SharedPitch.host_collective_id == host.member("hana").collective_id))
        payments.record_payment(host.member("hana"), db.session.get(Pitch, shared.pitch_id),
                                amount=1_000_00, currency="USD", received_on=seeds.today(),
                                today=seeds.today())

    hana.goto(f"/c/{host.slug}/partners/money")
    expect(hana.locator("main table")).to_contain_text("$250.00")
    hana.get_by_role("link", name="Settle").click()
    expect(hana.get_by_label("Amount paid")).to_have_value("250.00")
    hana.get_by_label("Bank reference").fill("TX-77")
    hana.get_by_role("button", name="Post the settlement in both ledgers").click()
    expect(hana.locator("main")).to_contain_text("posted in both collectives' books")
    browse.shot(hana, "partner-settled")
    gus.goto(f"/c/{guest.slug}/partners/{federation_id}/settle")
    expect(gus.locator("main .tiles")).to_contain_text("$0.00")
    expect(gus.locator("main table")).to_contain_text("TX-77")

"""Skills proven by work, in a real browser: a member endorses a colleague on delivered,
paid work; the colleague sees the evidence on their profile, publishes a public profile,
and a visitor who is signed in nowhere sees only what was chosen."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from collective.pool.evidence.endorsements import endorse
from collective.pool.models import PitchState
from collective.pool.payments import record_payment
from collective.pool.pitches import transition_pitch

from . import seeds
from .checks import assert_accessible
from .seeds import C, M, T

pytestmark = pytest.mark.e2e


def test_endorse_a_colleague_then_publish_a_profile_a_visitor_can_read(browse, seed,
                                                                       viewport):
    with seed():
        crew = seeds.crew(f"skills-{viewport}", {
            "cora": ({M, C, T}, {}),
            "ana": ({M}, {"bookkeeping": 4, "payroll": 3}),
            "ben": ({M}, {"bookkeeping": 2}),
        })
        seeds.founding_rule(crew, "cora")
        pitch = seeds.work(crew, "books", "cora", "Year-end books", skills={"bookkeeping": 3},
                           state=PitchState.IN_PROGRESS, team={"ana": 1, "ben": 1})
        seeds.hours(crew, "books", "ana", 12)
        seeds.hours(crew, "books", "ben", 4)
        cora = crew.member("cora")
        transition_pitch(cora, pitch, PitchState.DELIVERED, at=seeds.at(seeds.today()))
        record_payment(cora, pitch, amount=80_000, currency="USD", received_on=seeds.today(),
                       today=seeds.today())
        endorse(crew.member("ben"), pitch, receiver_id=crew.ids["ana"], skill="bookkeeping",
                note="Found every missing receipt", at=seeds.at(seeds.today()))

    # Ana endorses Ben from the pitch's page.
    page = browse.as_user(crew.emails["ana"])
    page.goto(f"/c/{crew.slug}/pool/pitches/{crew.pitches['books']}")
    page.get_by_role("link", name="Endorse the colleagues you worked with on this").click()
    page.get_by_label("Colleague").select_option(value=str(crew.ids["ben"]))
    page.get_by_label("For the skill").select_option("bookkeeping")
    page.get_by_label("What they did well").fill("Quick and careful with the ledgers")
    page.get_by_role("button", name="Endorse").click()
    expect(page.get_by_text("Quick and careful with the ledgers")).to_be_visible()
    assert_accessible(page)
    browse.shot(page, "skills-endorse")

    # Her own skills: the hours, the work and what Ben said.
    page.goto(f"/c/{crew.slug}/skills")
    expect(page.get_by_text("12 h of delivered work")).to_be_visible()
    expect(page.get_by_text("Found every missing receipt")).to_be_visible()
    assert_accessible(page)
    browse.shot(page, "skills-profile")

    # She publishes bookkeeping only.
    page.get_by_role("link", name="Publish a public profile").click()
    page.get_by_label("bookkeeping").check()
    page.get_by_label("Publish my profile at a public address").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your profile is published.")).to_be_visible()
    address = page.locator("p.card.highlight a").get_attribute("href")

    visitor = browse.page()
    visitor.goto(address)
    expect(visitor.get_by_role("heading", level=1)).to_contain_text("Ana")
    main = visitor.locator("main")
    expect(main).to_contain_text("12 h of delivered work")
    expect(main).to_contain_text("Found every missing receipt")
    for hidden in ("payroll", "Ben", "$", "USD", crew.slug):
        expect(main).not_to_contain_text(hidden)
    assert_accessible(visitor)
    browse.shot(visitor, "skills-public")

    # Unpublished, the address is gone.
    page.get_by_label("Publish my profile at a public address").uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Your profile is not public.")).to_be_visible()
    browse.expect_refusal(404, "/p/")
    response = visitor.goto(address)
    assert response.status == 404

"""Work in the pool, in a real browser: a coordinator takes a pitch from client to allocation;
a member logs, edits and volunteers; a payment is recorded once and its split is shown."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from collective.pool.models import PitchState

from . import seeds
from .checks import assert_accessible, assert_money_visible
from .seeds import C, M, T

pytestmark = pytest.mark.e2e


def test_coordinator_records_client_and_pitch_wins_it_and_allocates_from_suggestions(
        browse, seed, viewport):
    with seed():
        crew = seeds.crew(f"alloc-{viewport}", {
            "cora": ({M, C, T}, {}),
            "mia": ({M}, {"research": 5}),
            "raj": ({M}, {"cooking": 2}),
        })
    page = browse.as_user(crew.emails["cora"])

    page.goto(f"/c/{crew.slug}/pool/clients")
    page.get_by_label("Name").fill("Lighthouse Books")
    page.get_by_label("Country (two letters)").fill("GB")
    page.get_by_label("Contact").fill("Ada, editor")
    page.get_by_role("button", name="Add client").click()
    expect(page.get_by_role("cell", name="Lighthouse Books")).to_be_visible()

    page.goto(f"/c/{crew.slug}/pool/")
    assert_accessible(page)
    browse.shot(page, "flow1-pool-board")
    page.get_by_role("link", name="Record new work").click()
    page.get_by_label("Title").fill("Archive research")
    page.get_by_label("Client").select_option(label="Lighthouse Books")
    page.get_by_label("Skills needed, with the level (1-5)").fill("research 4")
    page.get_by_label("Estimated hours").fill("12")
    page.get_by_label("Value").fill("1,500.00")
    page.get_by_label("Currency", exact=True).fill("USD")
    page.get_by_role("button", name="Record").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Archive research")

    # One button per legal next step, nothing preselected.
    page.get_by_role("button", name="Mark as pitched").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("pitched")
    page.get_by_role("button", name="Mark as won").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("won")
    browse.shot(page, "flow1-pitch-won")

    page.get_by_role("link", name="Allocate").click()
    suggestions = page.locator("table").filter(has=page.get_by_role("columnheader",
                                                                     name="Score"))
    first = suggestions.locator("tbody tr").first
    expect(first).to_contain_text("Mia")  # the research skill puts her first
    browse.shot(page, "flow1-allocate")
    first.get_by_role("link", name="Choose").click()
    expect(page.get_by_label("Member")).to_have_value(str(crew.ids["mia"]))
    page.get_by_label("Weight").fill("2")
    page.get_by_role("button", name="Save allocation").click()

    allocated = page.locator("table").filter(has=page.get_by_role("columnheader",
                                                                   name="Hours/week"))
    expect(allocated.locator("tbody tr")).to_have_count(1)
    expect(allocated.locator("tbody tr")).to_contain_text("Mia")
    # Someone allocated is no longer suggested.
    expect(suggestions.locator("tbody")).not_to_contain_text("Mia")
    assert_money_visible(page)

    page.goto(f"/c/{crew.slug}/pool/")
    won = page.locator("section").filter(has=page.get_by_role("heading", name="Won"))
    expect(won.get_by_role("link", name="Archive research")).to_be_visible()


def test_member_logs_hours_edits_them_and_volunteers_then_withdraws(browse, seed, viewport):
    with seed():
        crew = seeds.crew(f"hours-{viewport}", {"cora": ({M, C, T}, {}),
                                                "mia": ({M}, {"research": 4})})
        seeds.work(crew, "site", "cora", "Website copy", state=PitchState.IN_PROGRESS,
                   team={"mia": 1})
        seeds.work(crew, "guide", "cora", "Travel guide", state=PitchState.PITCHED)
    page = browse.as_user(crew.emails["mia"])

    page.goto(f"/c/{crew.slug}/pool/my-work")
    page.locator("main").get_by_label("Work").select_option(
        label="Website copy (Client of Website copy)")
    page.get_by_label("Day").fill(seeds.today().isoformat())
    page.get_by_label("Hours").fill("2:30")
    page.get_by_label("Note").fill("first draft")
    page.get_by_role("button", name="Log").click()

    entries = page.locator("table.entries tbody tr")
    expect(entries).to_have_count(1)
    expect(entries.first.locator("td.num")).to_have_text("2.5")
    mine = page.locator("table").first.locator("tbody tr").filter(has_text="Website copy")
    expect(mine.locator("td.num").last).to_have_text("2.5 h")
    browse.shot(page, "flow2-my-work")
    assert_money_visible(page)

    entries.first.get_by_role("link", name="Edit").click()
    page.get_by_label("Hours").fill("3.25")
    page.get_by_label("Note").fill("first draft and notes")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("table.entries tbody tr").first.locator("td.num")).to_have_text("3.25")
    expect(page.locator("table.entries")).to_contain_text("first draft and notes")
    expect(mine.locator("td.num").last).to_have_text("3.25 h")

    page.get_by_role("link", name="Travel guide").click()
    page.get_by_label("What you would bring").fill("I lived there for a year")
    page.get_by_role("button", name="Volunteer for this").click()
    expect(page.get_by_text("You volunteered for this.")).to_be_visible()
    expect(page.locator(".badge").filter(has_text="Mia")).to_be_visible()
    browse.shot(page, "flow2-volunteered")

    page.get_by_label("Reason").fill("Too busy this month after all")
    page.get_by_role("button", name="Withdraw my offer").click()
    expect(page.get_by_role("button", name="Volunteer for this")).to_be_visible()
    expect(page.locator(".badge").filter(has_text="Mia")).to_have_count(0)


def test_payment_recorded_once_and_member_sees_their_line_on_the_split(browse, seed, viewport):
    with seed():
        crew = seeds.crew(f"pay-{viewport}", {"cora": ({M, C, T}, {}), "mia": ({M}, {}),
                                              "raj": ({M}, {})})
        seeds.founding_rule(crew, "cora", common_fund_bp=1000, method="hours")
        seeds.work(crew, "site", "cora", "Shop translation", state=PitchState.IN_PROGRESS,
                   team={"mia": 1, "raj": 1})
        seeds.hours(crew, "site", "mia", 3)
        seeds.hours(crew, "site", "raj", 1)
    coordinator = browse.as_user(crew.emails["cora"])
    pitch_url = f"/c/{crew.slug}/pool/pitches/{crew.pitches['site']}"

    def record(page):
        page.goto(pitch_url)
        page.get_by_role("link", name="Record a payment").click()
        page.get_by_label("Amount received").fill("1,000.00")
        page.get_by_label("Currency", exact=True).fill("USD")
        page.get_by_label("Received on").fill(seeds.today().isoformat())
        page.get_by_label("Reference").fill("INV-77")
        page.get_by_role("button", name="Record and split").click()

    record(coordinator)
    expect(coordinator.locator(".flash")).to_contain_text("recorded")
    browse.shot(coordinator, "flow3-payment-recorded")

    # The same payment again is caught: the earlier record is shown, nothing is posted.
    browse.expect_refusal(409, f"{pitch_url}/payments/new")
    record(coordinator)
    expect(coordinator.get_by_label("Record it again: the client really paid twice")
           ).to_be_visible()
    expect(coordinator.locator("main")).to_contain_text("INV-77")
    browse.shot(coordinator, "flow3-payment-duplicate")
    coordinator.goto(f"/c/{crew.slug}/pool/payments")
    expect(coordinator.locator("tbody tr").filter(has_text="INV-77")).to_have_count(1)
    assert_money_visible(coordinator)

    member = browse.as_user(crew.emails["mia"])
    member.goto(f"/c/{crew.slug}/pool/shares")
    expect(member.locator("main")).to_contain_text("675.00")
    assert_money_visible(member)
    browse.shot(member, "flow3-member-my-shares")
    member.locator("tbody tr").filter(has_text="Shop translation").get_by_role("link").first.click()
    # 1,000.00 less 10% to the common fund, split 3:1 by hours: Mia gets 675.00.
    line = member.locator("tbody tr").filter(has_text="Mia")
    expect(line).to_contain_text("675.00")
    expect(member.locator("main")).to_contain_text("100.00")
    browse.shot(member, "flow3-payment-split")
    assert_money_visible(member)

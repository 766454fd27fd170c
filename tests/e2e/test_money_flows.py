"""Money out, in a real browser: a claim filed, approved and paid by the payout run; and a
treasurer paying everyone their balance through the confirmation page."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from collective.benefits import plans, runs
from collective.benefits.compute import PlanTerms, add_months
from collective.benefits.models import RunKind
from collective.extensions import db
from collective.pool.models import PitchState
from collective.pool.payments import record_payment
from collective.pool.payouts import record_deposit

from . import seeds
from .checks import assert_accessible, assert_money_visible
from .seeds import C, M, T

pytestmark = pytest.mark.e2e

#: USD 100 a month from each member; sick leave pays USD 150 a month after a waiting month.
SMALL_FUND = {
    "contribution": {"kind": "flat", "amount": 100_00},
    "benefits": {"sick": {"amount": 150_00, "waiting_months": 1, "max_months": 6}},
    "eligibility_months": 1,
}


def test_claim_filed_approved_paid_by_the_payout_run_and_seen_by_the_member(
        browse, seed, viewport):
    this_month = seeds.today().replace(day=1)
    first = add_months(this_month, -3)
    with seed():
        crew = seeds.crew(f"claim-{viewport}", {"cora": ({M, C, T}, {}), "mia": ({M}, {}),
                                                "raj": ({M}, {}), "tess": ({M}, {})})
        # A fund of four, in force for three months; its first month is run, and everyone
        # paid in enough for the contributions.
        plans.set_founding_plan(crew.member("cora"), PlanTerms.from_json(SMALL_FUND), first,
                                today=seeds.today())
        for name in crew.ids:
            crew.member(name).joined_at = seeds.at(first - timedelta(days=20))
            record_deposit(crew.member("cora"), crew.member(name), amount=400_00,
                           received_on=first, request_key=f"{crew.slug}-deposit-{name}",
                           reference="bank transfer", today=seeds.today())
        db.session.flush()
        for kind in RunKind:
            runs.run(crew.member("cora").collective_id, kind, first, today=seeds.today())

    # Sick from two months ago: the first month waits, the second (last month) is paid.
    member = browse.as_user(crew.emails["mia"])
    member.goto(f"/c/{crew.slug}/fund/claims/new")
    form = member.locator("main form")
    form.get_by_label("What for").select_option("sick")
    form.get_by_label("From (month)").fill(add_months(this_month, -2).strftime("%Y-%m"))
    form.get_by_label("Months (sick or parental leave)").fill("2")
    form.get_by_label("Note for the treasurers").fill("Flu, then a chest infection.")
    form.get_by_role("button", name="File claim").click()
    expect(member.locator(".flash")).to_contain_text("Your claim is filed")
    claim_url = member.url
    browse.shot(member, "flow5-claim-filed")

    treasurer = browse.as_user(crew.emails["cora"])
    treasurer.goto(claim_url)
    treasurer.get_by_label("Approve").check()
    treasurer.get_by_label("Reason (the claimant reads it)").fill("Get well soon.")
    treasurer.get_by_role("button", name="Save decision").click()
    expect(treasurer.locator("main")).to_contain_text("Get well soon.")

    treasurer.goto(f"/c/{crew.slug}/fund/treasurer")
    assert_accessible(treasurer)
    browse.shot(treasurer, "flow5-treasurer-fund")
    # The runs due are two months of contributions and payouts, each reviewed and posted,
    # in order; the last one pays the claim.
    for i in range(4):
        treasurer.get_by_role("link", name="Review and run…").first.click()
        expect(treasurer.get_by_role("heading", level=1)).to_contain_text("Review the")
        if i == 3:
            expect(treasurer.get_by_role("heading", level=1)).to_contain_text("payouts run")
            expect(treasurer.locator("main table tbody tr").filter(has_text="Mia")
                   ).to_contain_text("150.00")
            assert_money_visible(treasurer)
            browse.shot(treasurer, "flow5-review-payout-run")
        treasurer.get_by_role("button", name=re.compile(r"^Post the .* run$")).click()
        expect(treasurer.locator(".flash")).to_contain_text("is done")
    expect(treasurer.get_by_text("Every run is up to date.")).to_be_visible()
    assert_money_visible(treasurer)

    member.goto(f"/c/{crew.slug}/fund/")
    received = member.locator(".tile").filter(has=member.get_by_role("heading",
                                                                     name="Received"))
    expect(received.locator(".figure")).to_contain_text("150.00")
    expect(member.locator("main table")).to_contain_text("approved")
    browse.shot(member, "flow5-member-fund")
    member.goto(claim_url)
    expect(member.locator("main")).to_contain_text("Get well soon.")


def test_treasurer_pays_everyone_through_the_confirmation_page(browse, seed, viewport):
    with seed():
        crew = seeds.crew(f"payall-{viewport}", {"cora": ({M, C, T}, {}), "mia": ({M}, {}),
                                                 "raj": ({M}, {})})
        seeds.founding_rule(crew, "cora", common_fund_bp=1000, method="hours")
        seeds.work(crew, "book", "cora", "Cookbook index", state=PitchState.IN_PROGRESS,
                   team={"mia": 1, "raj": 1})
        seeds.hours(crew, "book", "mia", 3)
        seeds.hours(crew, "book", "raj", 1)
        record_payment(crew.member("cora"), crew.pitch("book"), amount=1_000_00,
                       currency="USD", received_on=seeds.today() - timedelta(days=1),
                       reference="CB-1", today=seeds.today())
    treasurer = browse.as_user(crew.emails["cora"])
    treasurer.goto(f"/c/{crew.slug}/pool/payouts")
    treasurer.get_by_role("link", name="Review and pay everyone").click()

    rows = treasurer.locator("table.confirm-payout tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="Mia")).to_contain_text("675.00")
    expect(rows.filter(has_text="Raj")).to_contain_text("225.00")
    expect(treasurer.locator("table.confirm-payout tfoot")).to_contain_text("900.00")
    assert_money_visible(treasurer, at_least=3)
    browse.shot(treasurer, "flow6-pay-everyone-confirm")

    treasurer.get_by_label("Bank reference").fill("BATCH-2026-11")
    treasurer.get_by_role("button", name=re.compile(r"^Pay .*900\.00 to 2 members$")).click()
    expect(treasurer.locator(".flash")).to_contain_text(re.compile(r"Paid .*900\.00"))
    expect(treasurer.get_by_role("link", name="Review and pay everyone")).to_have_count(0)
    browse.shot(treasurer, "flow6-paid")

    member = browse.as_user(crew.emails["mia"])
    member.goto(f"/c/{crew.slug}/pool/shares")
    owed = member.locator(".tile").filter(has=member.get_by_role("heading",
                                                                 name="Owed to you now"))
    expect(owed.locator(".figure")).to_contain_text("0.00")
    payouts = member.locator("table").filter(has=member.get_by_role("columnheader",
                                                                    name="Memo"))
    expect(payouts.locator("tbody tr")).to_have_count(1)
    expect(payouts.locator("tbody tr")).to_contain_text("675.00")
    expect(payouts.locator("tbody tr")).to_contain_text("BATCH-2026-11")
    assert_money_visible(member)

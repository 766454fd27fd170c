"""What members and treasurers see of the fund's debts and shortfalls, and the plan's rule
for a gift a reserve cannot cover, through the pages."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from collective.benefits import claims, compute, plans, runs
from collective.benefits.compute import PlanTerms, add_months, month_start
from collective.benefits.models import BenefitRun
from collective.clock import now_utc, today_in
from collective.extensions import db
from collective.members.models import Collective, Proposal
from collective.money import format_money
from tests.benefits.factories import deposit, found_fund, plan
from tests.factories import commit, make_collective
from tests.forms import form_values

TODAY = today_in("UTC")
THIS_MONTH = month_start(TODAY)
LAST_MONTH = add_months(THIS_MONTH, -1)


def _usd(amount: int) -> str:
    return format_money(amount, "USD")


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _short_fund(setup) -> dict:
    """Last month Ann's 500.00 sick pay fell due with 45.00 in the fund (her 22.50 and the
    founder's): 45.00 was paid and 455.00 is still owed to her. The founder gave the 45.00:
    his reserve held 22.50 of it, and he owes the fund the other 22.50."""
    with setup():
        founder, ann = found_fund(2, terms=plan(eligibility_months=0),
                                  start=add_months(THIS_MONTH, -3))
        for person in (founder, ann):
            deposit(founder, person, 10_000, on=add_months(THIS_MONTH, -3), today=TODAY)
        claim = claims.file_claim(ann, kind="sick", start_period=add_months(THIS_MONTH, -2),
                                  months=3, today=TODAY, now=now_utc())
        claims.decide_claim(founder, claim, approve=True, reason="Get well.", now=now_utc())
        runs.run_contributions(founder.collective_id, LAST_MONTH, today=TODAY)
        runs.run_payouts(founder.collective_id, LAST_MONTH, today=TODAY)
        result = {"slug": founder.collective.slug, "founder": founder.user.email,
                  "ann": ann.user.email, "ann_name": ann.user.name, "claim": claim.id}
        commit()
        return result


def test_members_and_treasurers_see_what_is_owed_each_way(client, auth, setup, monkeypatch):
    from collective.benefits import views

    fund = _short_fund(setup)
    base = f"/c/{fund['slug']}/fund"

    auth.login(fund["founder"])
    mine = _text(client.get(f"{base}/").get_data(as_text=True))
    assert f"you owe the fund {_usd(2_250)}" in mine
    treasurer = _text(client.get(f"{base}/treasurer").get_data(as_text=True))
    assert ("Benefits the fund still owes" in treasurer
            and f"{fund['ann_name']} {LAST_MONTH:%B %Y} {_usd(50_000 - 4_500)}" in treasurer)
    assert f"{_usd(0)} {_usd(2_250)}" in treasurer  # the founder: no contributions, a gift
    assert "more, newer" not in treasurer
    # The page lists the oldest few, and counts and sums them all.
    monkeypatch.setattr(views, "OWING_SHOWN", 0)
    treasurer = _text(client.get(f"{base}/treasurer").get_data(as_text=True))
    assert f"And 1 more, newer: {_usd(50_000 - 4_500)} is owed in all." in treasurer
    monkeypatch.undo()

    auth.login(fund["ann"])
    hers = _text(client.get(f"{base}/").get_data(as_text=True))
    assert f"the fund still owes you {_usd(50_000 - 4_500)}" in hers
    claim = _text(client.get(f"{base}/claims/{fund['claim']}").get_data(as_text=True))
    assert (f"{LAST_MONTH:%B %Y} {_usd(4_500)} {_usd(45_500)} {_usd(0)} {_usd(45_500)}"
            in claim)


def test_the_founding_plan_form_sets_who_covers_a_gift_a_reserve_cannot(client, auth, setup):
    with setup():
        founder = make_collective()
        commit()
        slug, email, cid = founder.collective.slug, founder.user.email, founder.collective_id
    auth.login(email)
    form = client.get(f"/c/{slug}/fund/plan").get_data(as_text=True)
    assert "When a donor&#39;s reserve cannot cover their part of a gift" in form
    token = re.search(r'name="found-csrf_token" type="hidden" value="([^"]+)"', form)
    data = {"found-contribution_kind": "levels", "found-levels": "500, 1000",
            "found-level_pct": "4.5", "found-sick_waiting": "1", "found-sick_max": "24",
            "found-parental_months": "3", "found-invoice_pct": "50",
            "found-invoice_cap": "1000", "found-hardship_cap": "300",
            "found-reserve_cap_months": "36", "found-min_fund_balance": "0",
            "found-level_change_months": "12", "found-eligibility_months": "1",
            "found-relapse_weeks": "4", "found-gift_shortfall": compute.OTHERS_COVER,
            "found-effective_on": f"{THIS_MONTH:%Y-%m}"}
    if token:
        data["found-csrf_token"] = token.group(1)
    bad = client.post(f"/c/{slug}/fund/plan", data={**data, "found-gift_shortfall": "nobody"})
    assert bad.status_code == 422
    assert "Not a valid choice" in bad.get_data(as_text=True)

    response = client.post(f"/c/{slug}/fund/plan", data=data)

    assert response.status_code == 302, response.get_data(as_text=True)
    with setup():
        terms = plans.plan_terms(plans.plan_in_force(cid, THIS_MONTH))
        assert terms.gift_shortfall == compute.OTHERS_COVER
        assert db.session.scalar(sa.select(Collective.slug).filter_by(id=cid)) == slug
    page = _text(client.get(f"/c/{slug}/fund/plan").get_data(as_text=True))
    assert "the other donors cover it pro rata from their reserves" in page


def test_a_plan_without_the_rule_reads_as_donor_owes():
    assert compute.PlanTerms.from_json(plan()).gift_shortfall == compute.DONOR_OWES
    assert compute.PlanTerms.from_json(plan(gift_shortfall="others_cover")).to_json()[
        "gift_shortfall"] == compute.OTHERS_COVER
    with pytest.raises(compute.PlanError) as refused:
        compute.PlanTerms.from_json(plan(gift_shortfall="write_off"))
    assert refused.value.field == "gift_shortfall"


def test_a_run_is_reviewed_member_by_member_before_it_posts(client, auth, setup):
    with setup():
        founder, ann = found_fund(2, start=add_months(THIS_MONTH, -2))
        for person in (founder, ann):
            deposit(founder, person, 10_000, on=add_months(THIS_MONTH, -2), today=TODAY)
        commit()
        slug, email, cid = founder.collective.slug, founder.user.email, founder.collective_id
        names = (founder.user.name, ann.user.name)
    auth.login(email)
    month = add_months(THIS_MONTH, -2)
    treasurer = client.get(f"/c/{slug}/fund/treasurer").get_data(as_text=True)
    review_url = (f"/c/{slug}/fund/runs/review?kind=contributions"
                  f"&amp;period={month.isoformat()}")
    assert review_url in treasurer

    page = client.get(review_url.replace("&amp;", "&"))

    html = _text(page.get_data(as_text=True))
    assert page.status_code == 200
    for name in names:
        assert f"{name} {_usd(2_250)} {_usd(0)} {_usd(0)} {_usd(0)}" in html
    assert f"Paid in {_usd(4_500)}" in html
    with setup():  # the review wrote nothing
        assert db.session.scalar(sa.select(sa.func.count(BenefitRun.id)).where(
            BenefitRun.collective_id == cid)) == 0
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                      page.get_data(as_text=True))
    data = {"kind": "contributions", "period": month.isoformat()}
    if token:
        data["csrf_token"] = token.group(1)
    posted = client.post(f"/c/{slug}/fund/runs", data=data)
    assert posted.status_code == 302
    with setup():
        assert db.session.scalar(sa.select(sa.func.count(BenefitRun.id)).where(
            BenefitRun.collective_id == cid)) == 1
    again = _text(client.get(review_url.replace("&amp;", "&")).get_data(as_text=True))
    assert "This run was done already" in again
    unended = client.get(f"/c/{slug}/fund/runs/review?kind=payouts"
                         f"&period={THIS_MONTH.isoformat()}", follow_redirects=True)
    assert "only a month that has ended can be run" in unended.get_data(as_text=True)


def test_proposing_a_change_starts_from_the_plan_in_force(client, auth, setup):
    """The propose form is filled with the plan in force, so sending it unchanged proposes
    exactly the same terms (every part the form shows, the relapse window and the gift rule
    included)."""
    terms = PlanTerms.from_json(plan(gift_shortfall=compute.OTHERS_COVER, relapse_weeks=6,
                                     min_fund_balance=50_000))
    with setup():
        founder = make_collective()
        plans.set_founding_plan(founder, terms, effective_on=THIS_MONTH, today=TODAY)
        commit()
        slug, email = founder.collective.slug, founder.user.email
    auth.login(email)

    page = client.get(f"/c/{slug}/fund/plan/propose").get_data(as_text=True)

    data = form_values(page)
    assert data["levels"] == "500.00, 750.00, 1000.00, 1250.00"
    assert (data["relapse_weeks"], data["gift_shortfall"]) == ("6", compute.OTHERS_COVER)
    assert data["hardship_vote"] == "y"
    data.update(title="Same plan", deadline_days="7")

    response = client.post(f"/c/{slug}/fund/plan/propose", data=data)

    assert response.status_code == 302, _text(response.get_data(as_text=True))[-600:]
    with setup():
        proposal = db.session.scalar(sa.select(Proposal).order_by(Proposal.id.desc()).limit(1))
        assert PlanTerms.from_json(proposal.payload["terms"]) == terms

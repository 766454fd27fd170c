"""The fund's pages through the real app: every page renders, "run now" meets the service's
refusal of a month that has not ended, the treasurer's page shows the stored forecast
(it computes none), and forms post through the one request transaction. Each test rolls
back."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from collective.benefits import claims, forecasts, plans, runs
from collective.benefits.compute import PlanTerms, add_months, month_start
from collective.benefits.models import BenefitKind, BenefitRun, Claim, ClaimStatus, FundForecast
from collective.benefits.simulation import ForecastAssumptions
from collective.clock import local_time, now_utc, today_in
from collective.demo.fund import BREAD_FUND
from collective.extensions import db
from collective.ledger.models import JournalEntry
from collective.members.models import Membership, Role
from tests.benefits.factories import deposit, found_fund
from tests.factories import commit, make_member

TODAY = today_in("UTC")
THIS_MONTH = month_start(TODAY)
LAST_MONTH = add_months(THIS_MONTH, -1)


@dataclass
class Fund:
    slug: str
    collective_id: int
    founder: str
    ann: str
    tess: str
    ann_id: int
    founder_id: int


@pytest.fixture
def fund(setup) -> Fund:
    """A fund whose plan began two months ago; the month before last is run, last month is
    due; the founder and Tess are treasurers, Ann a member."""
    with setup():
        founder, ann = found_fund(2, start=add_months(THIS_MONTH, -2))
        tess = make_member(founder.collective, roles=(Role.MEMBER, Role.TREASURER))
        tess.joined_at = ann.joined_at
        for person in (founder, ann, tess):
            deposit(founder, person, 50_000, on=add_months(THIS_MONTH, -2), today=TODAY)
        runs.run_contributions(founder.collective_id, add_months(THIS_MONTH, -2), today=TODAY)
        result = Fund(founder.collective.slug, founder.collective_id, founder.user.email,
                      ann.user.email, tess.user.email, ann.id, founder.id)
        commit()
        return result


def _page(client, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, url
    return response.get_data(as_text=True)


def _count(setup, model, **where) -> int:
    with setup():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model)
                                 .filter_by(**where))


def test_every_fund_page_renders_for_a_treasurer(client, auth, setup, fund):
    with setup():
        ann = db.session.get(Membership, fund.ann_id)
        claim = claims.file_claim(ann, kind="sick", start_period=THIS_MONTH, months=3,
                                  today=TODAY, now=now_utc())
        commit()
        claim_id = claim.id
    auth.login(fund.founder)
    base = f"/c/{fund.slug}/fund"
    for path, heading in [("/", "My benefits fund"), ("/claims/new", "File a claim"),
                          ("/claims", "Claims"), ("/plan", "The fund's plan"),
                          ("/plan/propose", "Propose a new plan"),
                          ("/treasurer", "The benefits fund"),
                          (f"/claims/{claim_id}", "Sick leave")]:
        assert f"<h1>{heading}" in _page(client, base + path), path


# --- Run now --------------------------------------------------------------------------------


def test_run_now_refuses_a_month_that_has_not_ended_and_posts_nothing(client, auth, setup,
                                                                     fund):
    runs_before = _count(setup, BenefitRun, collective_id=fund.collective_id)
    entries_before = _count(setup, JournalEntry, collective_id=fund.collective_id)
    auth.login(fund.founder)

    response = client.post(f"/c/{fund.slug}/fund/runs", follow_redirects=True,
                           data={"kind": "contributions", "period": THIS_MONTH.isoformat()})

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "only a month that has ended can be run" in html
    assert f"{THIS_MONTH:%B %Y} ends on" in html
    assert _count(setup, BenefitRun, collective_id=fund.collective_id) == runs_before
    assert _count(setup, JournalEntry, collective_id=fund.collective_id) == entries_before


def test_run_now_runs_an_ended_month_once(client, auth, setup, fund):
    auth.login(fund.founder)
    url, data = f"/c/{fund.slug}/fund/runs", {"kind": "contributions",
                                              "period": LAST_MONTH.isoformat()}

    first = client.post(url, data=data, follow_redirects=True).get_data(as_text=True)
    again = client.post(url, data=data, follow_redirects=True).get_data(as_text=True)

    assert f"The contributions run for {LAST_MONTH:%B %Y} is done: 3 entries." in first
    assert f"The contributions run for {LAST_MONTH:%B %Y} was already done" in again
    with setup():
        run = db.session.scalar(sa.select(BenefitRun).filter_by(
            collective_id=fund.collective_id, period=LAST_MONTH))
        assert (run.kind, run.entry_count, run.triggered_by) == ("contributions", 3,
                                                                 fund.founder)


@pytest.mark.parametrize("data, said", [
    ({}, ["The run was not started (run: This field is required.)",
          "The run was not started (month: This field is required.)"]),
    ({"kind": "refunds", "period": "2026-13-01"},
     ["The run was not started (run: no such run)",
      "The run was not started (month: not a date like 2026-10-01)"])])
def test_run_now_says_why_a_request_it_cannot_read_was_not_run(client, auth, setup, fund, data,
                                                               said):
    runs_before = _count(setup, BenefitRun, collective_id=fund.collective_id)
    auth.login(fund.founder)

    response = client.post(f"/c/{fund.slug}/fund/runs", data=data, follow_redirects=True)

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert [message for message in said if message not in html] == []
    assert _count(setup, BenefitRun, collective_id=fund.collective_id) == runs_before


# --- The forecast on the treasurer's page ---------------------------------------------------


def test_the_treasurer_page_says_when_no_forecast_has_been_computed_and_writes_none(
        client, auth, setup, fund):
    auth.login(fund.founder)
    html = _page(client, f"/c/{fund.slug}/fund/treasurer")
    assert "The forecast has not been computed yet" in html
    assert _count(setup, FundForecast, collective_id=fund.collective_id) == 0


def test_the_treasurer_page_shows_the_stored_forecast_and_when_it_was_computed(
        client, auth, setup, fund):
    computed_at = datetime(2026, 11, 2, 3, 4, tzinfo=UTC)
    with setup():
        # A stored result no simulation of this fund would give: the page must show it as is.
        db.session.add(FundForecast(
            collective_id=fund.collective_id, for_period=THIS_MONTH, plan_id=None,
            fund_amount=123_456, computed_at=computed_at,
            assumptions=asdict(ForecastAssumptions(runs=17, horizon_months=48)),
            result={"median": 30, "p10": 7, "never_out_share": 0.25, "members": 41,
                    "monthly_in": 9_900, "median_path": [5] * 48}))
        commit()
    auth.login(fund.founder)

    html = _page(client, f"/c/{fund.slug}/fund/treasurer")

    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    assert "In 17 simulated futures of 4 years, the fund runs out after 30 months" in text
    assert "it runs out after 7 months" in text
    assert "41 members paying $99.00 a month in all; the fund starts at $1,234.56" in text
    assert f"Computed {local_time(computed_at, 'UTC')}, for {THIS_MONTH:%B %Y}" in text
    assert "2026-11-02 03:04 UTC" in text
    assert _count(setup, FundForecast, collective_id=fund.collective_id) == 1


def test_the_treasurer_page_says_when_there_was_no_plan_to_forecast(client, auth, setup):
    with setup():
        founder, _ = found_fund(2, start=add_months(THIS_MONTH, 1))
        forecasts.compute_forecast(founder.collective_id, today=TODAY, now=now_utc())
        slug, email = founder.collective.slug, founder.user.email
        commit()
    auth.login(email)
    html = _page(client, f"/c/{slug}/fund/treasurer")
    assert f"No plan was in force in {THIS_MONTH:%B %Y}, so there was nothing to forecast" in html


# --- Forms through the request transaction -------------------------------------------------


def test_a_claim_is_filed_and_decided_through_the_pages(client, auth, setup, fund):
    auth.login(fund.ann)
    filed = client.post(f"/c/{fund.slug}/fund/claims/new", follow_redirects=True, data={
        "kind": "sick", "start_period": f"{THIS_MONTH:%Y-%m}", "months": "3",
        "note": "Flu, then worse."})
    assert "Your claim is filed." in filed.get_data(as_text=True)
    with setup():
        claim_id = db.session.scalar(sa.select(Claim.id).filter_by(membership_id=fund.ann_id))
    refused = client.post(f"/c/{fund.slug}/fund/claims/new", data={
        "kind": "sick", "start_period": f"{THIS_MONTH:%Y-%m}", "months": "2"})
    assert refused.status_code == 422
    assert "you already have a sick leave claim for those months" in refused.get_data(
        as_text=True)

    auth.logout()
    auth.login(fund.tess)
    decided = client.post(f"/c/{fund.slug}/fund/claims/{claim_id}/decide",
                          data={"decision": "approve", "reason": "Get well soon."},
                          follow_redirects=True)
    assert "The claim is approved." in decided.get_data(as_text=True)
    again = client.post(f"/c/{fund.slug}/fund/claims/{claim_id}/decide",
                        data={"decision": "reject", "reason": "Changed my mind."})
    assert again.status_code == 422
    assert "this claim is already approved" in again.get_data(as_text=True)
    with setup():
        claim = db.session.get(Claim, claim_id)
        assert (claim.status, claim.decision_reason) == ("approved", "Get well soon.")
        assert [e.status for e in claim.events] == ["pending", "approved"]


@pytest.mark.parametrize("month", ["26-1", "2026-1", "2026-10-01", "٢٠٢٦-١٠", "0000-01"])
def test_a_claim_month_that_is_not_yyyy_mm_is_a_field_error(client, auth, setup, fund, month):
    # Issue 9: MonthField's strptime took '2026-1'; a month is YYYY-MM only.
    auth.login(fund.ann)

    refused = client.post(f"/c/{fund.slug}/fund/claims/new", data={
        "kind": "sick", "start_period": month, "months": "3"})

    assert refused.status_code == 422
    assert "write the period as YYYY-MM, like 2026-10" in refused.get_data(as_text=True)
    assert _count(setup, Claim, membership_id=fund.ann_id) == 0


@pytest.mark.parametrize("data", [{"decision": "approve"}, {}, {"decision": "maybe"}])
def test_deciding_ones_own_claim_by_hand_gets_the_services_message(client, auth, setup, fund,
                                                                   data):
    # Issue 9: the page offers no decision form on one's own claim; a hand-made POST that
    # the form itself would refuse (no reason, no decision) got a 422 with no message.
    auth.login(fund.founder)
    client.post(f"/c/{fund.slug}/fund/claims/new", data={
        "kind": "sick", "start_period": f"{THIS_MONTH:%Y-%m}", "months": "3"})
    with setup():
        claim_id = db.session.scalar(sa.select(Claim.id).filter_by(
            collective_id=fund.collective_id))

    response = client.post(f"/c/{fund.slug}/fund/claims/{claim_id}/decide", data=data)

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "you cannot decide your own claim; another treasurer must" in html
    assert "Save decision" not in html
    with setup():
        assert db.session.get(Claim, claim_id).status == "pending"


def test_deciding_a_decided_claim_by_hand_says_it_is_decided(client, auth, setup, fund):
    auth.login(fund.ann)
    client.post(f"/c/{fund.slug}/fund/claims/new", data={
        "kind": "sick", "start_period": f"{THIS_MONTH:%Y-%m}", "months": "3"})
    with setup():
        claim_id = db.session.scalar(sa.select(Claim.id).filter_by(membership_id=fund.ann_id))
    auth.logout()
    auth.login(fund.tess)
    url = f"/c/{fund.slug}/fund/claims/{claim_id}/decide"
    assert client.post(url, data={"decision": "reject", "reason": "No."}).status_code == 302

    response = client.post(url, data={"decision": "approve"})   # no reason either

    assert response.status_code == 422
    assert "this claim is already rejected" in response.get_data(as_text=True)
    with setup():
        assert db.session.get(Claim, claim_id).status == "rejected"


def test_a_treasurer_cannot_decide_their_own_claim_on_the_page(client, auth, setup, fund):
    auth.login(fund.founder)
    client.post(f"/c/{fund.slug}/fund/claims/new", data={
        "kind": "sick", "start_period": f"{THIS_MONTH:%Y-%m}", "months": "3"})
    with setup():
        claim = db.session.scalar(sa.select(Claim).filter_by(collective_id=fund.collective_id))
        claim_id = claim.id
    response = client.post(f"/c/{fund.slug}/fund/claims/{claim_id}/decide",
                           data={"decision": "approve", "reason": "Fine by me."})
    assert response.status_code == 422
    assert "you cannot decide your own claim" in response.get_data(as_text=True)
    with setup():
        assert db.session.get(Claim, claim_id).status == "pending"

    withdrawn = client.post(f"/c/{fund.slug}/fund/claims/{claim_id}/withdraw",
                            follow_redirects=True)
    assert "Your claim is withdrawn." in withdrawn.get_data(as_text=True)
    with setup():
        assert db.session.get(Claim, claim_id).status == "withdrawn"


def _other_fund_s_claim(setup) -> int:
    """A pending claim in another collective's fund."""
    with setup():
        founder, member = found_fund(2, start=add_months(THIS_MONTH, -2))
        for person in (founder, member):
            deposit(founder, person, 50_000, on=add_months(THIS_MONTH, -2), today=TODAY)
        runs.run_contributions(founder.collective_id, add_months(THIS_MONTH, -2), today=TODAY)
        claim = claims.file_claim(member, kind=BenefitKind.SICK, start_period=THIS_MONTH,
                                  months=3, today=TODAY, now=now_utc())
        commit()
        return claim.id


def test_a_claim_of_another_collective_or_of_none_is_not_found(client, auth, setup, fund):
    elsewhere = _other_fund_s_claim(setup)
    auth.login(fund.founder)
    base = f"/c/{fund.slug}/fund/claims"

    for claim_id in (elsewhere, elsewhere + 1000):
        page = client.get(f"{base}/{claim_id}")
        assert page.status_code == 404, claim_id
        for action, data in (("decide", {"decision": "approve", "reason": "Fine."}),
                             ("withdraw", {})):
            assert client.post(f"{base}/{claim_id}/{action}", data=data).status_code == 404
    with setup():
        assert db.session.get(Claim, elsewhere).status == ClaimStatus.PENDING


def test_a_claim_is_withdrawn_with_the_page_s_csrf_token_and_not_without_it(
        client, auth, setup, fund, app, monkeypatch):
    with setup():
        ann = db.session.get(Membership, fund.ann_id)
        claim_id = claims.file_claim(ann, kind=BenefitKind.SICK, start_period=THIS_MONTH,
                                     months=3, today=TODAY, now=now_utc()).id
        commit()
    auth.login(fund.ann)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    client.adds_csrf_token = False  # this test posts the page's own token, or none
    url = f"/c/{fund.slug}/fund/claims/{claim_id}"
    page = _page(client, url)
    token = re.search(r'action="[^"]+/withdraw">\s*<input type="hidden" name="csrf_token" '
                      r'value="([^"]+)"', page).group(1)

    forged = client.post(f"{url}/withdraw")

    assert forged.status_code == 400
    with setup():
        assert db.session.get(Claim, claim_id).status == ClaimStatus.PENDING

    withdrawn = client.post(f"{url}/withdraw", data={"csrf_token": token},
                            follow_redirects=True)

    assert "Your claim is withdrawn." in withdrawn.get_data(as_text=True)
    with setup():
        assert db.session.get(Claim, claim_id).status == ClaimStatus.WITHDRAWN


@pytest.mark.parametrize("terms, said", [
    ({"contribution": {"kind": "bogus"}}, "the contribution rule is levels, earnings_pct or flat"),
    (None, "the plan&#39;s terms are missing")])
def test_a_plan_proposal_whose_terms_no_longer_read_shows_why_not_a_server_error(
        client, auth, setup, fund, terms, said):
    with setup():
        founder = db.session.get(Membership, fund.founder_id)
        proposal = plans.propose_plan(founder, PlanTerms.from_json(BREAD_FUND),
                                      effective_on=add_months(THIS_MONTH, 1), today=TODAY,
                                      now=now_utc())
        proposal.payload = {**proposal.payload, "terms": terms}
        commit()
        proposal_id = proposal.id
    auth.login(fund.ann)

    page = client.get(f"/c/{fund.slug}/proposals/{proposal_id}")

    assert page.status_code == 422
    assert said in page.get_data(as_text=True)


def test_a_level_and_a_deposit_are_saved_through_the_pages(client, auth, setup, fund):
    auth.login(fund.founder)
    level = client.post(f"/c/{fund.slug}/fund/level", data={"level": "100000"},
                        follow_redirects=True)
    next_month = add_months(THIS_MONTH, 1)
    assert (f"Your level is $1,000.00 a month from {next_month:%B %Y}."
            in level.get_data(as_text=True))

    url = f"/c/{fund.slug}/fund/deposits"
    data = {"dep-membership_id": str(fund.ann_id), "dep-received_on": TODAY.isoformat(),
            "dep-request_key": "view-deposit-1"}
    for nothing in ("0", "0.00"):
        # Issue 9: a deposit of 0 is a field error of the form, never silently ignored.
        zero = client.post(url, data={**data, "dep-amount": nothing}, follow_redirects=True)
        assert "the amount must be more than zero" in zero.get_data(as_text=True)
        assert _count(setup, JournalEntry, collective_id=fund.collective_id,
                      kind="deposit") == 3
    paid = client.post(url, data={**data, "dep-amount": "25"}, follow_redirects=True)
    assert "The deposit is recorded." in paid.get_data(as_text=True)
    assert _count(setup, JournalEntry, collective_id=fund.collective_id, kind="deposit") == 4

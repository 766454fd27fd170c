"""How long a claim lasts: ended early on recovery (by the member or a treasurer, with the
date), continued after a relapse within the plan's window with no new waiting month, and at
most the plan's months paid, the waiting month not counted. Months checked by hand."""
from datetime import date, timedelta

import pytest

from collective.benefits import claims, invariants, recovery, runs
from collective.benefits.compute import PlanTerms, add_months, month_start
from collective.benefits.models import Claim
from collective.clock import now_utc, today_in
from collective.errors import DomainError, NotAllowed
from collective.extensions import db
from tests.benefits.factories import (
    NOW,
    deposit,
    found_fund,
    paid_months,
    plan,
    run_months,
    seed_fund,
    set_level,
)
from tests.factories import commit

AUG, SEP, OCT, NOV = (date(2026, m, 1) for m in (8, 9, 10, 11))
RUN_DAY = date(2027, 3, 1)


def _run_through(collective_id: int, last: date) -> None:
    run_months(collective_id, date(2026, 7, 1), last, today=RUN_DAY)


@pytest.fixture
def ill_from_august(ctx):
    """Ann (level 1,000.00) is ill from August 2026 and asks for six months: August is the
    waiting month, September to January would be paid. Everyone can pay; the fund is full."""
    treasurer, ann, bob = found_fund(3, start=date(2026, 7, 1))
    set_level(ann, 100_000, start=date(2026, 7, 1))
    for person in (treasurer, ann, bob):
        deposit(treasurer, person, 100_000, on=date(2026, 7, 1))
    seed_fund(treasurer.collective_id, 2_000_000, on=date(2026, 7, 1))
    runs.run_contributions(treasurer.collective_id, date(2026, 7, 1), today=RUN_DAY)
    claim = claims.file_claim(ann, kind="sick", start_period=AUG, months=6,
                              today=date(2026, 8, 3), now=NOW)
    claims.decide_claim(treasurer, claim, approve=True, reason="Get well.", now=NOW)
    return treasurer, ann, bob, claim


def test_a_claim_ended_on_recovery_pays_the_month_of_the_last_day_ill_and_no_more(
        ill_from_august):
    """Well again on 15 October: ill on 14 October, so October is the last month paid.
    Paid: September and October, 1,000.00 each; November to January are not."""
    _, ann, _, claim = ill_from_august

    recovery.end_claim(ann, claim, recovered_on=date(2026, 10, 15), today=date(2026, 10, 20),
                       now=NOW)
    _run_through(ann.collective_id, date(2027, 1, 1))

    assert claim.ended_on == date(2026, 10, 15)
    assert paid_months([claim.id]) == [(SEP, 100_000), (OCT, 100_000)]
    assert claim.events[-1].note == ("ended by the claimant: well again on 2026-10-15; "
                                     "October 2026 is the last month paid")
    assert invariants.reserve_check(ann.collective_id).ok


def test_well_again_on_the_first_of_a_month_ends_the_claim_with_the_month_before(
        ill_from_august):
    treasurer, ann, _, claim = ill_from_august

    recovery.end_claim(treasurer, claim, recovered_on=date(2026, 11, 1),
                       today=date(2026, 11, 2), now=NOW)
    _run_through(ann.collective_id, date(2027, 1, 1))

    assert paid_months([claim.id]) == [(SEP, 100_000), (OCT, 100_000)]
    assert claim.events[-1].note.startswith("ended by a treasurer: well again on 2026-11-01")


def test_a_relapse_within_four_weeks_continues_the_claim_with_no_new_waiting_month(
        ill_from_august):
    """Well on 15 October, ill again on 5 November (21 days later, within 28): the claim
    goes on from November, approved, with no waiting month. Paid: September, October
    (first spell), November, December, January (three months asked): 5 x 1,000.00."""
    _, ann, _, claim = ill_from_august
    recovery.end_claim(ann, claim, recovered_on=date(2026, 10, 15), today=date(2026, 10, 20),
                       now=NOW)

    again = claims.file_claim(ann, kind="sick", start_period=date(2026, 11, 5), months=3,
                              today=date(2026, 11, 5), now=NOW)
    _run_through(ann.collective_id, date(2027, 2, 1))

    assert (again.continues_id, again.status, again.start_period) == (claim.id, "approved",
                                                                      NOV)
    assert again.decision_reason.startswith(f"continues claim {claim.id}: ill again on "
                                            "2026-11-05, within 4 weeks")
    assert paid_months([claim.id, again.id]) == [(SEP, 100_000), (OCT, 100_000), (NOV, 100_000),
                                           (date(2026, 12, 1), 100_000),
                                           (date(2027, 1, 1), 100_000)]
    assert recovery.chain(again) == [claim, again]


def test_ill_again_after_the_window_is_a_new_claim_with_a_new_waiting_month(ill_from_august):
    """Well on 15 October; ill again on 13 November, 29 days later: outside 4 weeks."""
    treasurer, ann, _, claim = ill_from_august
    recovery.end_claim(ann, claim, recovered_on=date(2026, 10, 15), today=date(2026, 10, 20),
                       now=NOW)

    new = claims.file_claim(ann, kind="sick", start_period=date(2026, 11, 13), months=3,
                            today=date(2026, 11, 13), now=NOW)
    claims.decide_claim(treasurer, new, approve=True, reason="Ill again.", now=NOW)
    _run_through(ann.collective_id, date(2027, 2, 1))

    assert (new.continues_id, new.start_period) == (None, NOV)
    # November waits; December and January are paid.
    assert paid_months([new.id]) == [(date(2026, 12, 1), 100_000), (date(2027, 1, 1), 100_000)]


def test_the_plan_s_relapse_window_decides(ctx):
    terms = PlanTerms.from_json(plan(relapse_weeks=8))
    assert terms.relapse_weeks == 8 and terms.to_json()["relapse_weeks"] == 8
    assert PlanTerms.from_json(plan()).relapse_weeks == 4


def test_the_maximum_counts_months_paid_not_the_waiting_month(ill_from_august):
    """24 months paid at most: 25 months asked (August waits, then September 2026 to
    August 2028 paid) is allowed. After 2 months paid and a relapse, 22 are left."""
    treasurer, ann, bob, claim = ill_from_august
    longest = claims.file_claim(bob, kind="sick", start_period=AUG, months=25,
                                today=date(2026, 8, 3), now=NOW)
    assert longest.months == 25
    with pytest.raises(DomainError, match="at most 24 months, waiting months not counted"):
        claims.file_claim(treasurer, kind="sick", start_period=AUG, months=26,
                          today=date(2026, 8, 3), now=NOW)
    recovery.end_claim(ann, claim, recovered_on=date(2026, 10, 15), today=date(2026, 10, 20),
                       now=NOW)

    with pytest.raises(DomainError, match="22 are left on this illness") as refused:
        claims.file_claim(ann, kind="sick", start_period=date(2026, 11, 5), months=23,
                          today=date(2026, 11, 5), now=NOW)
    assert refused.value.field == "months"
    assert claims.file_claim(ann, kind="sick", start_period=date(2026, 11, 5), months=22,
                             today=date(2026, 11, 5), now=NOW).months == 22


@pytest.mark.parametrize(("who", "recovered_on", "today", "error", "words"), [
    ("bob", date(2026, 10, 15), date(2026, 10, 20), NotAllowed, "treasurer"),
    ("ann", date(2026, 10, 25), date(2026, 10, 20), DomainError, "once it has come"),
    ("ann", date(2026, 8, 1), date(2026, 10, 20), DomainError, "withdraw a claim that never"),
    ("ann", date(2027, 2, 1), date(2027, 2, 2), DomainError, "ends by itself after January"),
])
def test_ending_a_claim_is_refused_with_a_reason(ill_from_august, who, recovered_on, today,
                                                 error, words):
    treasurer, ann, bob, claim = ill_from_august
    actor = {"ann": ann, "bob": bob}[who]

    with pytest.raises(error, match=words):
        recovery.end_claim(actor, claim, recovered_on=recovered_on, today=today, now=NOW)

    assert claim.ended_on is None


def test_a_claim_cannot_end_before_a_month_alreadypaid_months(ill_from_august):
    _, ann, _, claim = ill_from_august
    _run_through(ann.collective_id, NOV)

    with pytest.raises(DomainError, match="November 2026 was paid already"):
        recovery.end_claim(ann, claim, recovered_on=date(2026, 10, 15),
                           today=date(2026, 12, 2), now=NOW)
    recovery.end_claim(ann, claim, recovered_on=date(2026, 12, 2), today=date(2026, 12, 2),
                       now=NOW)
    assert claim.ended_on == date(2026, 12, 2)


def test_the_claimant_ends_a_claim_on_its_page_and_a_bad_date_is_a_field_error(
        client, auth, setup):
    today, now = today_in("UTC"), now_utc()
    this_month = month_start(today)
    with setup():
        founder, ann = found_fund(2, start=add_months(this_month, -2))
        for person in (founder, ann):
            deposit(founder, person, 50_000, on=add_months(this_month, -2), today=today)
        runs.run_contributions(founder.collective_id, add_months(this_month, -2), today=today)
        claim = claims.file_claim(ann, kind="sick", start_period=add_months(this_month, -1),
                                  months=3, today=today, now=now)
        claims.decide_claim(founder, claim, approve=True, reason="Get well.", now=now)
        slug, email, claim_id = ann.collective.slug, ann.user.email, claim.id
        commit()
    auth.login(email)
    url = f"/c/{slug}/fund/claims/{claim_id}"
    page = client.get(url).get_data(as_text=True)
    title = page[page.index("<title>"):page.index("</title>")]
    assert "<form" not in title and title.startswith(f"<title>Claim {claim_id} ·")
    body = page[page.index("<main"):]
    assert body.count("End on recovery") == 1

    refused = client.post(f"{url}/end", data={"recovered_on": (today + timedelta(days=1))
                                              .isoformat()})
    ended = client.post(f"{url}/end", data={"recovered_on": today.isoformat()},
                        follow_redirects=True)

    assert refused.status_code == 422
    assert "give the day of recovery once it has come" in refused.get_data(as_text=True)
    assert ended.status_code == 200
    assert f"well again on {today:%Y-%m-%d}" in ended.get_data(as_text=True)
    with setup():
        assert db.session.get(Claim, claim_id).ended_on == today

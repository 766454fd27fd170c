"""The benefits fund through the API: plan versions and proposals, claims filed and decided
(once per Idempotency-Key), and the runs with their lines, with the pages' roles and
another collective's objects out of reach."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from collective.audit.models import AuditEvent
from collective.benefits.compute import add_months, month_start
from collective.benefits.models import BenefitRun, Claim, ClaimEvent, RunLine
from collective.clock import today_in
from collective.extensions import db
from collective.ledger.models import JournalEntry
from collective.members.models import Proposal
from tests.benefits.factories import plan

OURS = "/collectives/ours"


def _count(model, **filters) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).filter_by(**filters))


def _fields(response) -> list[str]:
    return sorted(response.get_json()["error"].get("fields", {}))


def _month(shift: int) -> str:
    return add_months(month_start(today_in("UTC")), shift).isoformat()


# --- Plans -------------------------------------------------------------------------------

def test_plans_list_their_versions_and_one_reads_alone(api, gov):
    listed = api("GET", f"{OURS}/benefit-plans", gov.bob)
    assert listed.status_code == 200
    items = listed.get_json()["items"]
    assert [(p["id"], p["version"], p["effective_on"], p["is_in_force"]) for p in items] == [
        (gov.plan_id, 1, _month(-2), True)]
    assert items[0]["terms"]["contribution"]["kind"] == "levels"
    assert api("GET", f"{OURS}/benefit-plans", gov.bob,
               query={"until": _month(-3)}).get_json()["items"] == []
    one = api("GET", f"{OURS}/benefit-plans/{gov.plan_id}", gov.bob)
    assert (one.status_code, one.get_json()["version"]) == (200, 1)
    assert api("GET", f"{OURS}/benefit-plans/{gov.their_plan_id}",
               gov.founder).status_code == 404


def test_a_treasurer_proposes_a_plan_and_others_may_not(api, gov, setup):
    body = {"terms": plan(reserve_cap_months=24), "effective_on": _month(2),
            "title": "A lower reserve cap"}
    with setup():
        before = _count(Proposal)
    assert api("POST", f"{OURS}/benefit-plans/proposals", gov.ann, json=body).status_code == 403
    assert api("POST", f"{OURS}/benefit-plans/proposals", gov.read_only,
               json=body).status_code == 403
    odd = api("POST", f"{OURS}/benefit-plans/proposals", gov.founder,
              json={**body, "terms": plan(contribution={"kind": "whim"})})
    assert odd.status_code == 422 and _fields(odd) == ["contribution"]
    shapeless = api("POST", f"{OURS}/benefit-plans/proposals", gov.founder,
                    json={**body, "terms": plan(contribution={"kind": "levels",
                                                              "levels": ["x"]})})
    assert shapeless.status_code == 422 and _fields(shapeless) == ["terms"]
    with setup():
        assert _count(Proposal) == before
    made = api("POST", f"{OURS}/benefit-plans/proposals", gov.founder, json=body)
    assert made.status_code == 201, made.get_data(as_text=True)
    proposal = made.get_json()
    assert (proposal["kind"], proposal["status"], proposal["title"]) == (
        "benefit_plan", "open", "A lower reserve cap")
    assert proposal["payload"]["terms"]["reserve_cap_months"] == 24
    assert proposal["payload"]["effective_on"] == _month(2)


# --- Claims ------------------------------------------------------------------------------

def test_a_member_files_a_claim_and_sees_only_their_own(api, gov, setup):
    filed = api("POST", f"{OURS}/claims", gov.bob, json={
        "kind": "unpaid_invoice", "start_period": today_in("UTC").isoformat(),
        "invoice_amount": 30_000, "note": "Koala Cafe has not paid"})
    assert filed.status_code == 201, filed.get_data(as_text=True)
    claim = filed.get_json()
    # Half the invoice, as the plan says; one event: filed.
    assert (claim["kind"], claim["status"], claim["amount"], claim["currency"]) == (
        "unpaid_invoice", "pending", 15_000, "USD")
    assert [e["status"] for e in claim["events"]] == ["pending"]
    mine = api("GET", f"{OURS}/claims", gov.bob).get_json()["items"]
    assert [c["id"] for c in mine] == [claim["id"]]
    everyone = api("GET", f"{OURS}/claims", gov.founder).get_json()["items"]
    assert [c["id"] for c in everyone] == [gov.claim_id, claim["id"]]
    assert api("GET", f"{OURS}/claims", gov.founder,
               query={"status": "approved"}).get_json()["items"] == []
    assert api("GET", f"{OURS}/claims/{gov.claim_id}", gov.bob).status_code == 404
    assert api("GET", f"{OURS}/claims/{gov.claim_id}", gov.ann).status_code == 200
    assert api("GET", f"{OURS}/claims/{gov.their_claim_id}", gov.founder).status_code == 404


def test_a_claim_the_plan_refuses_is_a_422_naming_the_field_and_files_nothing(api, gov,
                                                                              setup):
    today = today_in("UTC").isoformat()
    with setup():
        before = _count(Claim)
    no_invoice = api("POST", f"{OURS}/claims", gov.bob,
                     json={"kind": "unpaid_invoice", "start_period": today})
    assert no_invoice.status_code == 422 and _fields(no_invoice) == ["invoice_amount"]
    unknown = api("POST", f"{OURS}/claims", gov.bob, json={"kind": "boredom",
                                                           "start_period": today})
    assert unknown.status_code == 422 and _fields(unknown) == ["kind"]
    long_ago = api("POST", f"{OURS}/claims", gov.bob, json={
        "kind": "sick", "start_period": "2020-01-01", "months": 3})
    assert long_ago.status_code == 422 and _fields(long_ago) == ["start_period"]
    assert api("POST", f"{OURS}/claims", gov.read_only, json={
        "kind": "hardship", "start_period": today, "amount": 100}).status_code == 403
    with setup():
        assert _count(Claim) == before


def test_a_decision_replayed_with_its_key_posts_once(api, gov, setup):
    decide = f"{OURS}/claims/{gov.claim_id}/decision"
    body = {"decision": "approve", "reason": "The invoice is 90 days overdue."}
    key = {"Idempotency-Key": "decide-claim-1"}
    first = api("POST", decide, gov.founder, json=body, headers=key)
    assert first.status_code == 200, first.get_data(as_text=True)
    assert first.get_json()["status"] == "approved"
    assert [e["status"] for e in first.get_json()["events"]] == ["pending", "approved"]
    with setup():
        counts = (_count(ClaimEvent, claim_id=gov.claim_id),
                  _count(AuditEvent, action="claim.approved"))
    again = api("POST", decide, gov.founder, json=body, headers=key)
    assert (again.status_code, again.get_data()) == (200, first.get_data())
    assert again.headers["Idempotent-Replayed"] == "true"
    with setup():
        assert (_count(ClaimEvent, claim_id=gov.claim_id),
                _count(AuditEvent, action="claim.approved")) == counts == (2, 1)
    # Decided already: another decision under another key is a conflict, and changes nothing.
    other = api("POST", decide, gov.founder, headers={"Idempotency-Key": "decide-claim-2"},
                json={"decision": "reject", "reason": "Changed my mind"})
    assert other.status_code == 409 and _fields(other) == ["reason"]
    with setup():
        assert db.session.get(Claim, gov.claim_id).status == "approved"


def test_deciding_needs_a_treasurer_a_reason_and_a_claim_of_ours(api, gov, setup):
    decide = f"{OURS}/claims/{gov.claim_id}/decision"
    body = {"decision": "reject", "reason": "No invoice attached"}
    assert api("POST", decide, gov.bob, json=body).status_code == 403
    assert api("POST", decide, gov.read_only, json=body).status_code == 403
    no_reason = api("POST", decide, gov.founder, json={"decision": "reject", "reason": " "})
    assert no_reason.status_code == 422 and _fields(no_reason) == ["reason"]
    missing = api("POST", decide, gov.founder, json={"reason": "Why not"})
    assert missing.status_code == 422 and _fields(missing) == ["decision"]
    theirs = api("POST", f"{OURS}/claims/{gov.their_claim_id}/decision", gov.founder,
                 json=body)
    assert theirs.status_code == 404
    with setup():
        assert {c.status for c in db.session.scalars(sa.select(Claim))} == {"pending"}


# --- Runs --------------------------------------------------------------------------------

def test_runs_list_and_read_with_their_lines_a_page_at_a_time(api, gov):
    listed = api("GET", f"{OURS}/runs", gov.founder)
    assert listed.status_code == 200
    runs = listed.get_json()["items"]
    assert [(r["id"], r["kind"], r["period"]) for r in runs] == [
        (gov.run_ids[0], "contributions", _month(-2)),
        (gov.run_ids[1], "contributions", _month(-1))]
    assert api("GET", f"{OURS}/runs", gov.founder,
               query={"kind": "payouts"}).get_json()["items"] == []
    assert [r["id"] for r in api("GET", f"{OURS}/runs", gov.founder,
                                 query={"since": _month(-1)}).get_json()["items"]] == [
        gov.run_ids[1]]
    one = api("GET", f"{OURS}/runs/{gov.run_ids[0]}", gov.founder).get_json()
    lines_url = f"{OURS}/runs/{gov.run_ids[0]}/lines"
    first = api("GET", lines_url, gov.founder, query={"limit": 2}).get_json()
    rest = api("GET", lines_url, gov.founder,
               query={"limit": 2, "cursor": first["next_cursor"]}).get_json()
    lines = first["items"] + rest["items"]
    assert rest["next_cursor"] is None and len(lines) == 3
    # Three members each paid the 500.00 level's 22.50 into the fund.
    assert [(line["kind"], line["amount"]) for line in lines] == [("contribution", 2_250)] * 3
    assert one["total_amount"] == sum(line["amount"] for line in lines) == 6_750
    wrong = api("GET", lines_url, gov.founder, query={"kind": "bonus"})
    assert wrong.status_code == 422 and _fields(wrong) == ["kind"]


def test_runs_are_the_treasurers_and_ours_only(api, gov):
    assert api("GET", f"{OURS}/runs", gov.ann).status_code == 403
    assert api("GET", f"{OURS}/runs/{gov.run_ids[0]}/lines", gov.ann).status_code == 403
    for path in (f"{OURS}/runs/{gov.their_run_id}", f"{OURS}/runs/{gov.their_run_id}/lines"):
        assert api("GET", path, gov.founder).status_code == 404, path


def test_a_treasurer_starts_a_run_that_posts_once(api, gov, setup):
    start = f"{OURS}/runs"
    month = {"kind": "payouts", "period": _month(-2)}
    assert api("POST", start, gov.ann, json=month).status_code == 403
    assert api("POST", start, gov.read_only, json=month).status_code == 403
    unfinished = api("POST", start, gov.founder, json={"kind": "contributions",
                                                       "period": _month(0)})
    assert unfinished.status_code == 422 and _fields(unfinished) == ["period"]
    early = api("POST", start, gov.founder, json={"kind": "payouts", "period": "2020-01-01"})
    assert early.status_code == 200 and early.get_json()["outcome"] == "skipped"
    posted = api("POST", start, gov.founder, json=month)
    assert posted.status_code == 200, posted.get_data(as_text=True)
    with setup():  # the audit log names the token's user as the one who ran it
        from collective.api import tokens
        actors = db.session.scalars(sa.select(AuditEvent.actor_user_id).filter_by(
            action="fund_run.posted", subject_id=posted.get_json()["run"]["id"])).all()
        assert actors == [tokens.find_token(gov.founder).user_id]
    body = posted.get_json()
    assert (body["outcome"], body["kind"], body["period"]) == ("posted", "payouts",
                                                               _month(-2))
    with setup():
        counts = _count(BenefitRun), _count(RunLine), _count(JournalEntry)
    again = api("POST", start, gov.founder, json={**month, "period": _month(-2)[:8] + "15"})
    assert again.status_code == 200
    assert (again.get_json()["outcome"], again.get_json()["run"]["id"]) == (
        "already_done", body["run"]["id"])
    with setup():
        assert (_count(BenefitRun), _count(RunLine), _count(JournalEntry)) == counts
        assert db.session.get(BenefitRun, body["run"]["id"]).triggered_by.endswith(
            "@example.test")
    assert date.fromisoformat(body["period"]).day == 1

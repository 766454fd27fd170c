"""Share rules and proposals with their votes through the API: the members' and the pool's
own services behind every answer, their roles, and another collective out of reach."""
from __future__ import annotations

import sqlalchemy as sa

from collective.extensions import db
from collective.members.models import Collective, Proposal, Vote

OURS = "/collectives/ours"


def _count(model, **filters) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).filter_by(**filters))


def _fields(response) -> list[str]:
    return sorted(response.get_json()["error"].get("fields", {}))


def test_share_rules_list_their_versions_and_one_reads_alone(api, gov):
    listed = api("GET", f"{OURS}/share-rules", gov.ann)
    assert listed.status_code == 200
    assert [(r["id"], r["version"], r["common_fund_bp"], r["finder_fee_bp"], r["method"],
             r["is_in_force"], r["proposal_id"]) for r in listed.get_json()["items"]] == [
        (gov.rule_id, 1, 1000, 500, "hours", True, None)]
    assert api("GET", f"{OURS}/share-rules", gov.ann,
               query={"since": "2026-01-02"}).get_json()["items"] == []
    one = api("GET", f"{OURS}/share-rules/{gov.rule_id}", gov.ann)
    assert (one.status_code, one.get_json()["effective_on"]) == (200, "2026-01-01")


def test_another_collectives_rule_proposal_and_votes_are_404(api, gov):
    for path in (f"{OURS}/share-rules/{gov.their_rule_id}",
                 f"{OURS}/proposals/{gov.their_proposal_id}",
                 f"{OURS}/proposals/{gov.their_proposal_id}/votes"):
        response = api("GET", path, gov.founder)
        assert response.status_code == 404, path
        assert response.get_json()["error"]["code"] == "not_found"
    vote = api("PUT", f"{OURS}/proposals/{gov.their_proposal_id}/vote", gov.founder,
               json={"choice": "agree"})
    assert vote.status_code == 404


def test_a_member_proposes_a_share_rule_and_it_opens_for_votes(api, gov, setup):
    made = api("POST", f"{OURS}/share-rules/proposals", gov.ann, json={
        "common_fund_bp": 700, "finder_fee_bp": 300, "method": "equal",
        "effective_on": "2027-01-01", "description": "Less to the fund"})
    assert made.status_code == 201, made.get_data(as_text=True)
    body = made.get_json()
    assert (body["kind"], body["status"], body["is_voting_open"], body["my_vote"]) == (
        "share_rule", "open", True, None)
    assert body["payload"] == {"common_fund_bp": 700, "finder_fee_bp": 300,
                               "method": "equal", "effective_on": "2027-01-01"}
    assert body["title"].startswith("Share rule:")
    assert body["tally"]["eligible"] == 3
    with setup():
        assert _count(Proposal, id=body["id"], created_by_id=gov.ann_id) == 1


def test_proposing_is_refused_by_role_by_read_only_token_and_by_the_rule_checks(
        api, gov, setup):
    rule = {"common_fund_bp": 700, "finder_fee_bp": 300, "method": "equal",
            "effective_on": "2027-01-01"}
    with setup():
        db.session.execute(sa.update(Collective).where(Collective.slug == "ours")
                           .values(is_rule_proposing_open=False))
        db.session.commit()
        before = _count(Proposal)
    refused = api("POST", f"{OURS}/share-rules/proposals", gov.ann, json=rule)
    assert refused.status_code == 403
    read_only = api("POST", f"{OURS}/share-rules/proposals", gov.read_only, json=rule)
    assert read_only.status_code == 403
    too_much = api("POST", f"{OURS}/share-rules/proposals", gov.founder,
                   json={**rule, "common_fund_bp": 9_000, "finder_fee_bp": 2_000})
    assert too_much.status_code == 422 and _fields(too_much) == ["finder_fee_bp"]
    unknown = api("POST", f"{OURS}/share-rules/proposals", gov.founder,
                  json={**rule, "method": "seniority"})
    assert unknown.status_code == 422 and _fields(unknown) == ["method"]
    too_early = api("POST", f"{OURS}/share-rules/proposals", gov.founder,
                    json={**rule, "effective_on": "2001-01-01"})
    assert too_early.status_code == 422 and _fields(too_early) == ["effective_on"]
    with setup():
        assert _count(Proposal) == before


def test_proposals_filter_by_status_and_kind_and_page_by_cursor(api, gov):
    url = f"{OURS}/proposals"
    statuses = {p["id"]: p["status"] for p in api("GET", url, gov.ann).get_json()["items"]}
    assert statuses == {gov.open_id: "open", gov.decided_id: "rejected",
                        gov.overdue_id: "open"}
    opened = api("GET", url, gov.ann, query={"status": "open"}).get_json()["items"]
    assert [p["id"] for p in opened] == [gov.open_id, gov.overdue_id]
    assert [p["is_voting_open"] for p in opened] == [True, False]
    assert api("GET", url, gov.ann, query={"kind": "benefit_plan"}).get_json()["items"] == []
    first = api("GET", url, gov.ann, query={"limit": 2}).get_json()
    rest = api("GET", url, gov.ann, query={"limit": 2, "cursor": first["next_cursor"]})
    assert [p["id"] for p in first["items"] + rest.get_json()["items"]] == sorted(statuses)
    assert api("GET", url, gov.ann, query={"until": "2000-01-01"}).get_json()["items"] == []
    wrong = api("GET", url, gov.ann, query={"status": "maybe"})
    assert wrong.status_code == 422 and _fields(wrong) == ["status"]


def test_a_member_casts_and_changes_their_vote_and_the_tally_counts_it_once(api, gov, setup):
    vote = f"{OURS}/proposals/{gov.open_id}/vote"
    cast = api("PUT", vote, gov.ann, json={"choice": "agree", "reason": "Fair"})
    assert cast.status_code == 200, cast.get_data(as_text=True)
    changed = api("PUT", vote, gov.ann, json={"choice": "disagree"})
    assert changed.status_code == 200
    assert changed.get_json()["id"] == cast.get_json()["id"]
    assert (changed.get_json()["choice"], changed.get_json()["reason"]) == ("disagree", "")
    api("PUT", vote, gov.bob, json={"choice": "agree"})
    detail = api("GET", f"{OURS}/proposals/{gov.open_id}", gov.ann).get_json()
    assert detail["my_vote"]["choice"] == "disagree" and detail["may_vote"] is True
    assert {k: detail["tally"][k] for k in ("agree", "disagree", "abstain", "block")} == {
        "agree": 1, "disagree": 1, "abstain": 0, "block": 0}
    votes = api("GET", f"{OURS}/proposals/{gov.open_id}/votes", gov.founder,
                query={"choice": "agree"}).get_json()["items"]
    assert [v["choice"] for v in votes] == ["agree"]
    with setup():
        assert _count(Vote, proposal_id=gov.open_id) == 2


def test_a_vote_on_a_decided_or_overdue_proposal_is_a_409_and_bad_votes_are_refused(
        api, gov, setup):
    for proposal_id in (gov.decided_id, gov.overdue_id):
        response = api("PUT", f"{OURS}/proposals/{proposal_id}/vote", gov.ann,
                       json={"choice": "agree"})
        assert response.status_code == 409, proposal_id
        assert _fields(response) == ["choice"]
    vote = f"{OURS}/proposals/{gov.open_id}/vote"
    bad = api("PUT", vote, gov.ann, json={"choice": "maybe"})
    assert bad.status_code == 422 and _fields(bad) == ["choice"]
    assert api("PUT", vote, gov.read_only, json={"choice": "agree"}).status_code == 403
    with setup():
        assert _count(Vote) == 0

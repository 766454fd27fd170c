"""The audit log's later additions: registrations, new collectives, password-reset requests,
withdrawn proposals and exports run from the command line are recorded; the log's member
filter finds removed members, whether it lists the members or searches them."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from collective.audit.models import AuditEvent
from collective.clock import now_utc
from collective.extensions import db
from collective.members import proposals, services
from collective.members.models import Membership, MembershipStatus, User
from tests.factories import commit, make_collective, make_member, make_user


def _events(setup, action: str) -> list[AuditEvent]:
    with setup():
        return list(db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_a_registration_and_a_new_collective_are_recorded(client, setup):
    response = client.post("/register", data={
        "name": "Nina Cruz", "email": "nina@example.com", "password": "long enough pw",
        "confirm": "long enough pw", "timezone": "Asia/Manila"})
    assert response.status_code == 302
    with setup():
        nina = db.session.scalar(sa.select(User).filter_by(email="nina@example.com")).id
    [registered] = _events(setup, "account.registered")
    assert (registered.subject_type, registered.subject_id, registered.actor_user_id,
            registered.collective_id, registered.ip) == ("user", nina, nina, None, "127.0.0.1")

    response = client.post("/collectives/new", data={
        "name": "Nina's Co-op", "slug": "ninas", "base_currency": "PHP",
        "timezone": "Asia/Manila"})
    assert response.status_code == 302
    [founded] = _events(setup, "collective.created")
    assert (founded.subject_type, founded.subject_id, founded.actor_user_id) == (
        "collective", founded.collective_id, nina)
    assert json.loads(founded.details) == {"base_currency": "PHP", "name": "Nina's Co-op",
                                           "slug": "ninas"}
    # A refused registration records nothing.
    client.post("/register", data={"name": "X", "email": "nina@example.com",
                                   "password": "long enough pw", "confirm": "long enough pw",
                                   "timezone": "UTC"})
    assert len(_events(setup, "account.registered")) == 1


def test_a_password_reset_request_is_recorded_against_the_account_only(client, setup):
    with setup():
        # example.org, not .test: the form's Email() refuses special-use domains.
        founder = make_collective(make_user(email="ana@example.org"))
        commit()
        user_id, email = founder.user_id, founder.user.email
    for address in (email, "nobody@example.org"):
        response = client.post("/password/forgot", data={"email": address},
                               environ_base={"REMOTE_ADDR": "198.51.100.7"})
        assert response.status_code == 302
    [asked] = _events(setup, "account.password_reset_requested")
    assert (asked.subject_id, asked.actor_user_id, asked.ip) == (user_id, None,
                                                                  "198.51.100.7")


def test_a_withdrawn_proposal_is_recorded(ctx):
    founder = make_collective()
    proposal = proposals.open_proposal(
        founder, kind="share_rule", title="More for the fund",
        payload={"common_fund_bp": 2000, "finder_fee_bp": 0, "method": "equal",
                 "effective_on": (now_utc().date() + timedelta(days=40)).isoformat()},
        now=now_utc())
    proposals.withdraw_proposal(founder, proposal, now=now_utc())
    [event] = db.session.scalars(sa.select(AuditEvent).filter_by(action="proposal.withdrawn"))
    assert (event.collective_id, event.subject_id, event.actor_user_id) == (
        founder.collective_id, proposal.id, founder.user_id)
    assert json.loads(event.details) == {"kind": "share_rule", "title": "More for the fund"}


def test_a_ledger_export_from_the_command_line_is_recorded(runner, setup, tmp_path):
    with setup():
        founder = make_collective()
        commit()
        slug, collective_id = founder.collective.slug, founder.collective_id
    output = tmp_path / "ledger.csv"
    result = runner.invoke(args=["reports", "export-ledger", "--collective", slug,
                                 "--from", "2026-01-01", "--to", "2026-01-31",
                                 "--output", str(output)])
    assert result.exit_code == 0, result.output
    [event] = _events(setup, "export.ledger")
    assert (event.collective_id, event.actor_user_id, event.ip) == (collective_id, None, None)
    assert json.loads(event.details) == {
        "date_from": "2026-01-01", "date_to": "2026-01-31", "format": "csv",
        "output": str(output), "preset": "accounting", "via": "command"}
    # A refused export records nothing.
    runner.invoke(args=["reports", "export-ledger", "--collective", slug, "--from",
                        "2026-02-01", "--to", "2026-01-01", "--output", str(output)])
    assert len(_events(setup, "export.ledger")) == 1


@pytest.mark.parametrize("select_limit", [100, 1])
def test_the_member_filter_finds_removed_members(client, auth, setup, monkeypatch,
                                                 select_limit):
    from collective.members import pickers
    monkeypatch.setattr(pickers, "SELECT_LIMIT", select_limit)
    with setup():
        founder = make_collective()
        gone = make_member(founder.collective, user=None)
        services.set_status(founder, gone, MembershipStatus.REMOVED, note="moved on")
        commit()
        slug, email, gone_id, name = (founder.collective.slug, founder.user.email, gone.id,
                                      gone.user.name)
    auth.login(email)
    page = client.get(f"/c/{slug}/audit?member={gone_id}").get_data(as_text=True)
    assert "membership.status_changed" in page and "No events match" not in page
    if select_limit == 1:  # a search box: the typed name finds them, and so does the search
        page = client.get(f"/c/{slug}/audit?member={name}").get_data(as_text=True)
        assert "membership.status_changed" in page
        found = client.get(f"/c/{slug}/members/search?q={name}&removed=1").get_json()
        assert [(m["id"], m["name"]) for m in found["members"]] == [
            (gone_id, f"{name} (removed)")]
        assert client.get(f"/c/{slug}/members/search?q={name}").get_json()["members"] == []
    else:
        assert f'<option value="{gone_id}">{name} (removed)</option>' in page.replace(
            " selected", "")
    with setup():
        assert db.session.get(Membership, gone_id).status == MembershipStatus.REMOVED


@pytest.mark.parametrize("choice, action", [("agree", "proposal.adopted"),
                                            ("disagree", "proposal.rejected")])
@pytest.mark.parametrize("kind", ["share rule", "benefit plan"])
def test_a_rule_or_plan_decided_by_the_vote_is_recorded(ctx, kind, choice, action):
    from collective.benefits.compute import PlanTerms
    from collective.benefits.plans import BENEFIT_PLANS
    from collective.demo.fund import BREAD_FUND
    from collective.pool.compute import RuleTerms
    from collective.pool.rules import SHARE_RULES

    terms_kind, founding, changed = {
        "share rule": (SHARE_RULES, RuleTerms(1000, 500, "hours"),
                       RuleTerms(800, 500, "weights")),
        "benefit plan": (BENEFIT_PLANS, PlanTerms.from_json(BREAD_FUND),
                         PlanTerms.from_json({**BREAD_FUND, "reserve_cap_months": 24})),
    }[kind]
    now = now_utc()
    founder = make_collective()
    founder.collective.quorum_bp = 0
    terms_kind.set_founding(founder, founding, now.date() - timedelta(days=60),
                            today=now.date())
    proposal = terms_kind.propose(founder, changed, effective_on=now.date(),
                                  today=now.date(), now=now - timedelta(days=7))
    proposals.cast_vote(founder, proposal, choice, now=now - timedelta(days=6))
    proposal.deadline_at = now - timedelta(hours=1)
    assert proposals.decide_proposal(proposal, now)
    [event] = db.session.scalars(sa.select(AuditEvent).filter_by(action=action))
    # The vote decided it, not a person: no actor.
    assert (event.collective_id, event.subject_id, event.actor_user_id) == (
        founder.collective_id, proposal.id, None)
    details = json.loads(event.details)
    assert (details["kind"], details["title"]) == (terms_kind.proposal_kind, proposal.title)
    assert details["outcome"] == proposal.outcome and details["outcome"]
    assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).where(
        AuditEvent.action.in_(["proposal.adopted", "proposal.rejected"]))) == 1

"""The audit log: each action is recorded once, through the real pages, with who did it, in
which collective and to what; a rolled-back change leaves no row; failed sign-ins are kept
(against the account, or against no one); the treasurers' page is theirs alone, filters, and
downloads as CSV."""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from flask import has_app_context

from collective.audit.models import AuditEvent
from collective.clock import now_utc, today_in
from collective.extensions import db
from collective.ledger import services as ledger
from collective.members import services
from collective.members.models import Collective, Invitation, Role
from collective.transactions import transaction
from tests.benefits.factories import deposit, found_fund, set_level
from tests.factories import PASSWORD, commit, make_collective, make_member, make_user

#: How the log page starts each event (its first cell).
EVENT_ROW = '<td data-label="When">'


@pytest.fixture(autouse=True)
def _the_app(app):
    global _APP
    _APP = app


_APP = None


def events(action: str | None = None) -> list[AuditEvent]:
    """The audit rows (of one action), oldest first, in the test's app context or one of
    their own (after a request through the client)."""
    query = sa.select(AuditEvent).order_by(AuditEvent.id)
    if action:
        query = query.where(AuditEvent.action == action)
    if has_app_context():
        return list(db.session.scalars(query))
    with _APP.app_context():
        return list(db.session.scalars(query))


def details(event: AuditEvent) -> dict:
    return json.loads(event.details)


def plain(membership) -> SimpleNamespace:
    """What a test needs of a membership once its session is gone."""
    return SimpleNamespace(id=membership.id, user_id=membership.user_id,
                           collective_id=membership.collective_id,
                           email=membership.user.email, name=membership.user.name,
                           slug=membership.collective.slug,
                           timezone=membership.collective.timezone)


@pytest.fixture
def team(setup):
    """A collective with its founder (every role) and a plain member; another collective
    with its own treasurer."""
    with setup():
        founder = make_collective()
        member = make_member(founder.collective)
        other = make_collective()
        commit()
        return plain(founder), plain(member), plain(other)


def _today(person) -> date:
    return today_in(person.timezone)


def test_a_role_change_is_recorded_once_with_its_actor_and_subject(client, auth, team):
    founder, member, _ = team
    auth.login(founder.email)
    response = client.post(f"/c/{founder.slug}/members/{member.id}",
                           data={"roles-roles": ["member", "coordinator"],
                                 "roles-submit": "1"})
    assert response.status_code == 302

    [event] = events("membership.role_changed")
    assert (event.collective_id, event.actor_user_id) == (founder.collective_id,
                                                          founder.user_id)
    assert (event.subject_type, event.subject_id) == ("membership", member.id)
    assert details(event) == {"member": member.name, "before": ["member"],
                              "after": ["coordinator", "member"]}
    assert event.ip == "127.0.0.1"


def test_a_status_change_is_recorded(client, auth, team):
    founder, member, _ = team
    auth.login(founder.email)
    client.post(f"/c/{founder.slug}/members/{member.id}",
                data={"status-status": "paused", "status-note": "travelling"})
    [event] = events("membership.status_changed")
    assert (event.subject_type, event.subject_id) == ("membership", member.id)
    assert details(event) == {"member": member.name, "before": "active",
                              "after": "paused", "note": "travelling"}


def test_a_refused_role_change_leaves_no_audit_row(client, auth, team):
    founder, _, _ = team
    auth.login(founder.email)
    # The last treasurer may not drop the role: refused, rolled back.
    response = client.post(f"/c/{founder.slug}/members/{founder.id}",
                           data={"roles-roles": ["member"], "roles-submit": "1"})
    assert response.status_code == 200
    assert "last active treasurer" in response.get_data(as_text=True)
    assert events("membership.role_changed") == []


def test_a_change_rolled_back_after_it_was_recorded_leaves_no_audit_row(ctx):
    founder = make_collective()
    member = make_member(founder.collective)
    commit()
    with pytest.raises(RuntimeError), transaction():
        services.set_roles(founder, member, ["member", "coordinator"])
        assert len(events("membership.role_changed")) == 1  # recorded in the transaction
        raise RuntimeError("something after it failed")
    assert events("membership.role_changed") == []
    assert db.session.get(type(member), member.id).roles == frozenset({Role.MEMBER})


def test_invitations_sent_renewed_revoked_and_accepted_are_recorded(client, auth, setup,
                                                                   team):
    founder, _, _ = team
    slug = founder.slug
    with setup():
        guest = make_user(email="guest@example.test")
        commit()
        guest = SimpleNamespace(id=guest.id, email=guest.email)
    auth.login(founder.email)
    page = client.post(f"/c/{slug}/invitations", data={"email": "", "roles": ["member"]})
    link = re.search(r"https?://[^\s\"<]+/invite/[\w-]+", page.get_data(as_text=True))[0]
    [sent] = events("invitation.sent")
    assert (sent.collective_id, sent.actor_user_id, sent.subject_type) == (
        founder.collective_id, founder.user_id, "invitation")
    assert details(sent)["roles"] == "member"
    assert not any("token" in key for key in details(sent))

    again = client.post(f"/c/{slug}/invitations", data={"email": "x@example.com",
                                                        "roles": ["member"]})
    assert again.status_code == 200, again.get_data(as_text=True)
    with _APP.app_context():
        second = db.session.scalar(sa.select(Invitation).where(
            Invitation.email == "x@example.com"))
    client.post(f"/c/{slug}/invitations/{second.id}/renew")
    client.post(f"/c/{slug}/invitations/{second.id}/revoke")
    [renewed], [revoked] = events("invitation.renewed"), events("invitation.revoked")
    assert renewed.subject_id == revoked.subject_id == second.id
    assert revoked.actor_user_id == founder.user_id

    auth.logout()
    auth.login(guest.email)
    token = link.rsplit("/", 1)[1]
    assert client.post(f"/invite/{token}").status_code == 302
    [accepted] = events("invitation.accepted")
    assert (accepted.collective_id, accepted.actor_user_id, accepted.subject_id) == (
        founder.collective_id, guest.id, sent.subject_id)


def test_sign_ins_and_failed_sign_ins_are_recorded(client, auth, team):
    founder, member, other = team
    auth.login(member.email, "not the password")
    auth.login("nobody@example.test", "whatever it is")
    auth.login("my secret passphrase", "oops")  # a password typed in the e-mail field
    auth.login(member.email)

    failed = events("account.login_failed")
    assert [(e.collective_id, e.actor_user_id, e.subject_type, e.subject_id)
            for e in failed] == [(None, None, "user", member.user_id),
                                 (None, None, None, None), (None, None, None, None)]
    assert [details(e)["email"] for e in failed] == [member.email,
                                                     "nobody@example.test", ""]
    assert all(e.ip == "127.0.0.1" for e in failed)
    [signed_in] = events("account.signed_in")
    assert (signed_in.actor_user_id, signed_in.subject_id) == (member.user_id,
                                                               member.user_id)
    assert "not the password" not in " ".join(e.details for e in events())

    # The member's collective's treasurer sees the failed sign-in; the other one does not.
    auth.login(founder.email)
    mine = client.get(f"/c/{founder.slug}/audit?action=account.login_failed")
    assert mine.get_data(as_text=True).count("account.login_failed ·") == 1
    auth.login(other.email)
    theirs = client.get(f"/c/{other.slug}/audit?action=account.login_failed")
    assert "account.login_failed ·" not in theirs.get_data(as_text=True)


def test_the_user_agent_is_kept_cut_short(client, team):
    _, member, _ = team
    client.post("/login", data={"email": member.email, "password": "wrong"},
                headers={"User-Agent": "A" * 500})
    [event] = events("account.login_failed")
    assert event.user_agent == "A" * 200


def test_password_changes_and_resets_are_recorded(client, auth, team):
    _, member, _ = team
    auth.login(member.email)
    client.post("/account/password", data={"current_password": PASSWORD,
                                           "password": "a new long password",
                                           "confirm": "a new long password"})
    [changed] = events("account.password_changed")
    assert (changed.collective_id, changed.actor_user_id, changed.subject_id) == (
        None, member.user_id, member.user_id)
    assert changed.details == "{}"


def test_an_email_change_is_recorded_when_the_link_is_followed(ctx):
    from collective.members import confirmations

    user = make_user(email="old@example.test")
    token = confirmations.make_confirmation_token(user, "new@example.test", now_utc())
    confirmations.confirm_address(token, now_utc())
    [event] = events("account.email_changed")
    assert (event.subject_id, event.actor_user_id) == (user.id, user.id)
    assert details(event) == {"before": "old@example.test", "after": "new@example.test"}


def test_a_password_reset_is_recorded(ctx):
    from collective.members import resets

    user = make_user()
    token = resets.make_reset_token(user, now_utc())
    resets.reset_password(token, "another long password", now_utc())
    [event] = events("account.password_reset")
    assert (event.subject_id, event.actor_user_id, event.collective_id) == (user.id, user.id,
                                                                           None)


@pytest.fixture
def fund(setup):
    """A fund of three with money in it: the founder, Ann (owed 50.00), Bob."""
    with setup():
        founder, ann, bob = found_fund(3)
        for person in (founder, ann, bob):
            deposit(founder, person, 5_000)
        commit()
        return plain(founder), plain(ann), plain(bob)


def test_a_manual_payout_and_a_reversal_are_recorded(client, auth, fund):
    founder, ann, _ = fund
    slug = founder.slug
    auth.login(founder.email)
    today = _today(founder)
    response = client.post(f"/c/{slug}/pool/payouts", data={
        "one-membership_id": ann.id, "one-amount": "20.00", "one-paid_on": today.isoformat(),
        "one-reference": "TR-1", "one-request_key": "k" * 32})
    assert response.status_code == 302
    [payout] = events("payout.posted")
    assert (payout.collective_id, payout.actor_user_id, payout.subject_type) == (
        founder.collective_id, founder.user_id, "journal_entry")
    assert details(payout)["amount"] == 2_000 and details(payout)["reference"] == "TR-1"
    # The same form sent again pays once, and is recorded once.
    client.post(f"/c/{slug}/pool/payouts", data={
        "one-membership_id": ann.id, "one-amount": "20.00", "one-paid_on": today.isoformat(),
        "one-reference": "TR-1", "one-request_key": "k" * 32})
    assert len(events("payout.posted")) == 1

    response = client.post(f"/c/{slug}/ledger/entries/{payout.subject_id}",
                           data={"memo": "paid twice by mistake"})
    assert response.status_code == 302
    [reversal] = events("entry.reversed")
    assert reversal.actor_user_id == founder.user_id
    assert details(reversal)["reverses_entry_id"] == payout.subject_id
    with _APP.app_context():
        posted = ledger.find_entry(founder.collective_id, f"reversal:{payout.subject_id}")
        assert posted.id == reversal.subject_id


def test_deposits_recorded_by_a_service_have_the_acting_treasurer(fund):
    founder, ann, _ = fund
    deposits = [e for e in events("deposit.recorded") if e.collective_id == founder.collective_id]
    assert len(deposits) == 3
    assert {e.actor_user_id for e in deposits} == {founder.user_id}
    assert details(deposits[1])["member"] == ann.name


def test_a_claim_decision_is_recorded(client, auth, setup):
    from collective.benefits import claims, runs

    with setup():
        founder, ann, _ = found_fund(3, start=date(2026, 7, 1))
        set_level(ann, 100_000, start=date(2026, 7, 1))
        deposit(founder, ann, 100_000, on=date(2026, 7, 1))
        runs.run_contributions(founder.collective_id, date(2026, 7, 1),
                               today=date(2026, 8, 2))
        claim = claims.file_claim(ann, kind="sick", start_period=date(2026, 8, 1), months=2,
                                  today=date(2026, 8, 3), now=now_utc())
        commit()
        founder, claim = plain(founder), SimpleNamespace(id=claim.id)
    auth.login(founder.email)
    response = client.post(f"/c/{founder.slug}/fund/claims/{claim.id}/decide",
                           data={"decision": "reject", "reason": "Not covered."})
    assert response.status_code == 302
    [event] = events("claim.rejected")
    assert (event.actor_user_id, event.subject_type, event.subject_id) == (
        founder.user_id, "claim", claim.id)
    assert details(event)["reason"] == "Not covered."


def test_a_fund_run_by_the_scheduler_is_recorded_without_an_actor(ctx):
    from collective.benefits import runs

    founder, ann, _ = found_fund(3)
    deposit(founder, ann, 5_000)
    runs.run_contributions(founder.collective_id, date(2026, 1, 1), today=date(2026, 2, 3))
    [event] = events("fund_run.posted")
    assert (event.collective_id, event.actor_user_id, event.ip) == (founder.collective_id,
                                                                    None, None)
    assert details(event)["period"] == "2026-01"
    assert details(event)["kind"] == "contributions"


def test_ledger_and_statement_downloads_are_recorded(client, auth, fund):
    founder, ann, _ = fund
    slug = founder.slug
    auth.login(founder.email)
    response = client.get(f"/c/{slug}/reports/ledger?format=csv&preset=accounting"
                          "&date_from=2026-01-01&date_to=2026-01-31")
    assert response.status_code == 200
    assert response.get_data(as_text=True).startswith("date")
    [export] = events("export.ledger")
    assert (export.collective_id, export.actor_user_id) == (founder.collective_id,
                                                            founder.user_id)
    assert details(export)["date_from"] == "2026-01-01"

    response = client.get(f"/c/{slug}/reports/statement.csv?date_from=2026-01-01"
                          f"&date_to=2026-01-31&member={ann.id}")
    assert response.status_code == 200
    assert response.get_data(as_text=True).count("\n") >= 1  # read to its end
    [statement] = events("export.statement")
    assert (statement.subject_type, statement.subject_id) == ("membership", ann.id)
    # A page that only shows a statement records nothing.
    client.get(f"/c/{slug}/reports/statement?date_from=2026-01-01&date_to=2026-01-31")
    assert len(events("export.statement")) == 1


def test_the_database_refuses_to_change_or_delete_audit_rows(ctx):
    founder = make_collective()
    member = make_member(founder.collective)
    services.set_roles(founder, member, ["member", "coordinator"])
    db.session.flush()
    [event] = events("membership.role_changed")
    for statement in (f"UPDATE audit_events SET action = 'x' WHERE id = {event.id}",
                      f"DELETE FROM audit_events WHERE id = {event.id}",
                      "DELETE FROM audit_events"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.session.begin_nested():
            db.session.execute(sa.text(statement))
    if db.engine.dialect.name == "sqlite":
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), db.session.begin_nested():
            db.session.execute(sa.text(
                "INSERT OR REPLACE INTO audit_events (id, occurred_at, action, details) "
                f"VALUES ({event.id}, '2026-01-01', 'x', '{{}}')"))
    db.session.expire_all()
    assert events("membership.role_changed")[0].action == "membership.role_changed"


def test_details_never_hold_secrets(ctx):
    from collective import audit

    with pytest.raises(ValueError, match="no secrets"):
        audit.record("account.password_changed", new_password="hunter2")
    with pytest.raises(ValueError, match="unknown audit action"):
        audit.record("made.up")


# --- The page ------------------------------------------------------------------------------


def test_only_the_collectives_treasurers_open_its_audit_log(client, auth, team):
    founder, member, other = team
    slug = founder.slug
    auth.login(member.email)
    assert client.get(f"/c/{slug}/audit").status_code == 403
    assert client.get(f"/c/{slug}/audit.csv").status_code == 403
    auth.login(other.email)
    assert client.get(f"/c/{slug}/audit").status_code == 404
    assert client.get(f"/c/{slug}/audit.csv").status_code == 404
    auth.login(founder.email)
    page = client.get(f"/c/{slug}/audit")
    assert page.status_code == 200
    assert ">Audit log</a>" in page.get_data(as_text=True)  # in the treasurer's menu


def test_another_collectives_treasurer_sees_none_of_its_events(client, auth, team):
    founder, member, other = team
    auth.login(founder.email)
    client.post(f"/c/{founder.slug}/members/{member.id}",
                data={"roles-roles": ["member", "coordinator"], "roles-submit": "1"})
    auth.login(other.email)
    html = client.get(f"/c/{other.slug}/audit").get_data(as_text=True)
    table = html[html.index("<tbody>"):]
    assert "membership.role_changed" not in table and member.name not in table
    text = client.get(f"/c/{other.slug}/audit.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {row["action"] for row in rows} <= {"account.registered", "account.signed_in",
                                               "collective.created", "export.audit_log"}
    assert all(row["actor_user_id"] in ("", str(other.user_id)) for row in rows)


def test_the_log_filters_by_action_member_and_days(client, auth, setup, team):
    founder, member, _ = team
    slug = founder.slug
    with setup():
        third = make_member(db.session.get(Collective, founder.collective_id))
        commit()
        third = plain(third)
    auth.login(founder.email)
    for who in (member, third):
        client.post(f"/c/{slug}/members/{who.id}",
                    data={"status-status": "paused", "status-note": ""})
    base = f"/c/{slug}/audit"

    def shown(query: str) -> int:
        return client.get(f"{base}?{query}").get_data(as_text=True).count(EVENT_ROW)

    assert shown("action=membership.status_changed") == 2
    assert shown(f"action=membership.status_changed&member={member.id}") == 1
    # The founder's registration, the founding, their sign-in and both status changes.
    assert shown(f"member={founder.id}") == 5
    today = _today(founder)
    assert shown(f"action=membership.status_changed&date_from={today}&date_to={today}") == 2
    yesterday = today - timedelta(days=1)
    assert shown(f"action=membership.status_changed&date_to={yesterday}") == 0
    # A range ending before it starts, or an unknown action: a form error, not a 500.
    assert client.get(f"{base}?date_from={today}&date_to={yesterday}").status_code == 422
    assert client.get(f"{base}?action=drop.tables").status_code == 422
    assert client.get(f"{base}?page=x").status_code == 200
    assert client.get(f"{base}?slug=other&page=2&member=abc").status_code == 422
    assert client.get(f"{base}?member=99999999999999999999").status_code == 422


def test_the_log_shows_fifty_events_a_page(client, auth, setup, team, monkeypatch):
    from collective.members import audit_views

    monkeypatch.setattr(audit_views, "AUDIT_PAGE", 2)
    founder, member, _ = team
    slug = founder.slug
    auth.login(founder.email)
    for status in ("paused", "active", "paused"):
        client.post(f"/c/{slug}/members/{member.id}",
                    data={"status-status": status, "status-note": ""})
    base = f"/c/{slug}/audit"
    first = client.get(f"{base}?action=membership.status_changed").get_data(as_text=True)
    second = client.get(f"{base}?action=membership.status_changed&page=2").get_data(
        as_text=True)
    assert first.count(EVENT_ROW) == 2 and second.count(EVENT_ROW) == 1
    assert "page=2" in first and "Older events" in first
    assert "Older events" not in second and "Newer events" in second


def test_the_csv_holds_the_filtered_events_with_formulas_neutralised(client, auth, setup,
                                                                     team):
    founder, _, _ = team
    slug = founder.slug
    with setup():
        sly = make_member(db.session.get(Collective, founder.collective_id),
                          user=make_user(name="=HYPERLINK(\"x\")"))
        commit()
        sly = plain(sly)
    auth.login(sly.email)  # a sign-in: the actor's name starts with "="
    auth.login(founder.email)
    client.post(f"/c/{slug}/members/{sly.id}",
                data={"status-status": "paused", "status-note": "+1 formula"})
    response = client.get(f"/c/{slug}/audit.csv?member={sly.id}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == \
        f'attachment; filename="{slug}-audit-log.csv"'
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [row["action"] for row in rows] == ["membership.status_changed",
                                               "account.signed_in", "account.registered"]
    assert rows[1]["actor"] == "'=HYPERLINK(\"x\")"
    assert rows[0]["actor"] == founder.name
    assert json.loads(rows[0]["details"])["note"] == "+1 formula"
    assert rows[0]["ip"] == "127.0.0.1"
    # The download is recorded, with the filter it used.
    [download] = events("export.audit_log")
    assert (download.actor_user_id, details(download)["filter_membership"]) == (
        founder.user_id, sly.id)

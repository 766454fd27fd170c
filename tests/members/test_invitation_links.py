"""Invitation links a manager can resend (a new link and expiry) or revoke, which name the
collective and who invited you, and which, when they name an e-mail address, only that
account can accept."""
from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest

from collective.errors import Conflict, NotAllowed, NotFound
from collective.extensions import db
from collective.members import invitations, services
from collective.members.invitations import NotTheRecipient
from collective.members.models import Invitation, Role, User
from tests.factories import commit, make_collective, make_member, make_user

DAY = timedelta(days=1)
NOW = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)
_LINK = re.compile(r'value="https?://[^/"]+(/invite/[^"]+)"')


@pytest.fixture
def team(ctx):
    founder = make_collective()
    return {"founder": founder,
            "coordinator": make_member(founder.collective, roles=(Role.MEMBER,
                                                                  Role.COORDINATOR)),
            "member": make_member(founder.collective)}


def test_only_the_named_account_accepts_an_invitation_that_names_an_address(team):
    _, token = invitations.create_invitation(team["coordinator"], email="Joy@Example.test",
                                             roles=["member"], ttl=DAY, now=NOW)
    stranger = make_user(email="someone@example.test")
    with pytest.raises(NotTheRecipient, match=r"for j\*\*@example.test, and you are signed "
                                               r"in as someone@example.test") as refused:
        invitations.accept_invitation(token, stranger, NOW)
    assert refused.value.status == 403
    assert services.membership_in(stranger.id, team["founder"].collective.slug) is None
    joy = make_user(email="joy@example.test")
    assert invitations.accept_invitation(token, joy, NOW).user_id == joy.id


def test_an_invitation_without_an_address_is_for_anyone_with_the_link(team):
    _, token = invitations.create_invitation(team["coordinator"], email="", roles=["member"],
                                             ttl=DAY, now=NOW)
    assert invitations.accept_invitation(token, make_user(), NOW) is not None


def test_a_revoked_invitation_cannot_be_accepted_and_leaves_the_list(team):
    invitation, token = invitations.create_invitation(team["coordinator"], email="",
                                                      roles=["member"], ttl=DAY, now=NOW)
    invitations.revoke_invitation(team["coordinator"], invitation.id, now=NOW)
    assert (invitation.revoked_at, invitation.revoked_by_id) == (
        NOW, team["coordinator"].user_id)
    with pytest.raises(Conflict, match="revoked"):
        invitations.accept_invitation(token, make_user(), NOW)
    assert invitations.pending_invitations(invitation.collective_id) == []
    assert invitations.open_invitations(invitation.collective_id, NOW) == []
    with pytest.raises(Conflict, match="revoked already"):
        invitations.revoke_invitation(team["coordinator"], invitation.id, now=NOW)


def test_renewing_gives_a_new_link_and_expiry_and_the_old_link_stops(team):
    invitation, old = invitations.create_invitation(team["coordinator"], email="",
                                                    roles=["member"], ttl=DAY, now=NOW)
    later = NOW + 3 * DAY  # the first link has expired by now
    assert invitations.pending_invitations(invitation.collective_id) == [invitation]
    _, new = invitations.renew_invitation(team["coordinator"], invitation.id, ttl=DAY,
                                          now=later)
    assert new != old
    assert invitation.expires_at == later + DAY
    with pytest.raises(NotFound):
        invitations.find_invitation(old, later)
    assert invitations.find_invitation(new, later) == invitation


def test_only_managers_revoke_or_renew_and_treasurer_links_need_a_treasurer(team):
    member_link, _ = invitations.create_invitation(team["founder"], email="",
                                                   roles=["member"], ttl=DAY, now=NOW)
    treasurer_link, _ = invitations.create_invitation(
        team["founder"], email="", roles=["member", "treasurer"], ttl=DAY, now=NOW)
    with pytest.raises(NotAllowed):
        invitations.revoke_invitation(team["member"], member_link.id, now=NOW)
    with pytest.raises(NotAllowed):
        invitations.renew_invitation(team["member"], member_link.id, ttl=DAY, now=NOW)
    with pytest.raises(NotAllowed, match="treasurer"):
        invitations.revoke_invitation(team["coordinator"], treasurer_link.id, now=NOW)
    other = make_collective()
    with pytest.raises(NotFound):
        invitations.revoke_invitation(other, member_link.id, now=NOW)
    assert member_link.revoked_at is None and treasurer_link.revoked_at is None


def test_a_used_invitation_can_be_neither_revoked_nor_renewed(team):
    invitation, token = invitations.create_invitation(team["coordinator"], email="",
                                                      roles=["member"], ttl=DAY, now=NOW)
    invitations.accept_invitation(token, make_user(), NOW)
    with pytest.raises(Conflict, match="already been used"):
        invitations.revoke_invitation(team["coordinator"], invitation.id, now=NOW)
    with pytest.raises(Conflict, match="already been used"):
        invitations.renew_invitation(team["coordinator"], invitation.id, ttl=DAY, now=NOW)


# --- Pages --------------------------------------------------------------------------------


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def site(setup):
    with setup():
        founder = make_collective()
        founder.user.name = "Maria Santos"
        commit()
        return {"slug": founder.collective.slug, "name": founder.collective.name,
                "founder_email": founder.user.email}


def _invite(client, site, email: str = "") -> str:
    page = client.post(f"/c/{site['slug']}/invitations",
                       data={"email": email, "roles": ["member"]})
    assert page.status_code == 200
    return _LINK.search(page.get_data(as_text=True)).group(1)


def test_the_link_is_selectable_and_has_a_copy_button(auth, client, site):
    auth.login(site["founder_email"])
    page = client.post(f"/c/{site['slug']}/invitations", data={"roles": ["member"]})
    text = page.get_data(as_text=True)
    assert re.search(r'<input id="invitation-link"[^>]* readonly value="http[^"]+/invite/', text)
    assert 'data-copy="invitation-link"' in text and "copy.js" in text
    assert client.get("/static/copy.js").status_code == 200


def test_the_invitation_page_names_the_collective_and_who_invited(auth, client, setup, site):
    auth.login(site["founder_email"])
    link = _invite(client, site)
    auth.logout()
    with setup():
        email = make_user().email
        commit()
    auth.login(email)
    page = _text(client.get(link))
    assert f"Maria Santos invites you to join {site['name']} as member" in re.sub(
        r"<[^>]+>", "", page)
    assert "Accept and join" in page


def test_someone_not_signed_in_sees_the_invitation_and_is_offered_an_account(auth, client,
                                                                               site):
    auth.login(site["founder_email"])
    link = _invite(client, site, "ben@example.com")
    auth.logout()

    page = _text(client.get(link))

    text = re.sub(r"<[^>]+>", "", page)
    assert f"Maria Santos invites you to join {site['name']} as member" in text
    path = link[link.index("/invite/"):]
    register = re.search(r'<a class="button" href="([^"]+)">Create an account</a>', page)
    assert register and f"next={path}" in register.group(1)
    assert "email=ben@example.com" in register.group(1)
    assert f'href="/login?next={path}"' in page
    # The register form comes with the invited address filled in.
    form = _text(client.get(register.group(1)))
    assert re.search(r'<input[^>]*name="email"[^>]*value="ben@example.com"', form)
    # Accepting still needs an account: a POST goes to sign in and joins nobody.
    refused = client.post(link, data={})
    assert refused.status_code == 302 and "/login" in refused.headers["Location"]


def test_the_wrong_account_is_told_why_and_cannot_join(auth, client, setup, site):
    auth.login(site["founder_email"])
    link = _invite(client, site, "joy@example.com")
    auth.logout()
    with setup():
        email = make_user(email="carmen@example.test").email
        commit()
    auth.login(email)
    page = client.get(link)
    assert page.status_code == 403
    text = _text(page)
    assert "this invitation is for j**@example.com, and you are signed in as " \
           "carmen@example.test" in text
    assert "Accept and join" not in text
    assert client.post(link).status_code == 403
    # Its button signs out and comes back to the link once the right account signs in.
    assert f'name="next" value="{link}"' in text
    signed_out = client.post("/logout", data={"next": link})
    assert signed_out.headers["Location"] == f"/login?next={link}"
    with setup():
        joined = services.memberships_of(db.session.scalar(
            db.select(User).filter_by(email=email)))
        assert joined == []


def test_resend_shows_a_new_link_and_revoke_stops_it(auth, client, setup, site):
    auth.login(site["founder_email"])
    first = _invite(client, site)
    with setup():
        invitation_id = db.session.scalar(db.select(Invitation.id).join(Invitation.collective)
                                          .filter_by(slug=site["slug"]))
    listed = _text(client.get(f"/c/{site['slug']}/invitations"))
    assert "Resend (new link)" in listed and "Revoke" in listed and "Maria Santos" in listed
    renewed = client.post(f"/c/{site['slug']}/invitations/{invitation_id}/renew")
    assert renewed.status_code == 200
    second = _LINK.search(renewed.get_data(as_text=True)).group(1)
    assert second != first
    assert "the old link no longer works" in _text(renewed)
    revoked = client.post(f"/c/{site['slug']}/invitations/{invitation_id}/revoke")
    assert revoked.status_code == 302
    assert "Pending invitations" in _text(client.get(revoked.headers["Location"]))
    auth.logout()
    with setup():
        email = make_user().email
        commit()
    auth.login(email)
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 409

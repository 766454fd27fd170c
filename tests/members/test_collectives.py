"""Collectives, invitations, roles, pause and removal, profiles and the member pages."""
import hashlib
import html
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from collective.errors import Conflict, DomainError, NotAllowed, NotFound
from collective.extensions import db
from collective.ledger.models import AccountType
from collective.ledger.services import member_account
from collective.members import accounts, invitations, services
from collective.members.models import (
    Collective,
    Invitation,
    Membership,
    MembershipStatus,
    Role,
    User,
)
from tests.factories import commit, make_collective, make_member, make_user

EVERY_ROLE = {Role.MEMBER, Role.COORDINATOR, Role.TREASURER}
DAY = timedelta(days=1)
NOW = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)
_ERROR = re.compile(r'<p class="error" role="alert">(.*?)</p>', re.S)


def _errors(response) -> list[str]:
    """The form error messages shown on a page, unescaped."""
    return [html.unescape(e.strip()) for e in _ERROR.findall(response.get_data(as_text=True))]


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


# --- Creating a collective --------------------------------------------------------------


def test_founder_holds_every_role_in_a_new_collective(ctx):
    founder = make_user()

    membership = services.create_collective(founder, name="  Harbour Makers ",
                                            slug="Harbour-Makers", base_currency="php",
                                            timezone="Asia/Manila")

    assert membership.roles == EVERY_ROLE
    assert membership.user_id == founder.id
    assert membership.status == MembershipStatus.ACTIVE
    collective = membership.collective
    assert (collective.name, collective.slug, collective.base_currency, collective.timezone) == (
        "Harbour Makers", "harbour-makers", "PHP", "Asia/Manila")
    assert member_account(membership.id).collective_id == collective.id


def _collective_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Collective.id)))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"slug": "Bad Slug!"}, "slug"),
        ({"slug": "-leading-dash"}, "slug"),
        ({"slug": "trailing-dash-"}, "slug"),
        ({"slug": "x" * 41}, "slug"),
        ({"slug": ""}, "slug"),
        ({"base_currency": "XYZ"}, "base_currency"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"name": "   "}, "name"),
    ],
)
def test_create_collective_rejects_bad_input_naming_the_field(ctx, changes, field):
    founder = make_user()
    before = _collective_count()
    arguments = {"name": "Harbour", "slug": "harbour", "base_currency": "USD",
                 "timezone": "UTC", **changes}

    with pytest.raises(DomainError) as caught:
        services.create_collective(founder, **arguments)

    assert caught.value.field == field
    assert _collective_count() == before


def test_create_collective_refuses_a_taken_slug(ctx):
    make_collective(slug="taken")
    before = _collective_count()

    with pytest.raises(Conflict) as caught:
        services.create_collective(make_user(), name="Other", slug="Taken",
                                   base_currency="USD", timezone="UTC")

    assert caught.value.field == "slug"
    assert _collective_count() == before


# --- Invitations ------------------------------------------------------------------------


@pytest.fixture
def team(ctx):
    """A collective with its founder (every role), a coordinator and a plain member."""
    founder = make_collective()
    collective = founder.collective
    return {
        "collective": collective,
        "founder": founder,
        "coordinator": make_member(collective, roles=(Role.MEMBER, Role.COORDINATOR)),
        "member": make_member(collective),
    }


def test_coordinator_creates_an_invitation_whose_token_is_not_stored(team):
    invitation, token = invitations.create_invitation(
        team["coordinator"], email=" New@Example.test ", roles=["member", "coordinator"],
        ttl=DAY, now=NOW)

    assert invitation.collective_id == team["collective"].id
    assert invitation.email == "new@example.test"
    assert invitation.role_set == {Role.MEMBER, Role.COORDINATOR}
    assert invitation.created_by_id == team["coordinator"].user_id
    assert invitation.accepted_at is None
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in invitation.token_hash
    assert invitations.open_invitations(team["collective"].id, NOW) == [invitation]


def test_accepting_an_invitation_adds_a_membership_and_a_payable_account(team):
    invitation, token = invitations.create_invitation(
        team["founder"], email="", roles=[Role.MEMBER, Role.TREASURER], ttl=DAY, now=NOW)
    newcomer = make_user()

    membership = invitations.accept_invitation(token, newcomer, NOW)

    assert membership.collective_id == team["collective"].id
    assert membership.user_id == newcomer.id
    assert membership.roles == {Role.MEMBER, Role.TREASURER}
    assert membership.status == MembershipStatus.ACTIVE
    account = member_account(membership.id)
    assert account.collective_id == team["collective"].id
    assert account.type == AccountType.LIABILITY.value
    db.session.refresh(invitation)
    assert invitation.accepted_by_id == newcomer.id
    assert invitation.accepted_at is not None
    assert invitations.open_invitations(team["collective"].id, NOW) == []


def test_an_invitation_works_only_once(team):
    _, token = invitations.create_invitation(team["coordinator"], email="", roles=["member"],
                                          ttl=DAY, now=NOW)
    invitations.accept_invitation(token, make_user(), NOW)
    second = make_user()

    with pytest.raises(Conflict):
        invitations.accept_invitation(token, second, NOW)

    assert services.membership_in(second.id, team["collective"].slug) is None


def test_an_expired_invitation_cannot_be_accepted(team):
    _, token = invitations.create_invitation(team["coordinator"], email="", roles=["member"],
                                          ttl=timedelta(seconds=-1), now=NOW)
    latecomer = make_user()

    with pytest.raises(DomainError, match="expired") as caught:
        invitations.accept_invitation(token, latecomer, NOW)

    assert type(caught.value) is DomainError
    assert services.membership_in(latecomer.id, team["collective"].slug) is None


def test_member_choices_name_the_members_by_name_without_the_removed(ctx):
    founder = make_collective(founder=make_user(name="Mia Founder"))
    collective = founder.collective
    ana = make_member(collective, user=make_user(name="Ana Reyes"))
    paused = make_member(collective, user=make_user(name="Zoe Paused"))
    gone = make_member(collective, user=make_user(name="Bea Removed"))
    make_member(make_collective().collective, user=make_user(name="Elsewhere"))
    services.set_status(founder, paused, MembershipStatus.PAUSED)
    services.set_status(founder, gone, MembershipStatus.REMOVED)

    everyone = services.member_choices(collective.id)
    active = services.member_choices(collective.id, active_only=True)

    assert everyone == [(ana.id, "Ana Reyes"), (founder.id, "Mia Founder"),
                        (paused.id, "Zoe Paused")]
    assert active == [(ana.id, "Ana Reyes"), (founder.id, "Mia Founder")]


def test_an_unknown_token_is_not_found(team):
    with pytest.raises(NotFound):
        invitations.accept_invitation("not-a-real-token", make_user(), NOW)


def test_a_plain_member_cannot_invite(team):
    before = db.session.scalar(sa.select(sa.func.count(Invitation.id)))

    with pytest.raises(NotAllowed):
        invitations.create_invitation(team["member"], email="", roles=["member"], ttl=DAY, now=NOW)

    assert db.session.scalar(sa.select(sa.func.count(Invitation.id))) == before


def test_a_coordinator_who_is_not_treasurer_cannot_invite_a_treasurer(team):
    with pytest.raises(NotAllowed) as caught:
        invitations.create_invitation(team["coordinator"], email="",
                                   roles=["member", "treasurer"], ttl=DAY, now=NOW)

    assert caught.value.role == "treasurer"
    # The treasurer who founded the collective may.
    invitation, _ = invitations.create_invitation(team["founder"], email="",
                                               roles=["member", "treasurer"], ttl=DAY, now=NOW)
    assert invitation.role_set == {Role.MEMBER, Role.TREASURER}


# --- Roles and status -------------------------------------------------------------------


def test_coordinator_changes_a_members_roles(team):
    member = team["member"]

    services.set_roles(team["coordinator"], member, ["member", "coordinator"])

    db.session.expire_all()
    assert db.session.get(Membership, member.id).roles == {Role.MEMBER, Role.COORDINATOR}


def test_a_plain_member_cannot_change_roles(team):
    with pytest.raises(NotAllowed):
        services.set_roles(team["member"], team["coordinator"], ["member"])

    assert team["coordinator"].roles == {Role.MEMBER, Role.COORDINATOR}


def test_a_coordinator_who_is_not_treasurer_cannot_make_a_treasurer(team):
    with pytest.raises(NotAllowed):
        services.set_roles(team["coordinator"], team["member"], ["member", "treasurer"])

    assert team["member"].roles == {Role.MEMBER}


@pytest.mark.parametrize(
    "change",
    [
        lambda founder: services.set_roles(founder, founder, ["member", "coordinator"]),
        lambda founder: services.set_status(founder, founder, MembershipStatus.PAUSED, "leave"),
        lambda founder: services.set_status(founder, founder, "removed"),
    ],
    ids=["lose-role", "pause", "remove"],
)
def test_the_last_active_treasurer_stays(team, change):
    founder = team["founder"]

    with pytest.raises(DomainError) as caught:
        change(founder)

    assert caught.value.field == "roles"
    db.session.expire_all()
    founder = db.session.get(Membership, founder.id)
    assert founder.roles == EVERY_ROLE
    assert founder.status == MembershipStatus.ACTIVE


def test_with_two_treasurers_one_can_be_removed_but_not_the_second(team):
    founder = team["founder"]
    second = make_member(team["collective"], roles=(Role.MEMBER, Role.TREASURER))

    services.set_status(second, founder, MembershipStatus.REMOVED, "moved on")

    assert founder.status == MembershipStatus.REMOVED
    assert founder.status_note == "moved on"
    assert services.membership_in(founder.user_id, team["collective"].slug) is None
    with pytest.raises(DomainError) as caught:
        services.set_roles(second, second, ["member"])
    assert caught.value.field == "roles"
    assert Role.TREASURER in second.roles


def test_only_a_treasurer_may_take_the_treasurer_role_away_or_remove_one(team):
    second = make_member(team["collective"], roles=(Role.MEMBER, Role.TREASURER))
    with pytest.raises(NotAllowed):
        services.set_roles(team["coordinator"], second, ["member"])
    with pytest.raises(NotAllowed):
        services.set_status(team["coordinator"], second, MembershipStatus.REMOVED)
    assert Role.TREASURER in second.roles
    assert second.status == MembershipStatus.ACTIVE


def test_a_paused_treasurer_does_not_count_as_the_active_one(team):
    founder = team["founder"]
    second = make_member(team["collective"], roles=(Role.MEMBER, Role.TREASURER))
    services.set_status(founder, second, MembershipStatus.PAUSED)

    with pytest.raises(DomainError) as caught:
        services.set_status(second, founder, MembershipStatus.PAUSED)

    assert caught.value.field == "roles"
    assert founder.status == MembershipStatus.ACTIVE


# --- Profiles ---------------------------------------------------------------------------


def test_update_profile_stores_skills_lower_cased_with_levels(ctx):
    user = make_user()

    accounts.update_profile(user, name=" Ana Reyes ", timezone="Asia/Manila", country="ph",
                            skills={"Bookkeeping": 5, "  Tax   PREP ": 4})

    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert {s.name: s.level for s in user.skills} == {"bookkeeping": 5, "tax prep": 4}
    assert (user.name, user.timezone, user.country) == ("Ana Reyes", "Asia/Manila", "PH")


def test_update_profile_replaces_the_old_skills(ctx):
    user = make_user()
    accounts.update_profile(user, name="Ana", timezone="UTC", country=None,
                            skills={"bookkeeping": 5, "editing": 2})

    accounts.update_profile(user, name="Ana", timezone="UTC", country=None,
                            skills={"Editing": 4, "tax prep": 3})

    db.session.expire_all()
    skills = db.session.get(User, user.id).skills
    assert [(s.name, s.level) for s in skills] == [("editing", 4), ("tax prep", 3)]


def test_a_profile_post_without_the_skills_field_keeps_the_skills(client, auth, setup):
    # Found by tests/test_form_fuzz.py: the field fell back to the Skill rows, and parsing
    # them as text was a 500.
    with setup():
        user = make_user()
        accounts.update_profile(user, name="Ana", timezone="UTC", country=None,
                                skills={"bookkeeping": 5})
        commit()
        email, user_id = user.email, user.id
    auth.login(email)
    response = client.post("/account/profile", data={"name": "Ana Reyes", "timezone": "UTC"})
    assert response.status_code == 302
    with setup():
        user = db.session.get(User, user_id)
        assert user.name == "Ana Reyes"
        assert [(s.name, s.level) for s in user.skills] == [("bookkeeping", 5)]


@pytest.mark.parametrize("level", [6, 0, -1, "5", 2.5, True])
def test_update_profile_rejects_a_level_outside_one_to_five(ctx, level):
    user = make_user()
    accounts.update_profile(user, name="Ana", timezone="UTC", country=None,
                            skills={"bookkeeping": 3})

    with pytest.raises(DomainError) as caught:
        accounts.update_profile(user, name="Ana", timezone="UTC", country=None,
                                skills={"editing": 4, "Bookkeeping": level})

    assert caught.value.field == "skills"
    assert [(s.name, s.level) for s in user.skills] == [("bookkeeping", 3)]


# --- Pages: access ----------------------------------------------------------------------


@pytest.fixture
def site(setup):
    """A committed collective with a founder, a coordinator and a member; plain values only."""
    with setup():
        founder = make_collective()
        collective = founder.collective
        coordinator = make_member(collective, roles=(Role.MEMBER, Role.COORDINATOR))
        member = make_member(collective, hours=12)
        site = {
            "slug": collective.slug,
            "name": collective.name,
            "founder": founder.id,
            "founder_email": founder.user.email,
            "coordinator_email": coordinator.user.email,
            "member": member.id,
            "member_email": member.user.email,
            "member_name": member.user.name,
        }
        commit()
    return site


def _set_status(setup, actor_id: int, membership_id: int, status: MembershipStatus,
                note: str = "") -> None:
    with setup():
        services.set_status(db.session.get(Membership, actor_id),
                            db.session.get(Membership, membership_id), status, note)
        commit()


def _membership(setup, membership_id: int) -> tuple[str, int, frozenset]:
    with setup():
        m = db.session.get(Membership, membership_id)
        return m.status, m.weekly_capacity_hours, m.roles


def test_members_see_their_collective_home(auth, client, site):
    auth.login(site["member_email"])

    response = client.get(f"/c/{site['slug']}/", follow_redirects=True)

    assert response.status_code == 200
    assert f"<h1>{site['name']}</h1>" in response.get_data(as_text=True)


def test_outsiders_get_404_on_a_collective_home(auth, client, setup, site):
    with setup():
        outsider = make_user().email
        commit()
    auth.login(outsider)

    assert client.get(f"/c/{site['slug']}/").status_code == 404
    assert client.get(f"/c/{site['slug']}/members").status_code == 404


def test_a_removed_member_loses_the_collective(auth, client, setup, site):
    _set_status(setup, site["founder"], site["member"], MembershipStatus.REMOVED)
    auth.login(site["member_email"])

    assert client.get(f"/c/{site['slug']}/").status_code == 404
    assert client.get(f"/c/{site['slug']}/members").status_code == 404
    page = client.get("/collectives")
    assert page.status_code == 200
    assert site["name"] not in page.get_data(as_text=True)
    assert "You are not in a collective yet" in page.get_data(as_text=True)


def test_a_paused_member_still_sees_the_collective(auth, client, setup, site):
    _set_status(setup, site["founder"], site["member"], MembershipStatus.PAUSED,
                "parental leave")
    auth.login(site["member_email"])

    home = client.get(f"/c/{site['slug']}/", follow_redirects=True)
    assert home.status_code == 200
    assert "paused: parental leave" in home.get_data(as_text=True)
    assert site["name"] in client.get("/collectives").get_data(as_text=True)


@pytest.mark.parametrize("page", ["members/{member}", "invitations"])
def test_a_plain_member_gets_403_on_manager_pages(auth, client, site, page):
    auth.login(site["member_email"])

    url = f"/c/{site['slug']}/" + page.format(member=site["member"])

    assert client.get(url).status_code == 403
    assert client.post(url, data={"roles-roles": ["member", "coordinator"],
                                  "roles-submit": "1"}).status_code == 403


def test_a_plain_member_cannot_promote_themselves(auth, client, setup, site):
    auth.login(site["member_email"])

    client.post(f"/c/{site['slug']}/members/{site['member']}",
                data={"roles-roles": ["member", "coordinator"], "roles-submit": "1"})

    assert _membership(setup, site["member"])[2] == {Role.MEMBER}


@pytest.mark.parametrize("page", ["members/{member}", "invitations"])
def test_a_coordinator_may_open_manager_pages(auth, client, site, page):
    auth.login(site["coordinator_email"])

    url = f"/c/{site['slug']}/" + page.format(member=site["member"])

    assert client.get(url).status_code == 200


def test_coordinator_changes_roles_through_the_manage_page(auth, client, setup, site):
    auth.login(site["coordinator_email"])

    response = client.post(f"/c/{site['slug']}/members/{site['member']}",
                           data={"roles-roles": ["member", "coordinator"], "roles-submit": "1"})

    assert response.status_code == 302
    assert response.headers["Location"] == f"/c/{site['slug']}/members"
    assert _membership(setup, site["member"])[2] == {Role.MEMBER, Role.COORDINATOR}


def test_removing_the_last_treasurer_on_the_manage_page_is_a_form_error(auth, client, setup,
                                                                        site):
    auth.login(site["founder_email"])

    response = client.post(f"/c/{site['slug']}/members/{site['founder']}",
                           data={"status-status": "removed", "status-submit": "1"})

    assert response.status_code == 200
    assert "this is the collective's last active treasurer" in _text(response)
    assert _membership(setup, site["founder"])[0] == MembershipStatus.ACTIVE


def test_a_coordinator_cannot_remove_a_treasurer_on_the_manage_page(auth, client, setup, site):
    auth.login(site["coordinator_email"])

    response = client.post(f"/c/{site['slug']}/members/{site['founder']}",
                           data={"status-status": "removed", "status-submit": "1"})

    assert response.status_code == 200
    assert "only a treasurer may pause or remove a treasurer" in _text(response)
    assert _membership(setup, site["founder"])[0] == MembershipStatus.ACTIVE


# --- Pages: invitations -----------------------------------------------------------------


def test_an_invitation_link_from_the_page_lets_a_person_join(auth, client, setup, site):
    auth.login(site["coordinator_email"])
    page = client.post(f"/c/{site['slug']}/invitations",
                       data={"email": "friend@example.com", "roles": ["member"]})
    assert page.status_code == 200
    link = re.search(r'value="https?://[^/"]+(/invite/[^"]+)"', page.get_data(as_text=True))
    assert link is not None
    auth.logout()
    with setup():
        newcomer = make_user(email="Friend@Example.com")  # the invited address
        newcomer_id, newcomer_email = newcomer.id, newcomer.email
        commit()
    auth.login(newcomer_email)

    joined = client.post(link.group(1))

    assert joined.status_code == 302
    assert joined.headers["Location"] == f"/c/{site['slug']}/capacity"
    assert client.get(f"/c/{site['slug']}/", follow_redirects=True).status_code == 200
    with setup():
        membership = services.membership_in(newcomer_id, site["slug"])
        assert membership.roles == {Role.MEMBER}
        assert member_account(membership.id).membership_id == membership.id
    again = client.get(link.group(1))
    assert again.status_code == 409


@pytest.mark.parametrize(("ttl", "token", "status", "reason"), [
    (timedelta(seconds=-1), None, 422, "this invitation has expired; ask for a new one"),
    (DAY, "not-a-real-token", 404, "this invitation link is not valid"),
])
def test_an_unusable_invitation_link_shows_why_once(auth, client, setup, site, ttl, token,
                                                    status, reason):
    with setup():
        founder = db.session.get(Membership, site["founder"])
        _, issued = invitations.create_invitation(founder, email="", roles=["member"],
                                                  ttl=ttl, now=datetime.now(UTC))
        commit()
    auth.login(site["member_email"])

    response = client.get(f"/invite/{token or issued}")

    assert response.status_code == status
    text = _text(response)
    assert "This invitation cannot be used" in text
    assert text.count(reason) == 1
    assert "Accept and join" not in text


# --- Pages: profile, directory, several collectives, capacity ---------------------------


def test_profile_form_saves_skills(auth, client, setup, site):
    auth.login(site["member_email"])

    response = client.post("/account/profile", data={
        "name": "Ana Reyes", "timezone": "Asia/Manila", "country": "ph",
        "skills": "Bookkeeping 5, tax prep 4\nediting 2"})

    assert response.status_code == 302
    with setup():
        user = db.session.scalar(sa.select(User).filter_by(email=site["member_email"]))
        assert user.name == "Ana Reyes"
        assert {s.name: s.level for s in user.skills} == {
            "bookkeeping": 5, "tax prep": 4, "editing": 2}


@pytest.mark.parametrize("skills", ["editing six", "editing 6", "editing"])
def test_profile_form_rejects_a_skill_without_a_level_and_writes_nothing(auth, client, setup,
                                                                         site, skills):
    auth.login(site["member_email"])

    response = client.post("/account/profile", data={
        "name": "Changed Name", "timezone": "UTC", "country": "", "skills": skills})

    assert response.status_code == 200
    assert _errors(response) == [
        "write each skill as a name and a level 1-5, like 'editing 4' "
        f"(not {skills!r})"]
    with setup():
        user = db.session.scalar(sa.select(User).filter_by(email=site["member_email"]))
        assert user.name == site["member_name"]
        assert user.skills == []


def test_the_directory_lists_names_skills_and_hours(auth, client, setup, site):
    with setup():
        member = db.session.get(Membership, site["member"])
        accounts.update_profile(member.user, name="Ana Reyes", timezone="UTC", country="PH",
                                skills={"Bookkeeping": 5, "tax prep": 2})
        commit()
    auth.login(site["coordinator_email"])

    response = client.get(f"/c/{site['slug']}/members")

    assert response.status_code == 200
    body = _text(response)
    row = re.search(r"<tr>\s*<td>Ana Reyes.*?</tr>", body, re.S)
    assert row is not None
    assert 'bookkeeping <span class="level" aria-label="level 5 of 5">●●●●●</span>' in row.group()
    assert 'tax prep <span class="level" aria-label="level 2 of 5">●●○○○</span>' in row.group()
    assert '<td class="num">12</td>' in row.group()
    assert "<td>PH</td>" in row.group()
    for email in (site["founder_email"], site["coordinator_email"]):
        with setup():
            name = db.session.scalar(sa.select(User.name).filter_by(email=email))
        assert f"<td>{name}" in body


def test_the_directory_leaves_out_removed_members(auth, client, setup, site):
    _set_status(setup, site["founder"], site["member"], MembershipStatus.REMOVED)
    auth.login(site["coordinator_email"])

    body = _text(client.get(f"/c/{site['slug']}/members"))

    assert f"<td>{site['member_name']}" not in body
    assert body.count("<tr>") == 1 + 2  # the header row, the founder and the coordinator


def test_a_person_in_two_collectives_sees_and_opens_both(auth, client, setup, site):
    with setup():
        member = db.session.get(Membership, site["member"])
        other = make_collective(founder=member.user).collective
        other_slug, other_name = other.slug, other.name
        commit()
    auth.login(site["member_email"])

    page = client.get("/collectives").get_data(as_text=True)

    assert f'href="/c/{site["slug"]}/dashboard"><strong>{site["name"]}</strong>' in page
    assert f'href="/c/{other_slug}/dashboard"><strong>{other_name}</strong>' in page
    first = client.get(f"/c/{site['slug']}/", follow_redirects=True)
    second = client.get(f"/c/{other_slug}/", follow_redirects=True)
    assert first.status_code == second.status_code == 200
    assert f"<h1>{site['name']}</h1>" in first.get_data(as_text=True)
    assert f"<h1>{other_name}</h1>" in second.get_data(as_text=True)
    # In the first they are a plain member; in their own they hold every role.
    assert "treasurer" not in re.search(r'<p class="muted">You are.*?</p>',
                                        first.get_data(as_text=True), re.S).group()
    assert "treasurer" in re.search(r'<p class="muted">You are.*?</p>',
                                    second.get_data(as_text=True), re.S).group()


@pytest.mark.parametrize(
    ("hours", "error"),
    [("200", "Number must be between 0 and 168."),
     ("-1", "Number must be between 0 and 168."),
     ("169", "Number must be between 0 and 168."),
     ("ten", "Not a valid integer value."),
     # Issue 9: int() reads other scripts' digits; whole numbers take 0-9 only.
     ("٢٠", "write numbers with the digits 0-9"),
     ("２０", "write numbers with the digits 0-9")],
)
def test_capacity_form_rejects_hours_outside_a_week(auth, client, setup, site, hours, error):
    auth.login(site["member_email"])

    response = client.post(f"/c/{site['slug']}/capacity",
                           data={"weekly_capacity_hours": hours})

    assert response.status_code == 200
    assert error in _errors(response)
    assert _membership(setup, site["member"])[1] == 12


def test_capacity_form_saves_hours(auth, client, setup, site):
    auth.login(site["member_email"])

    response = client.post(f"/c/{site['slug']}/capacity", data={"weekly_capacity_hours": "168"})

    assert response.status_code == 302
    assert response.headers["Location"] == f"/c/{site['slug']}/"
    assert _membership(setup, site["member"])[1] == 168

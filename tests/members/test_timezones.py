"""Timezones are picked from the IANA names, matched case-insensitively; a new collective
takes its founder's zone; members pages show times in the viewer's zone, named."""
from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from collective.clock import now_utc
from collective.errors import DomainError
from collective.extensions import db
from collective.members import accounts, invitations, services
from collective.members.models import Collective, Role, User
from tests.factories import PASSWORD, commit, make_collective, make_member, make_user

_ERROR = re.compile(r'<p class="error" role="alert">(.*?)</p>', re.S)
UNKNOWN = ("'Mars/Olympus_Mons' is not a timezone we know; pick one from the list, "
           "like Asia/Manila")


def _errors(response) -> list[str]:
    return [html.unescape(e.strip()) for e in _ERROR.findall(response.get_data(as_text=True))]


def _timezone_field_errors(response) -> list[str]:
    """The errors shown inside the timezone field's own box."""
    page = response.get_data(as_text=True)
    box = re.search(r'<div class="field has-error">\s*<label for="timezone">.*?</div>', page,
                    re.S)
    return _ERROR.findall(box.group()) if box else []


def _user(setup, email: str) -> User | None:
    with setup():
        return db.session.scalar(sa.select(User).filter_by(email=email))


@pytest.mark.parametrize(("typed", "saved"), [("asia/manila", "Asia/Manila"),
                                              (" EUROPE/berlin ", "Europe/Berlin"),
                                              ("utc", "UTC"),
                                              # a city alone, when one zone has it
                                              ("Manila", "Asia/Manila")])
def test_check_timezone_returns_the_iana_spelling(typed, saved):
    assert accounts.check_timezone(typed) == saved


@pytest.mark.parametrize("typed", ["Mars/Olympus_Mons", "", "Asia", "Atlantis", "localtime"])
def test_check_timezone_refuses_unknown_names_naming_the_field(typed):
    with pytest.raises(DomainError) as caught:
        accounts.check_timezone(typed)
    assert caught.value.field == "timezone"


def test_register_saves_a_lower_case_name_in_its_iana_spelling(client, setup):
    response = client.post("/register", data={
        "name": "Nina Cruz", "email": "nina@example.com", "password": "long enough pw",
        "confirm": "long enough pw", "timezone": "asia/manila"})

    assert response.status_code == 302
    assert _user(setup, "nina@example.com").timezone == "Asia/Manila"


def test_register_with_an_unknown_timezone_is_an_error_on_that_field(client, setup):
    response = client.post("/register", data={
        "name": "Nina Cruz", "email": "nina@example.com", "password": "long enough pw",
        "confirm": "long enough pw", "timezone": "Mars/Olympus_Mons"})

    assert response.status_code == 200
    assert _errors(response) == [UNKNOWN]
    assert [html.unescape(e) for e in _timezone_field_errors(response)] == [UNKNOWN]
    assert _user(setup, "nina@example.com") is None


@pytest.mark.parametrize("url", ["/register", "/account/profile", "/collectives/new"])
def test_timezone_fields_offer_every_iana_name_in_a_datalist(client, auth, setup, url):
    with setup():
        email = make_user().email
        commit()
    if url != "/register":
        auth.login(email)

    page = client.get(url).get_data(as_text=True)

    field = re.search(r'<input[^>]*id="timezone"[^>]*>', page).group()
    assert 'list="timezone-names"' in field
    datalist = re.search(r'<datalist id="timezone-names">(.*?)</datalist>', page, re.S).group(1)
    assert '<option value="Asia/Manila">' in datalist
    assert '<option value="America/Argentina/Buenos_Aires">' in datalist
    assert len(re.findall("<option ", datalist)) > 300
    assert "<script src=\"http" not in page  # nothing from a CDN


def test_profile_saves_the_iana_spelling_and_refuses_an_unknown_zone(client, auth, setup):
    with setup():
        email = make_user(name="Ana Reyes").email
        commit()
    auth.login(email)
    form = {"name": "Ana Reyes", "country": "", "skills": ""}

    saved = client.post("/account/profile", data={**form, "timezone": "america/new_york"})
    refused = client.post("/account/profile", data={**form, "timezone": "Mars/Olympus_Mons"})

    assert saved.status_code == 302
    assert refused.status_code == 200
    assert _errors(refused) == [UNKNOWN]
    assert _user(setup, email).timezone == "America/New_York"


def test_a_new_collective_takes_its_founders_timezone(ctx):
    founder = make_user()
    accounts.update_profile(founder, name=founder.name, timezone="Asia/Kolkata", country=None,
                            skills={})

    membership = services.create_collective(founder, name="Chai", slug="chai",
                                            base_currency="INR")

    assert membership.collective.timezone == "Asia/Kolkata"


def test_the_collective_form_starts_from_the_founders_zone_and_accepts_any_case(
        client, auth, setup):
    with setup():
        founder = make_user()
        accounts.update_profile(founder, name=founder.name, timezone="Asia/Manila",
                                country=None, skills={})
        email = founder.email
        commit()
    auth.login(email)

    page = client.get("/collectives/new").get_data(as_text=True)
    assert re.search(r'<input[^>]*id="timezone"[^>]*value="Asia/Manila"', page)

    kept = client.post("/collectives/new", data={"name": "Kept", "slug": "kept",
                                                 "base_currency": "PHP", "timezone": ""})
    chosen = client.post("/collectives/new", data={"name": "Chosen", "slug": "chosen",
                                                   "base_currency": "USD",
                                                   "timezone": "australia/perth"})
    unknown = client.post("/collectives/new", data={"name": "Nowhere", "slug": "nowhere",
                                                    "base_currency": "USD",
                                                    "timezone": "Mars/Olympus_Mons"})

    assert kept.status_code == chosen.status_code == 302
    assert unknown.status_code == 200
    assert _errors(unknown) == [UNKNOWN]
    with setup():
        zones = dict(db.session.execute(
            sa.select(Collective.slug, Collective.timezone)
            .where(Collective.slug.in_(["kept", "chosen", "nowhere"]))).all())
    assert zones == {"kept": "Asia/Manila", "chosen": "Australia/Perth"}


def test_invitations_show_their_expiry_in_the_viewers_zone(client, auth, setup):
    with setup():
        founder = make_collective()
        coordinator = make_member(founder.collective, roles=(Role.MEMBER, Role.COORDINATOR))
        accounts.update_profile(coordinator.user, name="Maria", timezone="Asia/Manila",
                                country=None, skills={})
        # 16:30 UTC on 30 November is 00:30 on 1 December in Manila.
        expires, now = datetime(2036, 11, 30, 16, 30, tzinfo=UTC), now_utc()
        _, token = invitations.create_invitation(coordinator, email="", roles=["member"],
                                                 ttl=expires - now, now=now)
        slug, email = founder.collective.slug, coordinator.user.email
        commit()
    auth.login(email, PASSWORD)

    listing = client.get(f"/c/{slug}/invitations").get_data(as_text=True)
    invitation_page = client.get(f"/invite/{token}").get_data(as_text=True)

    assert "2036-12-01 00:30 Asia/Manila" in listing
    assert "2036-12-01 00:30 Asia/Manila" in invitation_page

"""The main menu: grouped, one marker for the current page, only what the role may open, a
skip link, a menu for phones that works without a script, and a favicon."""
from __future__ import annotations

import re

import pytest

from collective.members.models import Role
from tests.factories import commit, make_collective, make_member


@pytest.fixture
def team(setup):
    with setup():
        founder = make_collective()
        member = make_member(founder.collective)
        commit()
        return founder.collective.slug, founder.user.email, member.user.email


def _menus(html: str) -> list[str]:
    """The wide bar and the phone menu, each as its own HTML."""
    return re.findall(r'<nav[^>]*aria-label="Main"[^>]*>(.*?)</nav>', html, re.S)


def _current(menu: str) -> list[str]:
    return re.findall(r'aria-current="page">([^<]+)</a>', menu)


def test_the_menu_marks_the_current_page_in_both_menus(client, auth, team):
    slug, founder, _ = team
    auth.login(founder)

    for path, here in [(f"/c/{slug}/fund/", "Fund"), (f"/c/{slug}/fund/treasurer", "Fund"),
                       (f"/c/{slug}/pool/", "Pool"), (f"/c/{slug}/ledger/", "Ledger"),
                       (f"/c/{slug}/proposals", "Votes")]:
        response = client.get(path)
        assert response.status_code == 200, path
        menus = _menus(response.get_data(as_text=True))
        assert len(menus) == 2, path
        assert [_current(menu) for menu in menus] == [[here], [here]], path


def test_a_plain_member_is_not_offered_what_their_role_cannot_open(client, auth, team):
    slug, founder, member = team
    auth.login(member)
    mine = client.get(f"/c/{slug}/pool/").get_data(as_text=True)
    auth.login(founder)
    theirs = client.get(f"/c/{slug}/pool/").get_data(as_text=True)

    for label in ("Ledger", "Reports", "Payouts", "Payments", "Clients", "Invite", "Settings"):
        assert f">{label}</a>" not in _menus(mine)[0], label
        assert f">{label}</a>" in _menus(theirs)[0], label
    for label in ("Pool", "My work", "My shares", "Fund", "Statement", "Votes", "Members"):
        assert f">{label}</a>" in _menus(mine)[0], label
    # Every link a member is offered opens for them.
    for href in set(re.findall(r'href="(/c/[^"]+)"', _menus(mine)[0])):
        auth.login(member)
        assert client.get(href).status_code == 200, href


def test_the_page_has_a_skip_link_a_phone_menu_and_a_favicon(client, auth, team):
    slug, founder, _ = team
    auth.login(founder)
    html = client.get(f"/c/{slug}/pool/").get_data(as_text=True)

    assert re.search(r'<a class="skip-link" href="#content">', html)
    assert '<main id="content"' in html
    assert re.search(r'<details class="main-nav narrow">\s*<summary>Menu', html)
    icon = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', html)
    response = client.get(icon.group(1))
    assert response.status_code == 200 and b"<svg" in response.data


def test_a_hint_and_an_error_are_tied_to_their_field(client, auth, team):
    slug, founder, _ = team
    auth.login(founder)

    page = client.post(f"/c/{slug}/fund/plan", data={"found-reserve_cap_months": "many"})

    html = page.get_data(as_text=True)
    name = "found-reserve_cap_months"
    field = re.search(rf'<input[^>]*id="{name}"[^>]*>', html).group(0)
    assert f'aria-describedby="{name}-error"' in field and 'aria-invalid="true"' in field
    assert re.search(rf'<div id="{name}-error"><p class="error" role="alert">', html)
    # A radio set is a fieldset named by its legend.
    assert re.search(r"<fieldset[^>]*><legend>Contributions</legend>", html)


def test_settings_lead_a_treasurer_to_the_collective_s_and_a_coordinator_to_the_pool_s(
        client, auth, setup):
    with setup():
        founder = make_collective()
        coordinator = make_member(founder.collective, roles=(Role.MEMBER, Role.COORDINATOR))
        commit()
        slug, emails = founder.collective.slug, (founder.user.email, coordinator.user.email)

    hrefs = []
    for email in emails:
        auth.login(email)
        menu = _menus(client.get(f"/c/{slug}/pool/").get_data(as_text=True))[0]
        hrefs.append(re.findall(r'href="([^"]+)">Settings</a>', menu))

    assert hrefs == [[f"/c/{slug}/settings"], [f"/c/{slug}/pool/settings"]]


def _submenus(menu: str) -> dict[str, tuple[bool, list[str]]]:
    """Each submenu of a menu: its name, whether it is marked as holding the current page,
    and its links."""
    pattern = (r'<details class="nav-menu">\s*<summary([^>]*)>([^<]+)</summary>\s*'
               r'<ul>(.*?)</ul>')
    return {name: ('class="here"' in attrs, re.findall(r">([^<]+)</a>", links))
            for attrs, name, links in re.findall(pattern, menu, re.S)}


def test_the_wide_bar_folds_the_books_and_managing_pages_into_two_menus(client, auth, team):
    slug, founder, member = team
    auth.login(founder)
    wide, phone = _menus(client.get(f"/c/{slug}/ledger/periods").get_data(as_text=True))
    assert _submenus(wide) == {
        "Books": (True, ["Ledger", "Bank", "Between collectives", "Periods", "Reports"]),
        "Manage": (False, ["Invite", "Audit log", "Webhooks", "Settings"])}
    assert _current(wide) == _current(phone) == ["Periods"]
    # The phone menu lists the same pages, none of them folded away.
    assert "<details" not in phone
    for label in ("Ledger", "Bank", "Periods", "Reports", "Audit log", "Webhooks", "Invite"):
        assert f">{label}</a>" in phone, label
    # The person's own links sit in a menu under their name on the wide bar.
    assert re.search(r'<details class="nav-menu nav-person">\s*<summary>', wide)
    assert ">Your profile</a>" in wide and ">Sign out</button>" in wide
    auth.login(member)
    mine, _ = _menus(client.get(f"/c/{slug}/pool/").get_data(as_text=True))
    assert _submenus(mine) == {}

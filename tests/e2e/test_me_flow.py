"""One person in two collectives, in a real browser: they land on their home (/me), see
their work in both, and choose to show their other work only as hours; a coordinator's
suggestions then say "5 h elsewhere" without naming the other collective."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from collective.extensions import db
from collective.members import services
from collective.members.models import Role
from collective.pool.models import PitchState

from . import seeds
from .seeds import C, M, T

pytestmark = pytest.mark.e2e


def test_a_person_in_two_collectives_hides_the_name_of_the_other(browse, seed, viewport):
    with seed():
        home = seeds.crew(f"home-{viewport}", {"cora": ({M, C, T}, {}), "ada": ({M}, {})})
        other = seeds.crew(f"other-{viewport}", {"bo": ({M, C, T}, {})})
        ada = home.member("ada").user
        joined = services.add_member(other.member("bo").collective, ada, {Role.MEMBER},
                                     weekly_capacity_hours=10)
        db.session.flush()
        other.ids["ada"] = joined.id
        seeds.work(other, "site", "bo", "Harbour site rebuild", state=PitchState.IN_PROGRESS,
                   team={"ada": 1})
        wanted = seeds.work(home, "wanted", "cora", "Books clean-up", state=PitchState.WON)
        other_name = other.member("bo").collective.name
        wanted_id = wanted.id

    page = browse.as_user(home.emails["ada"])
    expect(page).to_have_url(f"{browse.base_url}/me")
    main = page.locator("main")
    expect(main.get_by_role("heading", name="My week")).to_be_visible()
    expect(main.get_by_role("link", name="Harbour site rebuild")).to_be_visible()
    expect(main).to_contain_text(other_name)
    browse.shot(page, "flow-me-home")
    form = page.locator("main form").last
    form.get_by_label("Hours a week you work, across all your collectives").fill("30")
    form.get_by_label("Show my work in other collectives to coordinators only as hours, "
                      "without naming the collective").check()
    form.get_by_role("button", name="Save").click()
    expect(main).to_contain_text("Your settings are saved.")
    expect(main).to_contain_text("against your week of 30 h")

    coordinator = browse.as_user(home.emails["cora"])
    coordinator.goto(f"/c/{home.slug}/pool/pitches/{wanted_id}/allocate")
    suggestions = coordinator.locator("main table").last
    expect(suggestions).to_contain_text("(5 h elsewhere)")
    expect(coordinator.locator("main")).not_to_contain_text(other_name)

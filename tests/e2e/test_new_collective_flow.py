"""A newcomer in a real browser: registers, starts a collective, and follows the dashboard's
getting-started checklist, which ticks each step as it is done."""
from __future__ import annotations

import itertools

import pytest
from playwright.sync_api import expect

from .checks import assert_accessible

pytestmark = pytest.mark.e2e

_seq = itertools.count(1)


def test_new_user_creates_a_collective_and_follows_the_checklist(browse, viewport):
    n = next(_seq)
    slug = f"weavers-{viewport}-{n}"
    page = browse.page()
    page.goto("/register")
    form = page.locator("main form")
    form.get_by_label("Your name").fill("Lea Newcomer")
    form.get_by_label("E-mail").fill(f"lea.{slug}@example.com")
    form.get_by_label("Password", exact=True).fill("a long enough password")
    form.get_by_label("Repeat the password").fill("a long enough password")
    form.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("button", name="Create account")).to_have_count(0)

    page.goto("/collectives")
    page.get_by_role("link", name="Start a collective").click()
    form = page.locator("main form")
    form.get_by_label("Name", exact=True).fill(f"Weavers {n}")
    form.get_by_label("Short name for links").fill(slug)
    form.get_by_label("Base currency (ISO code)").fill("EUR")
    form.get_by_label("The collective's timezone").fill("Europe/Lisbon")
    form.get_by_role("button", name="Create").click()
    expect(page.locator(".flash")).to_contain_text(f"Weavers {n} is ready")

    page.goto(f"/c/{slug}/dashboard")
    checklist = page.locator(".getting-started")
    expect(checklist).to_contain_text("0 of 4 done")
    assert_accessible(page)
    browse.shot(page, "flow7-new-dashboard")

    def step(label: str):
        return checklist.locator("li").filter(has=page.get_by_role("link", name=label))

    step("Agree the founding share rule").get_by_role("link").click()
    form = page.locator("main form")
    form.get_by_label("Common fund (%)").fill("10")
    form.get_by_label("Finder's fee (%)").fill("5")
    form.get_by_label("By logged hours").check()
    form.get_by_role("button", name="Set rule").click()
    expect(page.locator("main")).to_contain_text("In force today: version 1")

    page.goto(f"/c/{slug}/dashboard")
    expect(step("Agree the founding share rule")).to_have_class("done")
    expect(checklist).to_contain_text("1 of 4 done")

    step("Set up the benefits fund").get_by_role("link").click()
    page.locator("main form").get_by_role("button", name="Set plan").click()
    expect(page.locator("main")).to_contain_text("In force: version 1")

    page.goto(f"/c/{slug}/dashboard")
    expect(step("Set up the benefits fund")).to_have_class("done")
    expect(step("Agree the founding share rule")).to_have_class("done")
    expect(step("Invite the first members")).to_have_class("todo")
    expect(checklist).to_contain_text("2 of 4 done")
    browse.shot(page, "flow7-checklist-half-done")

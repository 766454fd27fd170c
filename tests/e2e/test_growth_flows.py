"""Growing together, in a real browser: a member writes a module that another finishes and
rates; a coordinator delivers work against its checklist, a second member confirms the
review, and the dashboard shows the quarter's share."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from collective.pool.models import PitchState

from . import seeds
from .checks import assert_accessible
from .seeds import C, M, T

pytestmark = pytest.mark.e2e


def test_a_member_writes_a_module_and_another_finishes_and_rates_it(browse, seed, viewport):
    with seed():
        crew = seeds.crew(f"learn-{viewport}", {
            "cora": ({M, C, T}, {}),
            "ana": ({M}, {"bookkeeping": 5}),
            "joy": ({M}, {"bookkeeping": 2}),
        })
    page = browse.as_user(crew.emails["ana"])
    page.goto(f"/c/{crew.slug}/learning/")
    page.get_by_role("link", name="Write a module").click()
    page.get_by_label("Title").fill("Reconciling in 20 minutes")
    page.get_by_label("Skill it teaches").fill("Bookkeeping")
    page.get_by_label("Estimated time (minutes)").fill("20")
    page.get_by_label("Content").fill("## Steps\n\n1. **Match** each line\n\n"
                                      "<script>alert('x')</script>")
    assert_accessible(page)
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reconciling in 20 minutes")
    expect(page.get_by_role("heading", name="Steps")).to_be_visible()
    expect(page.locator(".module-body")).to_contain_text("<script>alert('x')</script>")
    expect(page.get_by_text("You wrote this module")).to_be_visible()
    browse.close()

    page = browse.as_user(crew.emails["joy"])
    page.goto(f"/c/{crew.slug}/learning/")
    assert_accessible(page)
    page.get_by_role("link", name="Reconciling in 20 minutes").click()
    page.get_by_role("button", name="Mark done").click()
    expect(page.get_by_text("done", exact=True)).to_be_visible()
    page.get_by_label("4 – good").check()
    page.get_by_label("Comment (optional; others see it)").fill("Clear steps")
    page.get_by_role("button", name="Rate it").click()
    expect(page.locator(".ratings")).to_contain_text("4 of 5 from")
    assert_accessible(page)
    browse.shot(page, "growth-module-rated")


def test_work_is_delivered_against_its_checklist_and_a_second_member_confirms(
        browse, seed, viewport):
    with seed():
        crew = seeds.crew(f"std-{viewport}", {
            "cora": ({M, C, T}, {}),
            "rev": ({M}, {}),
        })
        seeds.work(crew, "cleanup", "cora", "Books clean-up", state=PitchState.IN_PROGRESS,
                   team={"cora": 1})
    page = browse.as_user(crew.emails["cora"])
    page.goto(f"/c/{crew.slug}/standards/")
    page.get_by_role("link", name="Add a checklist").click()
    page.get_by_label("Kind of work").fill("Bookkeeping clean-up")
    page.get_by_label("Items").fill("Reconciled\n+ Reviewed by a second member\nClient sign-off")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Bookkeeping clean-up")).to_be_visible()

    page.goto(f"/c/{crew.slug}/pool/pitches/{crew.pitches['cleanup']}")
    page.get_by_role("link", name="Mark delivered…").click()
    page.get_by_label("Reconciled").check()
    page.get_by_label("Client sign-off").check()
    assert_accessible(page)
    browse.shot(page, "growth-deliver")
    page.get_by_role("button", name="Mark delivered").click()
    expect(page.get_by_text("checklist not met yet")).to_be_visible()
    browse.close()

    page = browse.as_user(crew.emails["rev"])
    page.goto(f"/c/{crew.slug}/standards/")
    assert_accessible(page)
    page.get_by_role("link", name="Books clean-up").click()
    assert_accessible(page)
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text("met its checklist")).to_be_visible()
    browse.close()

    page = browse.as_user(crew.emails["cora"])
    page.goto(f"/c/{crew.slug}/dashboard")
    page.locator("#standards ~ details.chart-table summary").first.click()
    row = page.get_by_role("row").filter(has_text="Bookkeeping clean-up")
    expect(row).to_contain_text("100%")
    assert_accessible(page)

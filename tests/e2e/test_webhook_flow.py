"""A treasurer subscribes a webhook endpoint, changes its URL, and rotates its signing
secret in a real browser: each secret is shown once, and the rotation goes through its
confirmation page."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from collective.extensions import db
from collective.webhooks.models import WebhookEndpoint

from . import seeds
from .seeds import C, M, T

pytestmark = pytest.mark.e2e

#: A public address given as a number: checked without a DNS lookup.
URL = "https://93.184.215.14/hooks"


def _secret(page) -> str:
    return page.get_by_label("Signing secret").input_value()


def test_treasurer_changes_an_endpoint_and_rotates_its_secret(browse, seed, viewport):
    with seed():
        crew = seeds.crew(f"hooks-{viewport}", {"tess": ({M, C, T}, {})})
    page = browse.as_user(crew.emails["tess"])
    page.goto(f"/c/{crew.slug}/webhooks")
    form = page.locator("main form")
    form.get_by_label("URL").fill(URL)
    form.get_by_label("A benefit claim was approved or rejected").check()
    form.get_by_role("button", name="Add the endpoint").click()
    first = _secret(page)
    assert first.startswith("whsec_")
    page.get_by_role("link", name="See its deliveries").click()

    page.get_by_role("link", name="Change").click()
    form = page.locator("main form")
    form.get_by_label("URL").fill(URL + "/v2")
    form.get_by_label("A proposal was decided").check()
    form.get_by_role("button", name="Save the changes").click()
    expect(page.locator("main")).to_contain_text("The endpoint is changed.")
    expect(page.locator("main")).to_contain_text(URL + "/v2")

    page.get_by_role("link", name="Rotate the secret").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rotate the signing secret?")
    page.get_by_role("button", name="Make a new secret").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("A new signing secret")
    second = _secret(page)
    assert second.startswith("whsec_") and second != first
    browse.shot(page, "webhook-rotated")
    page.get_by_role("link", name="See its deliveries").click()
    expect(page.locator("main")).to_contain_text("with the new and the old secret until")
    assert second not in page.content()
    with seed():
        endpoint = db.session.scalar(sa.select(WebhookEndpoint).where(
            WebhookEndpoint.collective_id == crew.member("tess").collective_id))
        assert (endpoint.secret, endpoint.previous_secret) == (second, first)
        assert endpoint.event_types == ["claim.decided", "proposal.decided"]
    assert re.search(r"/webhooks/\d+$", page.url)

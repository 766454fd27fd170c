"""Forms that show an error keep what was typed: the page comes back with the values as
sent and the error beside them, instead of a redirect to an empty form."""
from __future__ import annotations

import html
import re

import pytest

from collective.benefits.compute import add_months
from collective.clock import month_start, today_in
from collective.extensions import db
from collective.members import services
from collective.members.models import Membership, MembershipStatus
from collective.pool import pitches
from collective.pool.models import Pitch
from tests.benefits.factories import found_fund, set_level
from tests.factories import PASSWORD, commit, make_collective, make_member
from tests.pool.factories import make_pitch

TODAY = today_in("UTC")


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _value(page: str, name: str) -> str | None:
    """The value an <input name=...> is shown with."""
    match = re.search(rf'<input[^>]* name="{re.escape(name)}"[^>]*>', page)
    if match is None:
        return None
    value = re.search(r' value="([^"]*)"', match.group(0))
    return value.group(1) if value else ""


@pytest.fixture
def fund(setup):
    with setup():
        founder, ann = found_fund(2, start=add_months(month_start(TODAY), -2))
        commit()
        return founder.collective.slug, founder.user.email, ann.id


def test_the_fund_deposit_form_keeps_what_was_typed(client, auth, fund):
    slug, treasurer, ann_id = fund
    auth.login(treasurer, PASSWORD)
    response = client.post(f"/c/{slug}/fund/deposits", data={
        "dep-membership_id": str(ann_id), "dep-amount": "0", "dep-received_on": "2026-01-15",
        "dep-reference": "GCash 88412", "dep-request_key": "deposit-form-1"})
    assert response.status_code == 422
    page = _text(response)
    assert "the amount must be more than zero" in page
    assert _value(page, "dep-amount") == "0"
    assert _value(page, "dep-received_on") == "2026-01-15"
    assert _value(page, "dep-reference") == "GCash 88412"
    assert _value(page, "dep-request_key") == "deposit-form-1"  # the same form, sent again
    assert re.search(rf'<option selected value="{ann_id}">', page)


@pytest.fixture
def pool(setup):
    with setup():
        founder = make_collective()
        liza = make_member(founder.collective)
        work = make_pitch(founder, title="Research sprint")
        commit()
        return founder.collective.slug, founder.id, liza.id, liza.user.email, work.id


def test_the_volunteer_form_keeps_the_note_when_it_is_refused(client, auth, setup, pool):
    slug, founder_id, liza_id, liza, pitch_id = pool
    with setup():
        services.set_status(db.session.get(Membership, founder_id),
                            db.session.get(Membership, liza_id), MembershipStatus.PAUSED,
                            "leave")
        commit()
    auth.login(liza, PASSWORD)
    response = client.post(f"/c/{slug}/pool/pitches/{pitch_id}/volunteer",
                           data={"vol-note": "I did their last sprint"})
    assert response.status_code == 422
    page = _text(response)
    assert "paused members cannot volunteer for work" in page
    assert _value(page, "vol-note") == "I did their last sprint"


def test_the_withdraw_form_keeps_the_reason_when_it_is_refused(client, auth, setup, pool):
    slug, _, liza_id, liza, pitch_id = pool
    with setup():
        pitches.volunteer_for(db.session.get(Membership, liza_id),
                              db.session.get(Pitch, pitch_id))
        commit()
    auth.login(liza, PASSWORD)
    reason = "school holidays " * 30  # longer than a reason may be
    response = client.post(f"/c/{slug}/pool/pitches/{pitch_id}/withdraw",
                           data={"withdraw-memo": reason})
    assert response.status_code == 422
    page = _text(response)
    assert "Field cannot be longer than 400 characters." in page
    assert _value(page, "withdraw-memo") == reason
    assert "Withdraw my offer" in page


def test_a_refused_level_keeps_the_level_chosen(client, auth, setup, fund):
    slug, treasurer, ann_id = fund
    with setup():
        set_level(db.session.get(Membership, ann_id), 100_000,
                  start=add_months(month_start(TODAY), -2))
        ann = db.session.get(Membership, ann_id).user.email
        commit()
    auth.login(ann, PASSWORD)
    # A change within the plan's 12 months of the last is refused; the page keeps the choice.
    response = client.post(f"/c/{slug}/fund/level", data={"level": "50000"})
    assert response.status_code == 422
    page = _text(response)
    assert "levels can change once every 12 months" in page
    assert re.search(r'<option selected value="50000">', page)
    unknown = client.post(f"/c/{slug}/fund/level", data={"level": "12345"})
    assert unknown.status_code == 422
    assert "Not a valid choice" in _text(unknown)

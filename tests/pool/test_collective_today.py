"""The pool's pages and services work on the collective's own date, not the server's: at
20:00 UTC on 31 October it is already 1 November in Manila."""
from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime

import time_machine

from collective.pool import allocation, pitches
from collective.pool.models import PitchState
from tests.factories import commit, make_collective
from tests.pool.factories import make_pitch, move_to

#: 20:00 UTC on 31 October 2026: 04:00 on 1 November in Manila.
INSTANT = datetime(2026, 10, 31, 20, 0, tzinfo=UTC)
MANILA_TODAY = date(2026, 11, 1)


def _manila_collective(setup) -> tuple[str, str, int, int]:
    """A collective in Asia/Manila with work in progress allocated to its founder."""
    with setup():
        founder = make_collective()
        founder.collective.timezone = "Asia/Manila"
        work = move_to(founder, make_pitch(founder), PitchState.WON)
        part = allocation.allocate_member(founder, work, membership_id=founder.id, role="lead")
        pitches.transition_pitch(founder, work, PitchState.IN_PROGRESS, at=INSTANT)
        commit()
        return founder.collective.slug, founder.user.email, work.id, part.id


def _date_value(response, name: str) -> str:
    page = html.unescape(response.get_data(as_text=True))
    return re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page).group(1)


@time_machine.travel(INSTANT, tick=False)
def test_the_forms_start_from_the_collectives_today(client, auth, setup):
    slug, email, pitch_id, _ = _manila_collective(setup)
    auth.login(email)
    pool = f"/c/{slug}/pool"

    assert _date_value(client.get(f"{pool}/my-work"), "worked_on") == "2026-11-01"
    assert _date_value(client.get(f"{pool}/pitches/{pitch_id}/payments/new"),
                       "received_on") == "2026-11-01"
    assert _date_value(client.get(f"{pool}/payouts"), "one-paid_on") == "2026-11-01"
    assert _date_value(client.get(f"{pool}/rules"), "found-effective_on") == "2026-11-01"
    # A proposed rule starts next month: December in Manila, though UTC is in October.
    assert _date_value(client.get(f"{pool}/rules/propose"), "effective_on") == "2026-12-01"


@time_machine.travel(INSTANT, tick=False)
def test_time_may_be_logged_for_the_day_after_the_collectives_today(client, auth, setup):
    slug, email, _, allocation_id = _manila_collective(setup)
    auth.login(email)

    # 2 November is "tomorrow" in Manila (allowed for members ahead of the collective) but
    # two days after the UTC date.
    response = client.post(f"/c/{slug}/pool/my-work", data={
        "allocation_id": allocation_id, "worked_on": "2026-11-02", "hours": "1"})

    assert response.status_code == 302

"""Timestamps are stored in UTC and shown in the viewer's timezone, with the zone named."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from collective.extensions import db
from tests.factories import commit, make_collective, make_member, make_user
from tests.pool.factories import NOW, make_pitch


def test_a_pitchs_history_shows_each_viewer_their_own_zone(client, auth, setup):
    with setup():
        founder = make_collective()
        founder.collective.timezone = "Asia/Manila"
        founder.user.timezone = "Australia/Sydney"
        pitch = make_pitch(founder)
        plain = make_member(founder.collective, user=make_user())
        plain.user.timezone = "UTC"
        ids = (founder.collective.slug, pitch.id, founder.user.email, plain.user.email)
        db.session.flush()
        commit()
    slug, pitch_id, sydney, utc = ids
    sydney_time = NOW.astimezone(ZoneInfo("Australia/Sydney"))

    auth.login(sydney)
    page = client.get(f"/c/{slug}/pool/pitches/{pitch_id}").get_data(as_text=True)
    assert f"{sydney_time:%Y-%m-%d %H:%M} Australia/Sydney" in page
    auth.logout()

    auth.login(utc)
    page = client.get(f"/c/{slug}/pool/pitches/{pitch_id}").get_data(as_text=True)
    assert f"{NOW:%Y-%m-%d %H:%M} UTC" in page

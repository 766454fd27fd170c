"""Lists: opaque cursors, bounded limits, filters; and the rate limits' headers."""
from __future__ import annotations

import base64
import json

import sqlalchemy as sa

from collective.extensions import db, limiter
from collective.members.models import User
from collective.members.services import membership_in
from tests.factories import commit
from tests.pool.factories import make_client


def test_a_list_pages_by_an_opaque_cursor_to_its_end(api, world, setup):
    with setup():
        user = db.session.scalar(sa.select(User).filter_by(email=world.founder_email))
        founder = membership_in(user.id, "ours")
        for name in ("Bravo", "Charlie"):
            make_client(founder, name)
        commit()
    first = api("GET", "/collectives/ours/clients", world.full, query={"limit": 2})
    page = first.get_json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    assert first.headers["Link"].endswith('>; rel="next"')
    second = api("GET", "/collectives/ours/clients", world.full,
                 query={"limit": 2, "cursor": page["next_cursor"]}).get_json()
    assert [c["name"] for c in second["items"]] == ["Charlie"]
    assert second["next_cursor"] is None
    seen = [c["id"] for c in page["items"] + second["items"]]
    assert seen == sorted(seen) and len(set(seen)) == 3


def test_a_forged_or_foreign_cursor_is_a_400_naming_the_cursor(api, world):
    members = "/collectives/ours/memberships"
    page = api("GET", members, world.full, query={"limit": 1}).get_json()
    forged = base64.urlsafe_b64encode(json.dumps(["memberships", 0]).encode()).decode()
    for cursor in (forged, page["next_cursor"][:-2] + "xx", "%%%"):
        response = api("GET", members, world.full, query={"cursor": cursor})
        assert response.status_code == 400, cursor
        assert list(response.get_json()["error"]["fields"]) == ["cursor"]
    # A real cursor of another list.
    other = api("GET", "/collectives/ours/pitches", world.full,
                query={"cursor": page["next_cursor"]})
    assert other.status_code == 400


def test_the_limit_is_bounded_and_filters_are_checked(api, world):
    for limit in (0, 201, "many"):
        response = api("GET", "/collectives/ours/pitches", world.full, query={"limit": limit})
        assert response.status_code == 422
        assert list(response.get_json()["error"]["fields"]) == ["limit"]
    backwards = api("GET", "/collectives/ours/payments", world.full,
                    query={"since": "2026-10-02", "until": "2026-10-01"})
    assert list(backwards.get_json()["error"]["fields"]) == ["until"]
    won = api("GET", "/collectives/ours/pitches", world.full, query={"state": "won"})
    assert [p["id"] for p in won.get_json()["items"]] == [world.pitch_id]
    assert api("GET", "/collectives/ours/pitches", world.full,
               query={"state": "open"}).get_json()["items"] == []
    far = api("GET", "/collectives/ours/pitches", world.full,
              query={"since": "0001-01-01", "until": "9999-12-31"})
    assert len(far.get_json()["items"]) == 1


def test_payouts_and_members_lists_answer_for_the_caller(api, world):
    members = api("GET", "/collectives/ours/memberships", world.member).get_json()["items"]
    assert len(members) == 2 and {m["status"] for m in members} == {"active"}
    assert api("GET", "/collectives/ours/payouts", world.member).get_json() == {
        "items": [], "next_cursor": None}


def test_every_answer_carries_the_rate_limit_headers_and_the_limit_holds(api, world, app,
                                                                         monkeypatch):
    response = api("GET", "/collectives", world.full)
    assert int(response.headers["RateLimit-Limit"]) == 600
    assert int(response.headers["RateLimit-Remaining"]) == 599
    assert 0 <= int(response.headers["RateLimit-Reset"]) <= 60
    assert response.headers["RateLimit-Policy"] == "600;w=60"
    monkeypatch.setitem(app.config["RATE_LIMITS"], "api_per_token", "2 per minute")
    limiter.reset()
    assert api("GET", "/collectives", world.full).status_code == 200
    assert api("GET", "/collectives", world.full).headers["RateLimit-Remaining"] == "0"
    refused = api("GET", "/collectives", world.full)
    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "rate_limited"
    assert "Retry-After" in refused.headers
    # Another token has its own count.
    assert api("GET", "/collectives", world.read_only).status_code == 200

"""The API's test world: a collective with won work, logged time and a share rule, another
collective beside it, and tokens of every kind, built through the real services."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from collective.api import tokens
from collective.clock import now_utc, today_in
from collective.extensions import limiter
from collective.members.models import Role
from collective.pool.models import PitchState
from tests.factories import commit, make_collective, make_member
from tests.pool.factories import allocate, found_rule, log, make_pitch, move_to


@dataclass
class World:
    """Ids and secrets the tests use (the rows themselves belong to the set-up's session)."""

    founder_email: str
    member_email: str
    pitch_id: int
    allocation_id: int
    member_id: int
    their_client_id: int
    their_pitch_id: int
    full: str
    read_only: str
    member: str
    limited: str
    revoked: str
    expired: str


@pytest.fixture
def world(app, client, setup) -> World:
    """Ours: the founder (every role), a member who logged 2 h on won work; a share rule.
    Theirs: another collective with a pitch, where our founder is a member too, so a token
    limited to ours has somewhere it may not go."""
    limiter.reset()
    with setup():
        now = now_utc()
        founder = make_collective(slug="ours")
        member = make_member(founder.collective)
        work = make_pitch(founder)
        move_to(founder, work, PitchState.WON)
        part = allocate(founder, work, member)
        log(member, part, 120)
        found_rule(founder)
        theirs = make_collective(slug="theirs")
        make_member(theirs.collective, roles=(Role.MEMBER, Role.COORDINATOR, Role.TREASURER),
                    user=founder.user)
        their_pitch = make_pitch(theirs)
        user = founder.user

        def token(**kwargs) -> str:
            return tokens.create_token(kwargs.pop("owner", user),
                                       name=kwargs.pop("name", "script"), now=now,
                                       **kwargs)[1]

        revoked_token, revoked = tokens.create_token(user, name="old", now=now)
        tokens.revoke_token(user, revoked_token.id, now=now)
        expired_token, expired = tokens.create_token(user, name="short", now=now,
                                                     expires_at=now + timedelta(hours=1))
        expired_token.expires_at = now - timedelta(seconds=1)
        made = World(
            founder_email=user.email, member_email=member.user.email, pitch_id=work.id,
            allocation_id=part.id, member_id=member.id,
            their_client_id=their_pitch.client_id, their_pitch_id=their_pitch.id,
            full=token(), read_only=token(is_read_only=True), member=token(owner=member.user),
            limited=token(collective_slug="ours"), revoked=revoked, expired=expired)
        commit()
    return made


class Api:
    """Requests to /api/v1 with a token."""

    def __init__(self, client) -> None:
        self.client = client

    def __call__(self, method: str, path: str, token: str | None = None, *, json=None,
                 headers: dict | None = None, query: dict | None = None):
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        return self.client.open("/api/v1" + path, method=method, json=json, headers=sent,
                                query_string=query)


@pytest.fixture
def api(client) -> Api:
    """Send API requests: api("GET", "/collectives", token)."""
    client.adds_csrf_token = False  # a token needs none; the CSRF tests say so explicitly
    return Api(client)


def payment_body(world: World, **changes) -> dict:
    """A payment of USD 100.00 on the world's won work, received today."""
    return {"pitch_id": world.pitch_id, "amount": 10_000, "currency": "USD",
            "received_on": today_in("UTC").isoformat(), "reference": "INV-1", **changes}



from tests.api.gov_world import gov  # noqa: E402,F401  (the governance and fund world)

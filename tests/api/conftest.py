"""The API's test world: a collective with won work, logged time and a share rule, another
collective beside it, and tokens of every kind, built through the real services."""
from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa

from collective.api import tokens
from collective.books.expenses import categories, submissions
from collective.books.expenses.storage import receipt_storage
from collective.books.expenses.uploads import Upload
from collective.clock import now_utc, today_in
from collective.extensions import db, limiter
from collective.members.models import Collective, Membership, Role
from collective.members.services import membership_in
from collective.pool.models import PitchState
from collective.pool.pitches import get_pitch
from tests.books.factories import png_bytes
from tests.books.invoice_factories import delivered_work, draft, set_up_invoicing
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



@dataclass
class BooksWorld:
    """The world's books: invoicing set up in ours (VAT 12%), a draft on the won work, a
    member's pending expense, a coordinator who is no treasurer; and theirs' own invoice,
    expense and journal entry, out of ours' reach."""

    draft_id: int
    vat_id: int
    category_id: int
    expense_id: int
    coordinator: str
    their_invoice_id: int
    their_expense_id: int
    their_entry_id: int


def receipt_json(name: str = "receipt.png") -> dict:
    """A small PNG receipt as the API takes it."""
    return {"filename": name, "content_base64": base64.b64encode(png_bytes()).decode()}


@pytest.fixture
def books(app, world, setup) -> BooksWorld:
    """The books of `world`, built through the real services."""
    with setup():
        now = now_utc()
        today = today_in("UTC")
        user = tokens.find_token(world.full).user
        founder = membership_in(user.id, "ours")
        member = membership_in(tokens.find_token(world.member).user.id, "ours")
        vat = set_up_invoicing(founder)
        invoice = draft(founder, get_pitch(founder.collective_id, world.pitch_id), vat)
        coordinator = make_member(founder.collective, roles=(Role.MEMBER, Role.COORDINATOR))
        travel = next(c for c in categories.categories_of(founder.collective_id)
                      if c.name == "Travel")
        receipt = [Upload("taxi.png", png_bytes())]
        expense = submissions.submit_expense(
            member, category_id=travel.id, amount=4_200, currency="USD", spent_on=today,
            description="Taxi to the client", receipts=receipt, storage=receipt_storage(),
            today=today, now=now)
        theirs_founder = db.session.scalar(
            sa.select(Membership).join(Collective).where(Collective.slug == "theirs")
            .order_by(Membership.id).limit(1))
        their_invoice = draft(theirs_founder, delivered_work(theirs_founder))
        their_travel = next(c for c in categories.categories_of(theirs_founder.collective_id)
                            if c.name == "Travel")
        their_expense = submissions.record_direct_expense(
            theirs_founder, category_id=their_travel.id, amount=1_000, currency="USD",
            spent_on=today, description="Bank fee", receipts=receipt,
            storage=receipt_storage(), today=today, now=now)
        made = BooksWorld(
            draft_id=invoice.id, vat_id=vat.id, category_id=travel.id, expense_id=expense.id,
            coordinator=tokens.create_token(coordinator.user, name="coordination", now=now)[1],
            their_invoice_id=their_invoice.id, their_expense_id=their_expense.id,
            their_entry_id=their_expense.entry_id)
        commit()
    return made


from tests.api.gov_world import gov  # noqa: E402,F401  (the governance and fund world)

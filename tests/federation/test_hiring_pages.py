"""The pages of a member's request to hire a partner: the pitch page links an allocated
member to the form, the coordinators see the request waiting with Confirm and Turn down
(each its own POST), the partner sees nothing until it is confirmed, and any other
collective gets a 404."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from collective.extensions import db
from collective.federation.models import SharedPitch
from collective.pool.models import PitchState
from tests.factories import commit, make_collective, make_member
from tests.federation.factories import federate
from tests.pool.factories import allocate, make_pitch, move_to

HIRE = "Hire a partner collective for part of this work"


@pytest.fixture
def hiring(setup):
    """Alpha and Beta are partners; Ann works Alpha's won pitch, Bob (of Alpha) does not;
    Gamma is a third collective."""
    with setup():
        a, b = make_collective(slug="alpha"), make_collective(slug="beta")
        federation = federate(a, b)
        ann, bob = make_member(a.collective), make_member(a.collective)
        pitch = make_pitch(a, title="Bookkeeping clean-up")
        move_to(a, pitch, PitchState.WON)
        allocate(a, pitch, ann)
        stranger = make_collective(slug="gamma")
        commit()
        return dict(a=a.user.email, b=b.user.email, ann=ann.user.email, bob=bob.user.email,
                    stranger=stranger.user.email, federation=federation.id, pitch=pitch.id)


def _status(setup, shared_id: int) -> str:
    with setup():
        return db.session.get(SharedPitch, shared_id).status


def _ask(client, hiring, **changes):
    data = {"federation_id": hiring["federation"], "partner_bp": "2500",
            "note": "The payroll part"} | changes
    return client.post(f"/c/alpha/partners/hire/{hiring['pitch']}", data=data)


def test_a_member_asks_a_coordinator_confirms_and_the_partner_accepts(client, auth, hiring,
                                                                      setup):
    auth.login(hiring["ann"])
    page = client.get(f"/c/alpha/pool/pitches/{hiring['pitch']}").get_data(as_text=True)
    assert HIRE in page
    page = client.get(f"/c/alpha/partners/hire/{hiring['pitch']}").get_data(as_text=True)
    assert "Ask our coordinators" in page and "Collective" in page
    assert _ask(client, hiring, partner_bp="10001").status_code == 422
    assert _ask(client, hiring, note="").status_code == 422
    response = _ask(client, hiring)
    assert response.status_code == 302
    with setup():
        shared_id = db.session.scalar(sa.select(SharedPitch.id))
    assert response.headers["Location"].endswith(f"/c/alpha/partners/shared/{shared_id}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Withdraw my request" in page and "Confirm and offer" not in page

    auth.login(hiring["b"])   # the partner sees nothing of it yet
    assert client.get(f"/c/beta/partners/shared/{shared_id}").status_code == 404
    assert client.post(f"/c/beta/partners/shared/{shared_id}/answer",
                       data={"answer-answer": "accept"}).status_code == 404
    assert client.post(f"/c/beta/partners/shared/{shared_id}/request",
                       data={"request-answer": "confirm"}).status_code == 404
    page = client.get(f"/c/beta/partners/{hiring['federation']}").get_data(as_text=True)
    assert "Bookkeeping clean-up" not in page

    auth.login(hiring["a"])
    page = client.get("/c/alpha/partners/").get_data(as_text=True)
    assert "Members' requests to hire a partner" in page
    assert "The payroll part" in page and "Confirm and offer it to" in page
    assert client.get(f"/c/alpha/partners/shared/{shared_id}/request").status_code == 405
    response = client.post(f"/c/alpha/partners/shared/{shared_id}/request",
                           data={"request-answer": "confirm"})
    assert response.status_code == 302 and _status(setup, shared_id) == "proposed"

    auth.login(hiring["b"])
    page = client.get(f"/c/beta/partners/shared/{shared_id}").get_data(as_text=True)
    assert "25.00%" in page and "Accept" in page
    assert client.post(f"/c/beta/partners/shared/{shared_id}/answer",
                       data={"answer-answer": "accept"}).status_code == 302
    assert _status(setup, shared_id) == "accepted"


def test_a_coordinator_turns_a_request_down_through_the_page(client, auth, hiring, setup):
    auth.login(hiring["ann"])
    _ask(client, hiring)
    with setup():
        shared_id = db.session.scalar(sa.select(SharedPitch.id))
    url = f"/c/alpha/partners/shared/{shared_id}/request"
    auth.login(hiring["bob"])   # a plain member: refused, nothing changes
    client.post(url, data={"request-answer": "confirm"})
    client.post(url, data={"request-answer": "withdraw"})
    assert _status(setup, shared_id) == "requested"
    auth.login(hiring["a"])
    assert client.post(url, data={"request-answer": "explode"}).status_code == 302
    assert _status(setup, shared_id) == "requested"
    response = client.post(url, data={"request-answer": "turn_down",
                                      "request-reason": "Not this one"})
    assert response.status_code == 302 and _status(setup, shared_id) == "turned_down"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "turned down" in page and "Confirm and offer" not in page


def test_the_member_who_asked_withdraws_through_the_page(client, auth, hiring, setup):
    auth.login(hiring["ann"])
    _ask(client, hiring)
    with setup():
        shared_id = db.session.scalar(sa.select(SharedPitch.id))
    response = client.post(f"/c/alpha/partners/shared/{shared_id}/request",
                           data={"request-answer": "withdraw"})
    assert response.status_code == 302 and _status(setup, shared_id) == "withdrawn"
    # The pitch is free: the form is offered again.
    page = client.get(f"/c/alpha/partners/hire/{hiring['pitch']}").get_data(as_text=True)
    assert "Ask our coordinators" in page


def test_a_member_not_on_the_pitch_gets_no_form_and_is_refused(client, auth, hiring, setup):
    auth.login(hiring["bob"])
    page = client.get(f"/c/alpha/pool/pitches/{hiring['pitch']}").get_data(as_text=True)
    assert HIRE not in page
    page = client.get(f"/c/alpha/partners/hire/{hiring['pitch']}").get_data(as_text=True)
    assert "Only a member allocated" in page and "Ask our coordinators" not in page
    response = _ask(client, hiring)
    assert response.status_code == 422 and "allocated" in response.get_data(as_text=True)
    with setup():
        assert db.session.scalar(sa.select(sa.func.count(SharedPitch.id))) == 0


def test_another_collective_gets_a_404_for_the_pitch_and_the_request(client, auth, hiring,
                                                                     setup):
    auth.login(hiring["ann"])
    _ask(client, hiring)
    with setup():
        shared_id = db.session.scalar(sa.select(SharedPitch.id))
    auth.login(hiring["stranger"])
    assert client.get(f"/c/gamma/partners/hire/{hiring['pitch']}").status_code == 404
    assert _ask(client, hiring).status_code == 404   # alpha's pages: not a member
    assert client.post(f"/c/gamma/partners/hire/{hiring['pitch']}",
                       data={"federation_id": hiring["federation"], "partner_bp": "1",
                             "note": "x"}).status_code == 404
    assert client.get(f"/c/gamma/partners/shared/{shared_id}").status_code == 404
    assert client.post(f"/c/gamma/partners/shared/{shared_id}/request",
                       data={"request-answer": "confirm"}).status_code == 404
    # The partner too: Alpha's pitch is not Beta's to hire for.
    auth.login(hiring["b"])
    assert client.get(f"/c/beta/partners/hire/{hiring['pitch']}").status_code == 404
    assert _status(setup, shared_id) == "requested"

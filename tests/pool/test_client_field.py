"""The client field of the new-work form does not list every client: above SELECT_LIMIT
clients it is a search box fed by a small JSON endpoint, and it still refuses any client
not of the collective."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from collective.extensions import db
from collective.pool import pickers
from collective.pool.models import Pitch
from tests.factories import commit, make_collective, make_member
from tests.pool.factories import make_client


@pytest.fixture
def world(setup):
    with setup():
        founder = make_collective()
        harbours = [make_client(founder, f"Harbour {n}") for n in range(3)]
        twins = [make_client(founder, name) for name in ("Twin Co", "Twin Corp")]
        plain = make_member(founder.collective)
        other = make_collective()
        stranger = make_client(other, "Harbour Elsewhere")
        commit()
        return SimpleNamespace(
            slug=founder.collective.slug, founder=founder.user.email, plain=plain.user.email,
            harbour_ids=[c.id for c in harbours], twin_ids=[c.id for c in twins],
            stranger_id=stranger.id, stranger=other.user.email,
            collective_id=founder.collective_id)


def _new_work(client, world, client_text: str):
    return client.post(f"/c/{world.slug}/pool/pitches/new", data={
        "title": "Logo", "client_id": client_text, "estimated_hours": "3", "value": "100",
        "value_currency": "USD", "finder_id": ""})


def _pitch_clients(setup, world) -> list[int]:
    with setup():
        return list(db.session.scalars(sa.select(Pitch.client_id).filter_by(
            collective_id=world.collective_id).order_by(Pitch.id)))


def test_a_few_clients_are_a_select_and_many_a_search_box(client, auth, world, monkeypatch):
    auth.login(world.founder)
    page = client.get(f"/c/{world.slug}/pool/pitches/new").get_data(as_text=True)
    assert '<select name="client_id"' in page and "Harbour Elsewhere" not in page
    select = page[page.index('<select name="client_id"'):]
    select = select[:select.index("</select>")]
    assert select.count("<option") == 5 and "Harbour 2</option>" in select

    monkeypatch.setattr(pickers, "SELECT_LIMIT", 4)
    page = client.get(f"/c/{world.slug}/pool/pitches/new").get_data(as_text=True)
    assert '<select name="client_id"' not in page
    assert f'data-member-search="/c/{world.slug}/pool/clients/search"' in page
    assert "Harbour 0" not in page and "Add a" not in page


def test_the_search_box_takes_a_suggestion_or_a_name_only_one_client_has(
        client, auth, setup, world, monkeypatch):
    monkeypatch.setattr(pickers, "SELECT_LIMIT", 1)
    auth.login(world.founder)
    h0, h1, _ = world.harbour_ids
    assert _new_work(client, world, f"Harbour 0 #{h0}").status_code == 302
    assert _new_work(client, world, "harbour 1").status_code == 302
    assert _pitch_clients(setup, world) == [h0, h1]

    # Text two clients match, none, or another collective's: a form error, nothing made.
    twice = _new_work(client, world, "Twin")
    assert twice.status_code == 200
    assert "Several clients match “Twin”" in twice.get_data(as_text=True)
    assert f"Twin Corp #{world.twin_ids[1]}" in twice.get_data(as_text=True)
    unknown = _new_work(client, world, "Nobody Ltd").get_data(as_text=True)
    assert "no client here matches “Nobody Ltd”" in unknown
    assert "Pick a client" in _new_work(client, world, f"#{world.stranger_id}").get_data(
        as_text=True)
    assert "Pick a client" in _new_work(client, world, "").get_data(as_text=True)
    assert _pitch_clients(setup, world) == [h0, h1]


def test_the_client_search_finds_this_collectives_clients_for_its_coordinators(
        client, auth, world):
    url = f"/c/{world.slug}/pool/clients/search"
    auth.login(world.founder)
    found = client.get(url, query_string={"q": "harb"}).get_json()["clients"]
    assert [c["name"] for c in found] == ["Harbour 0", "Harbour 1", "Harbour 2"]
    assert found[0]["label"] == f"Harbour 0 #{world.harbour_ids[0]}"
    assert client.get(url, query_string={"q": f"#{world.stranger_id}"}).get_json() == {
        "clients": []}
    assert client.get(url, query_string={"q": "%"}).get_json() == {"clients": []}
    auth.login(world.plain)
    assert client.get(url, query_string={"q": "harb"}).status_code == 403
    auth.login(world.stranger)
    assert client.get(url, query_string={"q": "harb"}).status_code == 404

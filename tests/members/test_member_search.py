"""Member fields do not list the whole directory: above SELECT_LIMIT members a form has a
search box fed by a small JSON endpoint, and still refuses anyone not of the collective."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from collective.extensions import db
from collective.ledger.models import JournalEntry
from collective.members import pickers
from tests.factories import commit, make_collective, make_member, make_user


@pytest.fixture
def world(setup):
    with setup():
        founder = make_collective(founder=make_user(name="Zoe Founder"))
        adas = [make_member(founder.collective, user=make_user(name=f"Ada {n:02d}"))
                for n in range(25)]
        twin = [make_member(founder.collective, user=make_user(name="Bo Twin"))
                for _ in range(2)]
        odd = make_member(founder.collective, user=make_user(name="Cy 100% Odd"))
        plain = adas[0]
        other = make_collective(founder=make_user(name="Ada Elsewhere"))
        commit()
        return SimpleNamespace(
            slug=founder.collective.slug, founder=founder.user.email,
            plain=plain.user.email, ada_ids=[a.id for a in adas], twin_ids=[t.id for t in twin],
            odd_id=odd.id, stranger_id=other.id, stranger=other.user.email,
            collective_id=founder.collective_id)


def _search(client, world, q: str, **args):
    response = client.get(f"/c/{world.slug}/members/search", query_string={"q": q, **args})
    assert response.status_code == 200
    return response.get_json()["members"]


def test_the_search_finds_at_most_twenty_members_of_this_collective(client, auth, world):
    auth.login(world.founder)
    found = _search(client, world, "ada")
    assert len(found) == 20
    assert [m["name"] for m in found] == [f"Ada {n:02d}" for n in range(20)]
    assert found[0] == {"id": world.ada_ids[0], "name": "Ada 00",
                        "label": f"Ada 00 #{world.ada_ids[0]}"}
    # Ada Elsewhere is a member of another collective: never found here.
    assert all(m["id"] != world.stranger_id for m in found)
    assert _search(client, world, "elsewhere") == []
    assert _search(client, world, f"#{world.stranger_id}") == []
    assert [m["id"] for m in _search(client, world, f"#{world.odd_id}")] == [world.odd_id]
    # A % or _ typed is a character to find, not a wildcard.
    assert [m["name"] for m in _search(client, world, "100%")] == ["Cy 100% Odd"]
    assert _search(client, world, "%") == [{"id": world.odd_id, "name": "Cy 100% Odd",
                                            "label": f"Cy 100% Odd #{world.odd_id}"}]
    assert _search(client, world, "_") == []
    assert _search(client, world, "") == []


def test_the_search_is_for_coordinators_and_treasurers_of_the_collective(client, auth,
                                                                         world):
    url = f"/c/{world.slug}/members/search?q=ada"
    assert client.get(url).status_code == 302  # to sign in
    auth.login(world.plain)
    assert client.get(url).status_code == 403
    auth.login(world.stranger)
    assert client.get(url).status_code == 404


def _deposit(client, world, member: str, key: str):
    return client.post(f"/c/{world.slug}/fund/deposits", data={
        "dep-membership_id": member, "dep-amount": "25", "dep-received_on": "2026-11-02",
        "dep-request_key": key})


def _deposits(setup, world) -> int:
    with setup():
        return db.session.scalar(sa.select(sa.func.count(JournalEntry.id)).filter_by(
            collective_id=world.collective_id, kind="deposit"))


@pytest.mark.parametrize("limit", [0, 100])
def test_a_member_field_refuses_a_member_of_another_collective(client, auth, setup, world,
                                                               monkeypatch, limit):
    monkeypatch.setattr(pickers, "SELECT_LIMIT", limit)
    auth.login(world.founder)
    for typed in (f"Ada Elsewhere #{world.stranger_id}", str(world.stranger_id), "Nobody",
                  ""):
        refused = _deposit(client, world, typed, f"k-{limit}-{typed}")
        assert refused.status_code == 422, typed
        assert "Pick a member" in refused.get_data(as_text=True), typed
    assert _deposits(setup, world) == 0
    chosen = _deposit(client, world, f"Ada 03 #{world.ada_ids[3]}", f"ok-{limit}")
    assert chosen.status_code == 302
    assert _deposits(setup, world) == 1


def test_a_search_box_resolves_a_typed_name_and_offers_the_matches(client, auth, setup,
                                                                   world, monkeypatch):
    monkeypatch.setattr(pickers, "SELECT_LIMIT", 10)
    auth.login(world.founder)
    page = client.get(f"/c/{world.slug}/fund/treasurer").get_data(as_text=True)
    assert 'data-member-search="/c/' in page and 'src="/static/member-search.js"' in page
    assert "<option" not in page[page.index('id="dep-membership_id-matches"'):
                                 page.index("</datalist>")]
    # Two members are called Bo Twin: the form asks which, offering both.
    twins = _deposit(client, world, "bo twin", "twin")
    assert twins.status_code == 422
    text = twins.get_data(as_text=True)
    assert "Several members match “bo twin”: pick one from the list." in text
    assert all(f'value="Bo Twin #{i}"' in text for i in world.twin_ids)
    # Without JavaScript, a name only one member has is enough.
    assert _deposit(client, world, "ada 07", "one").status_code == 302
    assert _deposits(setup, world) == 1

"""Skills proven by work through the pages: the member profile, endorsing, withdrawing, the
public profile's privacy, and that nothing of one collective shows in another."""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import date

import pytest
import sqlalchemy as sa

from collective.extensions import db
from collective.members import accounts
from collective.pool import payments, pitches, time
from collective.pool.evidence.models import Endorsement, PublicProfile
from collective.pool.models import PitchState
from tests.factories import commit, make_collective, make_member, make_user
from tests.pool.factories import NOW, TODAY, allocate, found_rule, make_client, make_pitch, move_to


@dataclass
class World:
    slug: str
    founder_email: str
    ann_email: str
    bob_email: str
    ann_id: int
    bob_id: int
    pitch_id: int
    secret_pitch_id: int
    other_slug: str
    other_email: str


@pytest.fixture
def world(setup) -> World:
    """Ann (12 h, bookkeeping 4) and Bob (6 h) delivered and were paid for 'Books clean-up'
    for Harbour (naming allowed), and 'Secret audit' for a client that does not allow it."""
    with setup():
        founder = make_collective()
        ann_user, bob_user = make_user("Ann Alpha"), make_user("Bob Beta")
        accounts.update_profile(ann_user, name="Ann Alpha", timezone="UTC", country="PH",
                                skills={"bookkeeping": 4, "payroll": 2})
        ann = make_member(founder.collective, user=ann_user)
        bob = make_member(founder.collective, user=bob_user)
        found_rule(founder)
        named = make_client(founder, "Harbour")
        named.is_naming_allowed = True
        hidden = make_client(founder, "Quiet Corp")
        ids = []
        for title, client in (("Books clean-up", named), ("Secret audit", hidden)):
            pitch = make_pitch(founder, client=client, title=title,
                               required_skills={"bookkeeping": 3})
            move_to(founder, pitch, PitchState.WON)
            work = {m.id: allocate(founder, pitch, m) for m in (ann, bob)}
            pitches.transition_pitch(founder, pitch, PitchState.IN_PROGRESS, at=NOW)
            for day in (1, 2):
                time.log_time(ann, work[ann.id], worked_on=date(2026, 10, day), minutes=360,
                              today=TODAY)
            time.log_time(bob, work[bob.id], worked_on=date(2026, 10, 3), minutes=360,
                          today=TODAY)
            pitches.transition_pitch(founder, pitch, PitchState.DELIVERED, at=NOW)
            payments.record_payment(founder, pitch, amount=123_456, currency="USD",
                                    received_on=TODAY, today=TODAY)
            ids.append(pitch.id)
        other = make_collective(make_user("Olga Other"))
        world = World(founder.collective.slug, founder.user.email, ann_user.email,
                      bob_user.email, ann.id, bob.id, ids[0], ids[1], other.collective.slug,
                      other.user.email)
        commit()
    return world


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _words(response) -> str:
    """The page's <main> as text: no tags, spaces collapsed."""
    main = response.get_data(as_text=True).split("<main", 1)[1]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", main)).split())


def _login(client, email: str):
    response = client.post("/login", data={"email": email, "password": "correct horse battery"})
    assert response.status_code == 302


def test_a_members_profile_shows_each_skill_with_hours_and_named_work(client, world):
    _login(client, world.bob_email)
    page = client.get(f"/c/{world.slug}/members/{world.ann_id}/profile")
    assert page.status_code == 200
    text = _words(page)
    # 12 h on each of the two pitches, in bookkeeping; payroll self-assessed, no work.
    assert "24 h of delivered work" in text
    assert "Books clean-up for Harbour" in text
    assert "1 pitch for private clients" in text
    assert "Secret audit" not in text
    assert "self-assessed 2 of 5" in text and "No delivered work credited yet." in text
    assert "1,234" not in text and "USD" not in text  # no money


def test_another_collectives_member_profile_and_pitch_are_404(client, world):
    _login(client, world.other_email)
    assert client.get(f"/c/{world.slug}/members/{world.ann_id}/profile").status_code == 404
    assert client.get(f"/c/{world.other_slug}/members/{world.ann_id}/profile"
                      ).status_code == 404
    assert client.get(f"/c/{world.other_slug}/pitches/{world.pitch_id}/endorse"
                      ).status_code == 404


def test_endorse_through_the_page_then_withdraw(client, setup, world):
    _login(client, world.ann_email)
    page = client.get(f"/c/{world.slug}/pitches/{world.pitch_id}/endorse")
    assert page.status_code == 200 and "Bob Beta" in _text(page)
    done = client.post(f"/c/{world.slug}/pitches/{world.pitch_id}/endorse",
                       data={"receiver_id": world.bob_id, "skill": "bookkeeping",
                             "note": "Reconciled three years in a week"})
    assert done.status_code == 302
    again = client.post(f"/c/{world.slug}/pitches/{world.pitch_id}/endorse",
                        data={"receiver_id": world.bob_id, "skill": "bookkeeping",
                              "note": "Twice"})
    assert again.status_code == 422 and "already endorsed" in _text(again)
    with setup():
        [given] = db.session.scalars(sa.select(Endorsement)).all()
        given_id = given.id
    profile = _text(client.get(f"/c/{world.slug}/members/{world.bob_id}/profile"))
    assert "Reconciled three years in a week" in profile and "Ann Alpha" in profile
    assert client.get(f"/c/{world.slug}/endorsements/{given_id}/withdraw").status_code == 405
    gone = client.post(f"/c/{world.slug}/endorsements/{given_id}/withdraw")
    assert gone.status_code == 302
    with setup():
        assert db.session.get(Endorsement, given_id).withdrawn_at is not None
    assert "Reconciled" not in _text(
        client.get(f"/c/{world.slug}/members/{world.bob_id}/profile"))


@pytest.mark.parametrize("data, field_error", [
    ({"receiver_id": "self", "skill": "bookkeeping", "note": "x"}, "Not a valid choice"),
    ({"skill": "bookkeeping", "note": "x"}, "Choose a colleague"),
    ({"receiver_id": "B", "skill": "payroll", "note": "x"}, "Not a valid choice"),
    ({"receiver_id": "B", "skill": "bookkeeping", "note": "x" * 281}, "280"),
    ({"receiver_id": "B", "skill": "bookkeeping", "note": ""}, "few words"),
])
def test_a_bad_endorsement_is_a_form_error_and_writes_nothing(client, setup, world, data,
                                                              field_error):
    _login(client, world.ann_email)
    data = {k: (world.ann_id if v == "self" else world.bob_id if v == "B" else v)
            for k, v in data.items()}
    refused = client.post(f"/c/{world.slug}/pitches/{world.pitch_id}/endorse", data=data)
    assert refused.status_code == 422
    assert field_error in _text(refused)
    with setup():
        assert db.session.scalar(sa.select(sa.func.count(Endorsement.id))) == 0


def test_the_public_profile_is_off_until_published_and_shows_only_what_was_chosen(
        client, setup, world):
    _login(client, world.bob_email)
    client.post(f"/c/{world.slug}/pitches/{world.pitch_id}/endorse",
                data={"receiver_id": world.ann_id, "skill": "bookkeeping",
                      "note": "Spotted every duplicate"})
    client.post("/logout")
    _login(client, world.ann_email)
    with setup():
        assert db.session.scalar(sa.select(PublicProfile)) is None  # off by default
    saved = client.post(f"/c/{world.slug}/profile/public",
                        data={"skills": ["bookkeeping"], "is_published": "y"})
    assert saved.status_code == 302
    with setup():
        slug = db.session.scalar(sa.select(PublicProfile.slug))
    client.post("/logout")

    public = client.get(f"/p/{slug}")  # nobody signed in
    assert public.status_code == 200
    text, main = _text(public), _words(public)
    assert "Ann Alpha" in text and "bookkeeping" in main
    assert "24 h of delivered work" in main and "Books clean-up for Harbour" in main
    assert "1 pitch for private clients" in main and "Secret audit" not in main
    assert "Spotted every duplicate" in main
    # Nothing she did not choose, nothing about money, no colleague or collective named.
    for absent in ("payroll", "Bob Beta", "1,234", "USD", "$", world.slug, "Collective "):
        assert absent not in text, absent

    # Unpublished: 404; published again: a new address, and the old one stays dead.
    _login(client, world.ann_email)
    client.post(f"/c/{world.slug}/profile/public", data={"skills": ["bookkeeping"]})
    assert client.get(f"/p/{slug}").status_code == 404
    client.post(f"/c/{world.slug}/profile/public",
                data={"skills": ["bookkeeping"], "is_published": "y"})
    with setup():
        new_slug = db.session.scalar(sa.select(PublicProfile.slug))
    assert new_slug != slug
    assert client.get(f"/p/{slug}").status_code == 404
    assert client.get(f"/p/{new_slug}").status_code == 200


def test_publishing_needs_a_skill_and_only_ones_own(client, setup, world):
    _login(client, world.ann_email)
    none = client.post(f"/c/{world.slug}/profile/public", data={"is_published": "y"})
    assert none.status_code == 422 and "at least one skill" in _text(none)
    foreign = client.post(f"/c/{world.slug}/profile/public",
                          data={"skills": ["surgery"], "is_published": "y"})
    assert foreign.status_code == 422
    with setup():
        assert db.session.scalar(sa.select(sa.func.count(PublicProfile.id))) == 0


def test_unknown_public_addresses_are_404(client):
    assert client.get("/p/nothing-here").status_code == 404
    assert client.get("/p/" + "x" * 40).status_code == 404


def test_the_pages_write_nothing_on_get(client, setup, world):
    _login(client, world.ann_email)
    for path in (f"/c/{world.slug}/skills", f"/c/{world.slug}/profile/public",
                 f"/c/{world.slug}/pitches/{world.pitch_id}/endorse",
                 f"/c/{world.slug}/members/{world.bob_id}/profile"):
        assert client.get(path).status_code == 200, path
    with setup():
        assert db.session.scalar(sa.select(sa.func.count(PublicProfile.id))) == 0
        assert db.session.scalar(sa.select(sa.func.count(Endorsement.id))) == 0


def test_the_suggestions_say_what_was_delivered(client, setup, world):
    with setup():
        from collective.members.models import Membership
        founder = db.session.scalar(sa.select(Membership).join(Membership.user)
                                    .where(sa.text("users.email = :e")).params(
                                        e=world.founder_email))
        pitch = make_pitch(founder, required_skills={"bookkeeping": 2}, title="Next books")
        move_to(founder, pitch, PitchState.WON)
        pitch_id = pitch.id
        commit()
    _login(client, world.founder_email)
    page = _text(client.get(f"/c/{world.slug}/pool/pitches/{pitch_id}/allocate"))
    assert re.search(r"Ann Alpha</td>.*?24 h delivered in bookkeeping", page, re.S)
    assert re.search(r"Bob Beta</td>.*?12 h delivered in bookkeeping", page, re.S)

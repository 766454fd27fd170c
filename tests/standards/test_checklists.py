"""Delivery checklists: marking work delivered against its kind's checklist, the second
member's confirmation (never the one who delivered), a snapshot that later edits do not
rewrite, the pages, and the quarterly share on the coordinator's dashboard."""
from __future__ import annotations

from datetime import UTC, date, datetime
from fractions import Fraction
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from collective.errors import DomainError
from collective.extensions import db
from collective.members.models import Membership
from collective.pool.models import Pitch, PitchState
from collective.standards import checklists, queries
from collective.standards.models import Delivery, DeliveryItem
from tests.factories import commit, make_collective, make_member
from tests.forms import form_values
from tests.pool.factories import make_pitch, move_to

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TODAY = NOW.date()
CLEAN_UP = [("Reconciled", False), ("Reviewed by a second member", True),
            ("Client sign-off", False)]


def _work(coordinator, title="Clean-up") -> Pitch:
    return move_to(coordinator, make_pitch(coordinator, title=title), PitchState.IN_PROGRESS)


@pytest.fixture
def world(app, setup):
    with setup():
        coordinator = make_collective()
        reviewer = make_member(coordinator.collective)
        checklist = checklists.create_checklist(coordinator, kind="Bookkeeping clean-up",
                                                items=CLEAN_UP)
        pitch = _work(coordinator)
        stranger = make_collective()
        commit()
        return SimpleNamespace(
            slug=coordinator.collective.slug, coordinator=coordinator.user.email,
            reviewer=reviewer.user.email, stranger=stranger.user.email,
            stranger_slug=stranger.collective.slug, checklist_id=checklist.id,
            pitch_id=pitch.id, coordinator_id=coordinator.id, reviewer_id=reviewer.id)


def _get(model, object_id):
    return db.session.get(model, object_id)


def test_the_items_text_reads_a_plus_as_needing_a_second_member():
    assert checklists.parse_items("Reconciled\n+ Reviewed by a second member\n\n  Client "
                                  "  sign-off ") == CLEAN_UP


def test_delivering_ticks_items_and_the_second_member_completes_the_checklist(setup, world):
    with setup():
        coordinator = _get(Membership, world.coordinator_id)
        reviewer = _get(Membership, world.reviewer_id)
        pitch = _get(Pitch, world.pitch_id)
        delivery = checklists.deliver_pitch(coordinator, pitch,
                                            checklist_id=world.checklist_id,
                                            ticked={1, 2, 3}, today=TODAY, at=NOW)
        assert pitch.pitch_state == PitchState.DELIVERED
        assert (delivery.kind, delivery.quarter, delivery.checklist_version) == (
            "Bookkeeping clean-up", "2026-Q4", 1)
        # The second-member item cannot be ticked by the one who delivers.
        assert [(i.label, i.is_ticked, i.is_done) for i in delivery.items] == [
            ("Reconciled", True, True), ("Reviewed by a second member", False, False),
            ("Client sign-off", True, True)]
        assert not delivery.is_met
        review = delivery.items[1]
        with pytest.raises(DomainError, match="not the one who delivered"):
            checklists.confirm_item(coordinator, delivery, review.id, at=NOW)
        with pytest.raises(DomainError, match="needs no second member"):
            checklists.confirm_item(reviewer, delivery, delivery.items[0].id, at=NOW)
        checklists.confirm_item(reviewer, delivery, review.id, at=NOW)
        assert delivery.is_met and delivery.met_at == NOW
        assert _get(DeliveryItem, review.id).confirmed_by_id == reviewer.id
        with pytest.raises(DomainError, match="already"):
            checklists.confirm_item(make_member(coordinator.collective), delivery, review.id,
                                    at=NOW)


def test_an_unticked_item_leaves_the_checklist_unmet(setup, world):
    with setup():
        coordinator = _get(Membership, world.coordinator_id)
        delivery = checklists.deliver_pitch(coordinator, _get(Pitch, world.pitch_id),
                                            checklist_id=world.checklist_id, ticked={1},
                                            today=TODAY, at=NOW)
        checklists.confirm_item(_get(Membership, world.reviewer_id), delivery,
                                delivery.items[1].id, at=NOW)
        assert not delivery.is_met


def test_work_is_delivered_once_and_a_refused_delivery_writes_nothing(setup, world):
    with setup():
        coordinator = _get(Membership, world.coordinator_id)
        pitch = _get(Pitch, world.pitch_id)
        checklists.deliver_pitch(coordinator, pitch, checklist_id=world.checklist_id,
                                 ticked={1}, today=TODAY, at=NOW)
        with pytest.raises(DomainError):
            checklists.deliver_pitch(coordinator, pitch, checklist_id=world.checklist_id,
                                     ticked={1}, today=TODAY, at=NOW)
        assert db.session.scalar(sa.select(sa.func.count(Delivery.id))
                                 .filter_by(pitch_id=pitch.id)) == 1
        with pytest.raises(DomainError):  # a plain member may not deliver
            checklists.deliver_pitch(_get(Membership, world.reviewer_id),
                                     _work(coordinator, "Other"), checklist_id=None,
                                     today=TODAY, at=NOW)


def test_editing_a_checklist_makes_a_new_version_and_keeps_delivered_items(setup, world):
    with setup():
        coordinator = _get(Membership, world.coordinator_id)
        delivery = checklists.deliver_pitch(coordinator, _get(Pitch, world.pitch_id),
                                            checklist_id=world.checklist_id, ticked={1, 3},
                                            today=TODAY, at=NOW)
        checklist = checklists.get_checklist(coordinator.collective_id, world.checklist_id)
        checklists.edit_checklist(coordinator, checklist, kind="Bookkeeping clean-up",
                                  items=[("Reconciled to the cent", False)])
        assert checklist.version == 2
        assert [i.label for i in checklist.items] == ["Reconciled to the cent"]
        db.session.expire_all()
        assert [i.label for i in _get(Delivery, delivery.id).items] == [
            "Reconciled", "Reviewed by a second member", "Client sign-off"]
        assert _get(Delivery, delivery.id).checklist_version == 1
        checklists.edit_checklist(coordinator, checklist, kind="Bookkeeping clean-up",
                                  items=[("Reconciled to the cent", False)])
        assert checklist.version == 2  # nothing changed: same version


def test_only_coordinators_define_checklists_and_kinds_are_unique(setup, world):
    with setup():
        coordinator = _get(Membership, world.coordinator_id)
        with pytest.raises(DomainError):
            checklists.create_checklist(_get(Membership, world.reviewer_id), kind="Copy",
                                        items=[("Proofread", False)])
        with pytest.raises(DomainError) as taken:
            checklists.create_checklist(coordinator, kind="bookkeeping  CLEAN-UP",
                                        items=[("x", False)])
        assert taken.value.field == "kind"
        with pytest.raises(DomainError) as empty:
            checklists.create_checklist(coordinator, kind="Copy", items=[])
        assert empty.value.field == "items"


def test_the_quarterly_share_per_kind_on_a_hand_checked_example(setup, app):
    """Q3: 2 clean-ups, 1 met (50%). Q4: 3 clean-ups, 2 met (67%); 1 copy edit, met (100%).
    A delivery from Q4 of last year is outside the four quarters."""
    with setup():
        coordinator = make_collective()
        reviewer = make_member(coordinator.collective)
        clean_up = checklists.create_checklist(coordinator, kind="Bookkeeping clean-up",
                                               items=CLEAN_UP)
        copy = checklists.create_checklist(coordinator, kind="Copy edit",
                                           items=[("Proofread", False)])
        plan = [(date(2025, 12, 1), clean_up, True), (date(2026, 8, 3), clean_up, True),
                (date(2026, 9, 30), clean_up, False), (date(2026, 10, 1), clean_up, True),
                (date(2026, 11, 2), clean_up, True), (date(2026, 11, 3), clean_up, False),
                (date(2026, 11, 4), copy, True)]
        for n, (day, checklist, met) in enumerate(plan):
            at = datetime.combine(day, NOW.timetz())
            delivery = checklists.deliver_pitch(
                coordinator, _work(coordinator, f"W{n}"), checklist_id=checklist.id,
                ticked={1, 3} if met else {1}, today=day, at=at)
            for item in delivery.items:
                if item.is_second_member:
                    checklists.confirm_item(reviewer, delivery, item.id, at=at)
        shares = queries.checklist_shares(coordinator.collective_id, TODAY)
        assert [(s.quarter, s.kind, s.deliveries, s.met, s.share) for s in shares] == [
            ("2026-Q3", "Bookkeeping clean-up", 2, 1, 50),
            ("2026-Q4", "Bookkeeping clean-up", 3, 2, 67),
            ("2026-Q4", "Copy edit", 1, 1, 100),
        ]
        assert queries.first_quarter(date(2026, 2, 1)) == "2025-Q2"


def test_delivering_and_confirming_through_the_pages(client, auth, setup, world):
    auth.login(world.coordinator)
    pitch_page = client.get(f"/c/{world.slug}/pool/pitches/{world.pitch_id}").data.decode()
    deliver = f"/c/{world.slug}/standards/pitches/{world.pitch_id}/deliver"
    assert deliver in pitch_page
    page = client.get(deliver).data.decode()  # the only checklist is chosen already
    assert "Reconciled" in page and "Client sign-off" in page
    assert "Reviewed by a second member" in page
    version = form_values(page)["version"]
    response = client.post(deliver, data={"checklist_id": str(world.checklist_id),
                                          "ticked": ["1", "3"], "version": version})
    assert response.status_code == 302
    delivery_url = response.headers["Location"]
    page = client.get(delivery_url).data.decode()
    assert "checklist not met yet" in page and ">Confirm</button>" not in page
    assert client.get(deliver).status_code == 302  # delivered: back to the pitch
    with setup():
        delivery = db.session.scalar(sa.select(Delivery).filter_by(pitch_id=world.pitch_id))
        review_id = delivery.items[1].id
    confirm = f"{delivery_url}/items/{review_id}/confirm"
    client.post(confirm, data={})
    with setup():
        assert db.session.get(DeliveryItem, review_id).confirmed_at is None
    auth.logout()

    auth.login(world.reviewer)
    assert "Clean-up" in client.get(f"/c/{world.slug}/standards/").data.decode()
    assert client.get(deliver).status_code == 403  # coordinators deliver
    assert client.post(confirm, data={}).status_code == 302
    assert "met its checklist" in client.get(delivery_url).data.decode()
    auth.logout()

    auth.login(world.stranger)
    assert client.get(delivery_url).status_code == 404
    theirs = delivery_url.replace(f"/c/{world.slug}/", f"/c/{world.stranger_slug}/")
    assert client.get(theirs).status_code == 404
    assert client.post(theirs.rstrip("/") + f"/items/{review_id}/confirm",
                       data={}).status_code == 404


def test_the_coordinators_dashboard_shows_the_share_as_a_chart_with_its_table(
        client, auth, setup, world):
    with setup():
        coordinator = _get(Membership, world.coordinator_id)
        checklists.deliver_pitch(coordinator, _get(Pitch, world.pitch_id),
                                 checklist_id=world.checklist_id, ticked={1, 3},
                                 today=TODAY, at=NOW)
        commit()
    auth.login(world.coordinator)
    page = client.get(f"/c/{world.slug}/dashboard").data.decode()
    section = page.split('id="standards"')[1]
    assert "Share of deliveries per kind of work that met their checklist" in section
    assert "<td>2026-Q4</td><td>Bookkeeping clean-up</td>" in section
    assert '<td class="num">1</td><td class="num">0</td><td class="num">0%</td>' in section
    auth.logout()
    auth.login(world.reviewer)
    assert 'id="standards"' not in client.get(f"/c/{world.slug}/dashboard").data.decode()


def test_coordinators_add_and_edit_checklists_on_their_pages(client, auth, setup, world):
    auth.login(world.reviewer)
    assert client.get(f"/c/{world.slug}/standards/checklists/new").status_code == 403
    auth.logout()
    auth.login(world.coordinator)
    new = f"/c/{world.slug}/standards/checklists/new"
    refused = client.post(new, data={"kind": "Copy edit", "items": "\n \n"})
    assert refused.status_code == 422
    assert client.post(new, data={"kind": "Copy edit", "items": "Proofread\n+ Second read",
                                  "is_active": "y"}).status_code == 302
    taken = client.post(new, data={"kind": "copy EDIT", "items": "x"})
    assert taken.status_code == 422 and "has a checklist already" in taken.data.decode()
    edit = f"/c/{world.slug}/standards/checklists/{world.checklist_id}"
    shown = form_values(client.get(edit).data.decode())
    assert shown["items"] == ("Reconciled\n+ Reviewed by a second member\nClient sign-off")
    assert client.post(edit, data={"kind": "Bookkeeping clean-up", "items": "Reconciled"}
                       ).status_code == 302  # unticked "offered": retired
    with setup():
        checklist = checklists.get_checklist(
            _get(Membership, world.coordinator_id).collective_id, world.checklist_id)
        assert (checklist.version, checklist.is_active) == (2, False)
    page = client.get(f"/c/{world.slug}/standards/").data.decode()
    assert "Copy edit" in page and "retired" in page
    # A retired checklist is not offered when work is delivered.
    deliver = client.get(f"/c/{world.slug}/standards/pitches/{world.pitch_id}/deliver")
    assert "Bookkeeping clean-up" not in deliver.data.decode()
    auth.logout()
    auth.login(world.stranger)
    assert client.get(edit).status_code == 404
    assert client.get(edit.replace(world.slug, world.stranger_slug)).status_code == 404


def test_work_delivered_without_a_checklist_says_so_from_its_page(client, auth, setup, world):
    auth.login(world.coordinator)
    deliver = f"/c/{world.slug}/standards/pitches/{world.pitch_id}/deliver"
    page = client.get(f"{deliver}?checklist=0").data.decode()
    response = client.post(deliver, data={"checklist_id": "0",
                                          "version": form_values(page)["version"]})
    assert response.headers["Location"].endswith(f"/pool/pitches/{world.pitch_id}")
    with setup():
        assert _get(Pitch, world.pitch_id).pitch_state == PitchState.DELIVERED
        assert db.session.scalar(sa.select(sa.func.count(Delivery.id))) == 0
    found = client.get(f"/c/{world.slug}/standards/pitches/{world.pitch_id}/delivery")
    assert found.headers["Location"].endswith(f"/pool/pitches/{world.pitch_id}")
    auth.logout()
    auth.login(world.stranger)
    assert client.get(f"/c/{world.stranger_slug}/standards/pitches/{world.pitch_id}/delivery"
                      ).status_code == 404


def test_a_stale_delivery_form_is_refused_with_a_conflict(client, auth, setup, world):
    auth.login(world.coordinator)
    deliver = f"/c/{world.slug}/standards/pitches/{world.pitch_id}/deliver"
    response = client.post(deliver, data={"checklist_id": str(world.checklist_id),
                                          "ticked": ["1"], "version": "1"})
    assert response.status_code == 409
    with setup():
        assert _get(Pitch, world.pitch_id).pitch_state == PitchState.IN_PROGRESS
        assert db.session.scalar(sa.select(sa.func.count(Delivery.id))) == 0


@given(met=st.integers(0, 10_000), extra=st.integers(0, 10_000))
def test_the_share_is_the_whole_percent_rounded_half_up(met, extra):
    deliveries = met + extra
    if deliveries == 0:
        return
    share = queries.KindQuarter("2026-Q4", "Any", deliveries, met).share
    exact = Fraction(100 * met, deliveries)
    assert 0 <= share <= 100
    assert share == int(exact + Fraction(1, 2))

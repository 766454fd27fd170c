"""A payment's split page: who got what and why, every line by default, only one's own line
for plain members when the collective hides the others, scoped to the collective.

The world's payment (tests/test_pool_views.py): $1,000.00 under rule v1 (10% common fund, 5%
finder's fee, the rest by logged hours); Alice found the work and logged 3 hours, Bob 1,
the founder none: the fund gets $100.00, Alice $50.00 + $637.50, Bob $212.50.
"""
from __future__ import annotations

import re
from datetime import date

import sqlalchemy as sa

from collective.extensions import db
from collective.members.models import Collective, Membership
from collective.pool import allocation, payments
from collective.pool.models import ClientPayment
from tests import test_pool_views
from tests.factories import commit, make_collective
from tests.test_pool_views import (
    _errors,
    _flashes,
    _login,
    _text,
)

world = test_pool_views.world  # the fixture: a collective with one split payment

#: A member's line: name (and "you"), hours, share, received, and the finder's fee in that.
_LINE = re.compile(r'<tr(?: class="mine")?><td>([^<]+?)(?: <span class="badge ok">you</span>)?'
                   r'</td>\s*<td class="num">([^<]+)</td>\s*<td class="num">([^<]+)</td>\s*'
                   r'<td class="num">([^<]+)(?:<small class="muted">incl\. ([^ ]+) '
                   r"finder's fee</small>)?</td></tr>")
_SUMMARY = re.compile(r'<tr><td>([^<]+)</td><td class="num">([^<]+)</td></tr>')


def _url(world, payment_id: int | None = None) -> str:
    return f"/c/{world.slug}/pool/payments/{payment_id or world.payment_id}"


def _hide_others(setup, world, hidden: bool = True) -> None:
    with setup():
        db.session.get(Membership, world.founder_id).collective.is_split_private = hidden
        commit()


def _founder_name(setup, world) -> str:
    with setup():
        return db.session.get(Membership, world.founder_id).user.name


def test_the_treasurer_sees_who_got_what_and_why(client, auth, setup, world):
    _login(auth, world.treasurer)

    page = _text(client.get(_url(world)))

    assert "v1, in force from" in page
    assert "10% common fund, 5% finder's fee, the rest by logged hours" in page
    assert "split by 4 hours logged" in page
    assert "by Cora Coordinator" in page
    assert _SUMMARY.findall(page) == [
        ("Common fund (10%)", "$100.00"),
        ("Finder's fee (5%, to Alice Ng)", "$50.00"),
        ("Members' part, by hours logged", "$850.00")]
    assert _LINE.findall(page) == [
        ("Alice Ng", "3 h", "$637.50", "$687.50", "$50.00"),
        ("Bob Oduya", "1 h", "$212.50", "$212.50", ""),
        (_founder_name(setup, world), "0 h", "$0.00", "$0.00", "")]


def test_a_member_sees_every_line_by_default_with_their_own_marked(client, auth, setup, world):
    _login(auth, world.bob)

    response = client.get(_url(world))

    assert response.status_code == 200
    page = _text(response)
    assert len(_LINE.findall(page)) == 3
    assert '<tr class="mine"><td>Bob Oduya <span class="badge ok">you</span>' in page


def test_the_collective_can_hide_other_members_lines_from_plain_members(
        client, auth, setup, world):
    _hide_others(setup, world)
    _login(auth, world.bob)

    page = _text(client.get(_url(world)))

    assert _LINE.findall(page) == [("Bob Oduya", "1 h", "$212.50", "$212.50", "")]
    assert "Alice Ng" not in page
    assert re.search(r'2 other members \(the collective shows each member only their own '
                     r'line\)</td><td class="num">\$687.50</td>', page)
    assert ("Finder's fee (5%)", "$50.00") in _SUMMARY.findall(page)

    # The finder sees their own fee named; a coordinator or treasurer still sees everyone.
    _login(auth, world.alice)
    assert ("Finder's fee (5%, to Alice Ng)", "$50.00") in _SUMMARY.findall(
        _text(client.get(_url(world))))
    for who in (world.treasurer, world.coordinator):
        _login(auth, who)
        assert len(_LINE.findall(_text(client.get(_url(world))))) == 3


def test_a_coordinator_sets_the_privacy_in_the_settings_form(client, auth, setup, world):
    _login(auth, world.coordinator)
    url = f"/c/{world.slug}/pool/settings"
    assert re.search(r'<input [^>]*id="is_split_private" name="is_split_private" type="checkbox"',
                     _text(client.get(url)))

    response = client.post(url, data={"is_split_private": "y"})

    assert response.status_code == 302, _errors(response)
    assert ("info", "The settings are saved.") in _flashes(client.get(url))
    with setup():
        assert db.session.scalar(sa.select(Collective.is_split_private)
                                 .filter_by(slug=world.slug)) is True
    assert re.search(r'<input [^>]*checked[^>]* name="is_split_private"', _text(client.get(url)))

    client.post(url, data={})   # an unticked box sends nothing: every line again
    with setup():
        assert db.session.scalar(sa.select(Collective.is_split_private)
                                 .filter_by(slug=world.slug)) is False


def test_a_plain_member_cannot_change_the_setting(client, auth, setup, world):
    _login(auth, world.alice)
    assert client.post(f"/c/{world.slug}/pool/settings",
                       data={"is_split_private": "y"}).status_code == 403
    with setup():
        assert db.session.scalar(sa.select(Collective.is_split_private)
                                 .filter_by(slug=world.slug)) is False


def test_another_collectives_payment_is_not_found(client, auth, setup, world):
    with setup():
        other = make_collective()
        commit()
        other_slug = other.collective.slug
    _login(auth, world.treasurer)
    assert client.get(f"/c/{other_slug}/pool/payments/{world.payment_id}").status_code == 404
    assert client.get(_url(world, 2**31 - 1)).status_code == 404


def test_the_payments_list_the_pitch_page_and_my_shares_link_to_the_split(client, auth,
                                                                         world):
    link = f'href="{_url(world)}"'
    _login(auth, world.coordinator)
    assert link in _text(client.get(f"/c/{world.slug}/pool/payments"))
    assert link in _text(client.get(f"/c/{world.slug}/pool/pitches/{world.pitch_id}"))
    _login(auth, world.alice)
    assert link in _text(client.get(f"/c/{world.slug}/pool/shares"))


def test_a_reversed_payment_still_shows_its_split_and_says_it_was_reversed(
        client, auth, setup, world):
    with setup():
        treasurer = db.session.get(Membership, world.treasurer_id)
        payments.reverse_payment(treasurer, db.session.get(ClientPayment, world.payment_id))
        commit()
    _login(auth, world.bob)

    page = _text(client.get(_url(world)))

    assert '<span class="badge warn">reversed</span>' in page
    assert ("Bob Oduya", "1 h", "$212.50", "$212.50", "") in _LINE.findall(page)
    # Bob's shares, the payments list and the pitch page say so too.
    assert '<span class="badge warn">reversed</span>' in _text(
        client.get(f"/c/{world.slug}/pool/shares"))
    _login(auth, world.treasurer)
    for url in ("pool/payments", f"pool/pitches/{world.pitch_id}"):
        assert '<span class="badge warn">reversed</span>' in _text(
            client.get(f"/c/{world.slug}/{url}")), url


def test_a_split_by_weights_shows_each_members_weight(client, auth, setup, world):
    # Every hour logged was used by the world's payment: the next one goes by weights.
    with setup():
        coordinator = db.session.get(Membership, world.coordinator_id)
        second = payments.record_payment(
            coordinator, db.session.get(ClientPayment, world.payment_id).pitch,
            amount=40_000, currency="USD", received_on=date.today(), reference="INV-2",
            today=date.today())
        commit()
        second_id = second.id
    _login(auth, world.treasurer)

    page = _text(client.get(_url(world, second_id)))

    assert "<th class=\"num\">Weight</th>" in page
    # $400.00: $40.00 to the fund, $20.00 to Alice for finding it, $340.00 by 2 : 1 : 1.
    assert _LINE.findall(page) == [
        ("Alice Ng", "2", "$170.00", "$190.00", "$20.00"),
        ("Bob Oduya", "1", "$85.00", "$85.00", ""),
        (_founder_name(setup, world), "1", "$85.00", "$85.00", "")]


def test_after_the_allocation_changed_the_page_shows_the_posted_amounts_and_says_so(
        client, auth, setup, world):
    with setup():
        coordinator = db.session.get(Membership, world.coordinator_id)
        pitch = db.session.get(ClientPayment, world.payment_id).pitch
        second = payments.record_payment(      # by weights: the founder gets $85.00
            coordinator, pitch, amount=40_000, currency="USD", received_on=date.today(),
            reference="INV-2", today=date.today())
        allocation.remove_allocation(coordinator, pitch, world.founder_id)
        commit()
        second_id = second.id
    _login(auth, world.treasurer)

    page = _text(client.get(_url(world, second_id)))

    assert "The breakdown into shares and the finder's fee cannot be rebuilt" in page
    rows = re.findall(r'<tr><td>([^<]+)</td>\s*<td class="num">([^<]+)</td>\s*'
                      r'<td class="num">([^<]+)</td></tr>', page)
    assert rows == [("Alice Ng", "2", "$190.00"), ("Bob Oduya", "1", "$85.00"),
                    (_founder_name(setup, world), "0", "$85.00")]
    assert ("Common fund (10%)", "$40.00") in _SUMMARY.findall(page)

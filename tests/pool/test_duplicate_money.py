"""Money that looks entered twice: a client payment like one that stands, or a second payout
of the same amount to the same member on the same day, waits for an explicit "record it
again"; the same form sent again (Back, then send) posts nothing new and shows the first.

The world (tests/test_pool_views.py) has one payment of $1,000.00, reference INV-1,
received today on "Annual report", recorded by Cora Coordinator; Alice is owed $687.50.
"""
from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

from collective.extensions import db
from collective.ledger.models import JournalEntry
from collective.members.models import Membership
from collective.pool import payments, payouts
from collective.pool.models import ClientPayment, Pitch
from tests import test_pool_views
from tests.test_pool_views import (
    _balances,
    _counts,
    _diff,
    _errors,
    _flashes,
    _login,
    _path,
    _text,
)

world = test_pool_views.world  # the fixture: a collective with one split payment

TODAY = date.today()


def _pay(setup, world, *, reference: str = "INV-1", amount: int = 100_000,
         confirm: bool = False, on: date = TODAY) -> int:
    with setup():
        coordinator = db.session.get(Membership, world.coordinator_id)
        payment = payments.record_payment(
            coordinator, db.session.get(Pitch, world.pitch_id), amount=amount, currency="USD",
            received_on=on, reference=reference, confirm_duplicate=confirm, today=TODAY)
        db.session.commit()
        return payment.id


# --- Client payments, in the service ----------------------------------------------------


def test_a_payment_like_one_that_stands_is_refused_until_confirmed(setup, world):
    before = _counts(setup)

    with pytest.raises(payments.DuplicatePayment) as caught:
        _pay(setup, world, reference="inv-1")   # the reference in another case is the same

    assert caught.value.earlier.id == world.payment_id
    assert caught.value.field == "confirm_duplicate"
    assert caught.value.message == (
        f"$1,000.00 with reference INV-1 was already recorded for this work on "
        f"{TODAY.isoformat()} (payment {world.payment_id}, by Cora Coordinator); record it "
        "again only if the client really paid twice")
    assert _counts(setup) == before

    second = _pay(setup, world, confirm=True)

    assert second != world.payment_id
    assert _diff(before, _counts(setup))["ClientPayment"] == 1


def test_another_amount_or_reference_is_not_a_duplicate(setup, world):
    before = _counts(setup)
    _pay(setup, world, amount=100_001)
    _pay(setup, world, reference="INV-2")
    assert _diff(before, _counts(setup))["ClientPayment"] == 2


def test_a_reversed_payment_does_not_count_as_the_earlier_one(setup, world):
    with setup():
        treasurer = db.session.get(Membership, world.treasurer_id)
        payments.reverse_payment(treasurer, db.session.get(ClientPayment, world.payment_id))
        db.session.commit()
    before = _counts(setup)
    _pay(setup, world)
    assert _diff(before, _counts(setup))["ClientPayment"] == 1


def test_without_a_reference_only_the_same_day_counts(setup, world):
    # A retainer's equal monthly payments carry no reference and are not duplicates.
    yesterday = date.fromordinal(TODAY.toordinal() - 1)
    _pay(setup, world, reference="", on=yesterday)
    _pay(setup, world, reference="")
    with pytest.raises(payments.DuplicatePayment):
        _pay(setup, world, reference="")


# --- Client payments, through the page --------------------------------------------------


def test_the_page_shows_the_earlier_payment_then_records_it_again_once_confirmed(
        client, auth, setup, world):
    _login(auth, world.coordinator)
    url = f"/c/{world.slug}/pool/pitches/{world.pitch_id}/payments/new"
    form = {"amount": "1,000.00", "currency": "USD", "received_on": TODAY.isoformat(),
            "reference": "INV-1", "request_key": "b" * 32}
    before = _counts(setup)

    caught = client.post(url, data=form)

    assert caught.status_code == 409
    page = _text(caught)
    assert "Recorded already?" in page
    assert f'href="/c/{world.slug}/pool/payments/{world.payment_id}"' in page
    assert "by Cora Coordinator" in page
    assert 'name="confirm_duplicate"' in page
    assert 'value="1,000.00"' in page and 'value="INV-1"' in page   # what was typed stays
    assert _counts(setup) == before

    confirmed = client.post(url, data={**form, "confirm_duplicate": "y"})

    assert confirmed.status_code == 302, _errors(confirmed)
    # Bank, income, members' shares and finder's fee, and the members' three payables.
    assert _diff(before, _counts(setup)) == {"ClientPayment": 1, "JournalEntry": 1,
                                             "Posting": 7}
    with setup():
        second = db.session.scalar(sa.select(ClientPayment.id).filter_by(
            request_key="b" * 32))

    # Back, then send the confirmed form again: nothing new, and the payment it recorded.
    again = client.post(url, data={**form, "confirm_duplicate": "y"})

    assert again.status_code == 302
    assert _path(again) == f"/c/{world.slug}/pool/payments/{second}"
    # Bank, income, members' shares and finder's fee, and the members' three payables.
    assert _diff(before, _counts(setup)) == {"ClientPayment": 1, "JournalEntry": 1,
                                             "Posting": 7}
    assert ("info", f"This form was sent already: it recorded payment {second}, shown "
                    "here. Nothing new was recorded.") in _flashes(client.get(_path(again)))


def test_a_new_payment_sent_twice_is_recorded_once(client, auth, setup, world):
    _login(auth, world.coordinator)
    url = f"/c/{world.slug}/pool/pitches/{world.pitch_id}/payments/new"
    form = {"amount": "75.00", "currency": "USD", "received_on": TODAY.isoformat(),
            "reference": "INV-9", "request_key": "c" * 32}
    before = _counts(setup)

    first, again = client.post(url, data=form), client.post(url, data=form)

    assert (first.status_code, again.status_code) == (302, 302)
    assert _diff(before, _counts(setup))["ClientPayment"] == 1
    assert "Recorded already?" not in _text(client.get(_path(again)))


# --- Payouts ----------------------------------------------------------------------------


def _payout(setup, world, *, key: str, amount: int = 10_000, confirm: bool = False):
    with setup():
        treasurer = db.session.get(Membership, world.treasurer_id)
        alice = db.session.get(Membership, world.alice_id)
        entry = payouts.pay_member(treasurer, alice, amount=amount, paid_on=TODAY,
                                   request_key=key, confirm_duplicate=confirm, today=TODAY)
        db.session.commit()
        return entry.id


def test_a_second_same_day_payout_of_the_same_amount_waits_for_a_confirmation(setup, world):
    first = _payout(setup, world, key="p1")

    with pytest.raises(payouts.DuplicatePayout) as caught:
        _payout(setup, world, key="p2")

    assert caught.value.earlier.id == first
    assert caught.value.message == (
        f"Alice Ng was already paid $100.00 on {TODAY.isoformat()} (entry {first}, by Tom "
        "Treasurer); pay it again only if this is a second, separate payout")
    assert _balances(setup, world.alice_id) == [58_750]
    _payout(setup, world, key="p3", amount=10_001)     # another amount is no duplicate
    second = _payout(setup, world, key="p2", confirm=True)
    assert second != first
    assert _balances(setup, world.alice_id) == [38_749]


def test_the_payout_page_shows_the_earlier_payout_and_pays_again_once_confirmed(
        client, auth, setup, world):
    first = _payout(setup, world, key="p1")
    _login(auth, world.treasurer)
    url = f"/c/{world.slug}/pool/payouts"
    form = {"one-membership_id": world.alice_id, "one-amount": "100.00",
            "one-paid_on": TODAY.isoformat(), "one-reference": "GCash 1",
            "one-request_key": "d" * 32}

    caught = client.post(url, data=form)

    assert caught.status_code == 409
    page = _text(caught)
    assert "Paid already?" in page
    assert f'href="/c/{world.slug}/ledger/entries/{first}"' in page
    assert "by Tom Treasurer" in page
    assert _balances(setup, world.alice_id) == [58_750]

    assert client.post(url, data={**form, "one-confirm_duplicate": "y"}).status_code == 302
    again = client.post(url, data={**form, "one-confirm_duplicate": "y"})

    assert again.status_code == 302
    assert _balances(setup, world.alice_id) == [48_750]
    assert ("info", "This form was sent already: its payout was posted then. Nothing new was "
                    "paid.") in _flashes(client.get(_path(again)))
    with setup():
        assert db.session.scalar(sa.select(sa.func.count(JournalEntry.id)).where(
            JournalEntry.kind == "payout")) == 2


def test_a_payout_larger_than_owed_says_so_before_any_duplicate(setup, world):
    _payout(setup, world, key="p1", amount=60_000)
    with pytest.raises(payouts.InsufficientFunds):
        _payout(setup, world, key="p2", amount=60_000)


def test_the_payment_form_offers_no_confirmation_box_before_a_duplicate(client, auth, world):
    _login(auth, world.coordinator)
    page = _text(client.get(f"/c/{world.slug}/pool/pitches/{world.pitch_id}/payments/new"))
    assert 'name="confirm_duplicate"' not in page
    assert re.search(r'name="request_key" type="hidden" value="[0-9a-f]{32}"', page)

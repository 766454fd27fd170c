"""Paying everyone their balance: a confirmation page shows each member, the amount and the
total; posting takes a bank reference, pays exactly what was confirmed, and pays once.

In the world (tests/test_pool_views.py) Alice is owed $687.50 and Bob $212.50.
"""
from __future__ import annotations

import re
from datetime import date

import pytest

from collective.errors import DomainError
from collective.extensions import db
from collective.ledger.models import JournalEntry
from collective.members.models import Membership
from collective.pool import payments, payouts
from collective.pool.models import Pitch
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
_ROW = re.compile(r'<tr><td>([^<]+)</td><td class="num">([^<]+)(?:<br><small class="changed">'
                  r'was ([^<]+)</small>)?</td></tr>')


def _url(world) -> str:
    return f"/c/{world.slug}/pool/payouts/everyone"


def _amounts(page: str) -> str:
    return re.search(r'name="amounts" type="hidden" value="([^"]+)"', page).group(1)


def test_the_confirmation_page_shows_each_member_and_the_total(client, auth, world):
    _login(auth, world.treasurer)

    page = _text(client.get(_url(world)))

    assert _ROW.findall(page) == [("Alice Ng", "$687.50", ""), ("Bob Oduya", "$212.50", "")]
    assert "<th>Total to 2 members</th><th class=\"num\">$900.00</th>" in page
    assert "Pay $900.00 to 2 members" in page
    assert _amounts(page) == f"{world.alice_id}:68750,{world.bob_id}:21250"
    # The payouts page leads here; it no longer pays everyone in one click.
    payouts_page = _text(client.get(f"/c/{world.slug}/pool/payouts"))
    assert f'href="{_url(world)}"' in payouts_page
    assert "all-paid_on" not in payouts_page


def test_paying_everyone_needs_a_bank_reference(client, auth, setup, world):
    _login(auth, world.treasurer)
    amounts = _amounts(_text(client.get(_url(world))))
    before = _counts(setup)

    response = client.post(_url(world), data={"paid_on": TODAY.isoformat(), "reference": "",
                                              "amounts": amounts})

    assert response.status_code == 422
    assert "This field is required." in _errors(response)
    assert _counts(setup) == before


def test_the_confirmed_payout_posts_once_even_if_sent_twice(client, auth, setup, world):
    _login(auth, world.treasurer)
    page = _text(client.get(_url(world)))
    key = re.search(r'name="request_key" type="hidden" value="([^"]+)"', page).group(1)
    form = {"paid_on": TODAY.isoformat(), "reference": "BPI 5521", "amounts": _amounts(page),
            "request_key": key}
    before = _counts(setup)

    first = client.post(_url(world), data=form)
    again = client.post(_url(world), data=form)

    assert (first.status_code, again.status_code) == (302, 302), _errors(first)
    assert _diff(before, _counts(setup)) == {"JournalEntry": 1, "Posting": 3}
    assert _balances(setup, world.alice_id, world.bob_id) == [0, 0]
    with setup():
        entry = db.session.scalar(db.select(JournalEntry).filter_by(
            idempotency_key=f"payout-all:{key}"))
        assert entry.memo == "Payout of every balance to 2 members ref BPI 5521"
    flashes = _flashes(client.get(_path(again)))
    assert ("info", f"This form was sent already: entry {entry.id} paid everyone then. "
                    "Nothing new was paid.") in flashes


def test_balances_changed_since_the_confirmation_are_refused_and_shown_anew(
        client, auth, setup, world):
    _login(auth, world.treasurer)
    amounts = _amounts(_text(client.get(_url(world))))
    with setup():   # Meanwhile a coordinator records another payment.
        coordinator = db.session.get(Membership, world.coordinator_id)
        payments.record_payment(coordinator, db.session.get(Pitch, world.pitch_id),
                                amount=30_000, currency="USD", received_on=TODAY,
                                reference="INV-2", today=TODAY)
        db.session.commit()
    owed = _balances(setup, world.alice_id, world.bob_id, world.founder_id)
    before = _counts(setup)

    refused = client.post(_url(world), data={"paid_on": TODAY.isoformat(),
                                             "reference": "BPI 1", "amounts": amounts})

    assert refused.status_code == 409
    assert ("error", "what members are owed changed since this page was shown; nothing was "
                     "paid. Check the new figures and confirm again") in _flashes(refused)
    assert _counts(setup) == before
    page = _text(refused)
    rows = {name: (now, was) for name, now, was in _ROW.findall(page)}
    # The $300.00 was split by weights (2 : 1 : 1), after 10% to the fund and 5% to Alice.
    assert owed == [68_750 + 1_500 + 12_750, 21_250 + 6_375, 6_375]
    assert rows.pop("Alice Ng") == ("$830.00", "$687.50")
    assert rows.pop("Bob Oduya") == ("$276.25", "$212.50")
    assert list(rows.values()) == [("$63.75", "$0.00")]   # the founder, owed nothing before
    assert 'value="BPI 1"' in page   # the reference typed stays

    paid = client.post(_url(world), data={"paid_on": TODAY.isoformat(), "reference": "BPI 1",
                                          "amounts": _amounts(page)})

    assert paid.status_code == 302, _errors(paid)
    assert _balances(setup, world.alice_id, world.bob_id, world.founder_id) == [0, 0, 0]


def test_the_service_pays_only_the_confirmed_amounts_and_needs_a_reference(setup, world):
    with setup():
        treasurer = db.session.get(Membership, world.treasurer_id)
        with pytest.raises(DomainError, match="give the bank reference"):
            payouts.pay_everyone(treasurer, paid_on=TODAY, reference=" ", request_key="a",
                                 today=TODAY)
        with pytest.raises(payouts.BalancesChanged):
            payouts.pay_everyone(treasurer, paid_on=TODAY, reference="B", request_key="a",
                                 expected={world.alice_id: 68_750}, today=TODAY)
        entry = payouts.pay_everyone(
            treasurer, paid_on=TODAY, reference="B", request_key="a",
            expected={world.alice_id: 68_750, world.bob_id: 21_250}, today=TODAY)
        assert sorted(p.amount for p in entry.postings) == [-90_000, 21_250, 68_750]
        db.session.commit()


def test_with_nobody_owed_the_page_offers_no_payout(client, auth, setup, world):
    test_the_service_pays_only_the_confirmed_amounts_and_needs_a_reference(setup, world)
    _login(auth, world.treasurer)
    page = _text(client.get(_url(world)))
    assert "Nobody is owed anything right now." in page
    assert 'name="amounts"' not in page


@pytest.mark.parametrize("amounts", ["", "1:2;3", "x:1", "1:-5", "١:5"])
def test_damaged_confirmed_amounts_are_refused_and_pay_nothing(client, auth, setup, world,
                                                               amounts):
    _login(auth, world.treasurer)
    before = _counts(setup)

    response = client.post(_url(world), data={"paid_on": TODAY.isoformat(),
                                              "reference": "B", "amounts": amounts})

    assert response.status_code == 422
    assert _counts(setup) == before
    assert _amounts(_text(response)) == f"{world.alice_id}:68750,{world.bob_id}:21250"

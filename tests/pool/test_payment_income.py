"""Issue 12: a client payment is income, and its split is expenses. A payment that settles a
receivable (an invoice) clears it instead of being income, posts the exchange difference,
and splits only the part it is told to (the invoice's net, tax left out)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from collective.errors import DomainError
from collective.extensions import db
from collective.ledger import balances
from collective.ledger import services as ledger
from collective.ledger.models import JournalEntry
from collective.pool import payments
from collective.pool.models import PitchState
from tests.factories import make_collective, make_member
from tests.pool.factories import TODAY, allocate, found_rule, log, make_pitch, move_to


@pytest.fixture
def world(ctx):
    """Ann and Bob logged 3 h and 1 h on work Cat found; 10% fund, 5% finder, by hours."""
    founder = make_collective()
    ann, bob, cat = (make_member(founder.collective) for _ in range(3))
    pitch = make_pitch(founder, finder=cat)
    move_to(founder, pitch, PitchState.WON)
    log(ann, allocate(founder, pitch, ann), 180)
    log(bob, allocate(founder, pitch, bob), 60)
    found_rule(founder)
    return founder, pitch, ann, bob, cat


def _by_code(entry: JournalEntry) -> dict[str, int]:
    return {p.account.code: p.amount for p in entry.postings}


def test_the_income_statement_of_a_payment_leaves_the_common_funds_part_as_surplus(world):
    founder, pitch, ann, bob, cat = world

    payments.record_payment(founder, pitch, amount=10_000, currency="USD",
                            received_on=date(2026, 10, 5), today=TODAY)

    def balance(code: str) -> int:
        account = ledger.account_by_code(founder.collective_id, code)
        return balances.account_balance(account.id).get("USD", 0)
    income = -balance(ledger.CLIENT_INCOME)
    shares, fees = balance(ledger.MEMBER_SHARES), balance(ledger.FINDER_FEES)
    assert (income, shares, fees) == (10_000, 8500, 500)
    assert income - shares - fees == 1000 == balances.common_fund_balance(
        founder.collective_id)["USD"]
    assert balance(ledger.COMMON_FUND) == 0   # nothing is closed to equity before year end


def test_a_payment_that_settles_a_receivable_clears_it_and_posts_the_exchange_gain(world):
    founder, pitch, ann, bob, cat = world
    receivable = ledger.account_by_code(founder.collective_id, ledger.RECEIVABLES)
    # EUR 1,000.00 invoiced at 1.10 (USD 1,100.00 receivable), of which USD 1,000.00 net;
    # paid in full when the rate is 1.12: USD 1,120.00 reached the bank.
    payment = payments.record_payment(
        founder, pitch, amount=100_000, currency="EUR", rate=Decimal("1.12"),
        received_on=date(2026, 10, 5), today=TODAY,
        settles=payments.Settles(account_id=receivable.id, cleared=110_000,
                                 split_amount=100_000))

    entry = db.session.get(JournalEntry, payment.entry_id)
    assert (payment.base_amount, payment.split_amount) == (112_000, 100_000)
    ann_code, bob_code, cat_code = (ledger.member_account_code(m.id) for m in (ann, bob, cat))
    assert _by_code(entry) == {
        ledger.BANK: 112_000,
        ledger.RECEIVABLES: -110_000,
        ledger.EXCHANGE: -2000,          # a gain: credit
        ledger.MEMBER_SHARES: 85_000,    # 85% of the 1,000.00 split, by 3 h to 1 h
        ledger.FINDER_FEES: 5000,
        ann_code: -63_750, bob_code: -21_250, cat_code: -5000,
    }
    assert sum(entry_amount for entry_amount in _by_code(entry).values()) == 0


def test_a_payment_below_what_it_clears_posts_an_exchange_loss(world):
    founder, pitch, *_ = world
    receivable = ledger.account_by_code(founder.collective_id, ledger.RECEIVABLES)

    payment = payments.record_payment(
        founder, pitch, amount=100_000, currency="EUR", rate=Decimal("1.05"),
        received_on=date(2026, 10, 5), today=TODAY,
        settles=payments.Settles(account_id=receivable.id, cleared=110_000,
                                 split_amount=105_000))

    postings = _by_code(db.session.get(JournalEntry, payment.entry_id))
    assert (postings[ledger.BANK], postings[ledger.RECEIVABLES],
            postings[ledger.EXCHANGE]) == (105_000, -110_000, 5000)   # a loss: debit


@pytest.mark.parametrize(("cleared", "split_amount"), [(0, 100), (100, 0), (100, 20_001)])
def test_a_settlement_that_clears_or_splits_nothing_or_too_much_is_refused(world, cleared,
                                                                            split_amount):
    founder, pitch, *_ = world
    receivable = ledger.account_by_code(founder.collective_id, ledger.RECEIVABLES)
    with pytest.raises(DomainError, match="more than zero") as refused:
        payments.record_payment(
            founder, pitch, amount=20_000, currency="USD", received_on=date(2026, 10, 5),
            today=TODAY, settles=payments.Settles(receivable.id, cleared, split_amount))
    assert refused.value.field == "amount"

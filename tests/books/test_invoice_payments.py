"""Paying an invoice: Bank against the receivable at the booked rate, the exchange
difference to 4900, and the net part split; partial payments leave the rest open. Every
figure is checked by hand in the comments."""
from __future__ import annotations

from decimal import Decimal

import pytest

from collective.books.invoices import payments
from collective.books.invoices.drafts import DraftLine
from collective.books.invoices.queries import Status, standing
from collective.errors import DomainError
from collective.extensions import db
from collective.ledger.models import JournalEntry
from tests.books.invoice_factories import TODAY, delivered_work, draft, issued, set_up_invoicing
from tests.factories import make_collective
from tests.pool.factories import found_rule


def _postings(entry_id: int) -> dict[str, int]:
    entry = db.session.get(JournalEntry, entry_id)
    result: dict[str, int] = {}
    for p in entry.postings:
        code = "2100" if p.account.code.startswith("2100-") else p.account.code
        result[code] = result.get(code, 0) + p.amount
    return result


@pytest.fixture
def books(ctx):
    founder = make_collective(currency="USD")
    # 10% to the common fund, no finder's fee, the rest equally: the founder leads the work
    found_rule(founder, common_fund_bp=1000, finder_fee_bp=0, method="equal")
    return founder, set_up_invoicing(founder)


def test_two_part_payments_in_the_base_currency_clear_the_invoice(books):
    founder, vat = books
    invoice = issued(founder, delivered_work(founder), vat)  # 2,500.00 + 240.00 VAT
    first = payments.pay_invoice(founder, invoice, amount=137_000, received_on=TODAY,
                                 today=TODAY)
    # half of 2,740.00; its net part is 1,370.00 x 2,500/2,740 = 1,250.00, 90% to members
    assert _postings(first.entry_id) == {"1000": 137_000, "1100": -137_000,
                                         "5100": 112_500, "2100": -112_500}
    assert first.split_amount == 125_000
    found = standing(invoice)
    assert (found.status, found.open_amount, found.open_base) == (Status.PARTLY_PAID, 137_000,
                                                                  137_000)
    second = payments.pay_invoice(founder, invoice, amount=137_000, received_on=TODAY,
                                  today=TODAY)
    assert _postings(second.entry_id)["1100"] == -137_000
    assert standing(invoice).status == Status.PAID


def test_a_foreign_payment_at_a_better_rate_posts_an_exchange_gain(books):
    founder, vat = books
    work = delivered_work(founder, currency="EUR", client_name="Berlin GmbH")
    invoice = issued(founder, work, vat, rate=Decimal("1.1"),
                     lines=[DraftLine("Design", Decimal(1), 100_000, vat.id)])
    # EUR 1,120.00 booked at 1.1 = USD 1,232.00; paid at 1.2 = USD 1,344.00: gain 112.00.
    # Net part: 1,344.00 x 1,000/1,120 = 1,200.00, members 90% = 1,080.00
    payment = payments.pay_invoice(founder, invoice, amount=112_000, received_on=TODAY,
                                   rate=Decimal("1.2"), today=TODAY)
    assert _postings(payment.entry_id) == {"1000": 134_400, "1100": -123_200, "4900": -11_200,
                                           "5100": 108_000, "2100": -108_000}
    assert standing(invoice).status == Status.PAID


def test_a_foreign_part_payment_at_a_worse_rate_posts_a_loss(books):
    founder, vat = books
    work = delivered_work(founder, currency="EUR", client_name="Berlin GmbH")
    invoice = issued(founder, work, vat, rate=Decimal("1.1"),
                     lines=[DraftLine("Design", Decimal(1), 100_000, vat.id)])
    # EUR 560.00 at 1.0 = USD 560.00, booked at 1.1 = USD 616.00: a loss of 56.00.
    # Net part 560.00 x 1,000/1,120 = 500.00, members 450.00
    payment = payments.pay_invoice(founder, invoice, amount=56_000, received_on=TODAY,
                                   rate=Decimal("1.0"), today=TODAY)
    assert _postings(payment.entry_id) == {"1000": 56_000, "1100": -61_600, "4900": 5_600,
                                           "5100": 45_000, "2100": -45_000}
    found = standing(invoice)
    assert (found.status, found.open_amount, found.open_base) == (Status.PARTLY_PAID, 56_000,
                                                                  61_600)


def test_a_payment_for_more_than_is_open_or_of_a_draft_is_refused(books):
    founder, vat = books
    invoice = issued(founder, delivered_work(founder), vat)
    with pytest.raises(DomainError, match="is open on this invoice"):
        payments.pay_invoice(founder, invoice, amount=274_001, received_on=TODAY, today=TODAY)
    with pytest.raises(DomainError, match="issue it first"):
        payments.pay_invoice(founder, draft(founder, delivered_work(founder, client_name="K"),
                                            vat), amount=100, received_on=TODAY, today=TODAY)


def test_the_same_form_sent_twice_records_one_payment(books):
    founder, vat = books
    invoice = issued(founder, delivered_work(founder), vat)
    first = payments.pay_invoice(founder, invoice, amount=100_000, received_on=TODAY,
                                 request_key="k1", today=TODAY)
    again = payments.pay_invoice(founder, invoice, amount=100_000, received_on=TODAY,
                                 request_key="k1", today=TODAY)
    assert again.id == first.id
    assert standing(invoice).open_amount == 174_000


def test_a_reversed_payment_opens_the_invoice_again(books):
    from collective.pool.payments import reverse_payment

    founder, vat = books
    invoice = issued(founder, delivered_work(founder), vat)
    payment = payments.pay_invoice(founder, invoice, amount=274_000, received_on=TODAY,
                                   today=TODAY)
    assert standing(invoice).status == Status.PAID
    reverse_payment(founder, payment, "entered on the wrong invoice")
    found = standing(invoice)
    assert (found.status, found.open_amount, found.open_base) == (Status.ISSUED, 274_000,
                                                                  274_000)


def test_an_invoice_entry_is_not_reversed_on_its_own(books):
    from collective.ledger import services as ledger

    founder, vat = books
    invoice = issued(founder, delivered_work(founder), vat)
    with pytest.raises(ledger.LedgerError, match="credit note"):
        ledger.reverse_entry(db.session.get(JournalEntry, invoice.entry_id))

"""The worked example of docs/accounting.md, by hand: an invoice with VAT, paid, split, paid
out to the members, and the year closed. Every posting is checked against the numbers in the
document; after the close, the income statement's surplus is the common fund's share, the
trial balance is zero, and the Beancount export passes bean-check."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from beancount import loader

from collective.books.invoices import drafts, issuing
from collective.books.invoices import payments as invoice_payments
from collective.books.invoices.drafts import DraftLine
from collective.extensions import db
from collective.ledger import balances, periods
from collective.ledger import services as ledger
from collective.ledger.models import JournalEntry
from collective.pool import payouts, pitches
from collective.pool.models import PitchState
from collective.reports import beancount, exports
from collective.reports.services import balance_sheet, income_statement
from tests.books.invoice_factories import set_up_invoicing
from tests.factories import make_collective, make_member, make_user
from tests.pool.factories import NOW, allocate, found_rule, log, make_pitch, move_to

ISSUED_ON = date(2026, 10, 10)
PAID_ON = date(2026, 10, 20)
PAID_OUT_ON = date(2026, 10, 25)
CLOSED_ON = date(2027, 1, 5)


def _by_code(entry: JournalEntry) -> dict[str, int]:
    return {p.account.code: p.amount for p in entry.postings}


@pytest.fixture
def example(ctx):
    founder = make_collective()       # member, coordinator and treasurer
    ann = make_member(founder.collective, user=make_user(name="Ann"))
    bob = make_member(founder.collective, user=make_user(name="Bob"))
    cat = make_member(founder.collective, user=make_user(name="Cat"))
    found_rule(founder)               # 10% common fund, 5% finder's fee, the rest by hours
    vat = set_up_invoicing(founder)   # VAT 12% to 2300 Sales tax payable
    pitch = make_pitch(founder, finder=cat)
    move_to(founder, pitch, PitchState.WON)
    log(ann, allocate(founder, pitch, ann), 180)    # Ann 3 hours, Bob 1 hour
    log(bob, allocate(founder, pitch, bob), 60)
    for state in (PitchState.IN_PROGRESS, PitchState.DELIVERED):
        pitches.transition_pitch(founder, pitch, state, at=NOW)
    return founder, ann, bob, cat, pitch, vat


def test_invoice_split_payout_and_year_end_close_by_hand(example):
    founder, ann, bob, cat, pitch, vat = example
    cid = founder.collective_id
    ann_, bob_, cat_ = (ledger.member_account_code(m.id) for m in (ann, bob, cat))

    # 1. The invoice: 10 days at USD 100.00, VAT 12%.
    invoice = drafts.draft_invoice(
        founder, pitch, lines=[DraftLine("Website rebuild, days", Decimal(10), 10_000, vat.id)],
        due_on=None, today=ISSUED_ON)
    invoice = issuing.issue_invoice(founder, invoice, issued_on=ISSUED_ON, rate=None,
                                    today=ISSUED_ON)
    issued = ledger.find_entry(cid, f"invoice:{invoice.id}")
    assert invoice.number == "BRC-2026-0001"
    assert _by_code(issued) == {ledger.RECEIVABLES: 112_000, ledger.CLIENT_INCOME: -100_000,
                                ledger.SALES_TAX: -12_000}

    # 2. The client pays it in full: the receivable is cleared, and the net 1,000.00 is
    #    split: 100.00 stays (common fund), 50.00 to Cat who found it, 850.00 by hours.
    payment = invoice_payments.pay_invoice(founder, invoice, amount=112_000,
                                           received_on=PAID_ON, today=PAID_ON)
    assert (payment.base_amount, payment.split_amount) == (112_000, 100_000)
    assert _by_code(db.session.get(JournalEntry, payment.entry_id)) == {
        ledger.BANK: 112_000, ledger.RECEIVABLES: -112_000,
        ledger.MEMBER_SHARES: 85_000, ledger.FINDER_FEES: 5000,
        ann_: -63_750, bob_: -21_250, cat_: -5000}

    # 3. Everyone is paid out.
    payout = payouts.pay_everyone(founder, paid_on=PAID_OUT_ON, reference="OCT-1",
                                  request_key="example", today=PAID_OUT_ON)
    assert _by_code(payout) == {ann_: 63_750, bob_: 21_250, cat_: 5000, ledger.BANK: -90_000}

    # The income statement of the year: income less members' shares less finder's fees.
    statement = income_statement(cid, "USD", date(2026, 1, 1), date(2026, 12, 31))
    assert (statement["income"].total, statement["expenses"].total) == (100_000, 90_000)
    assert statement["result"] == 10_000 == 100_000 * 1000 // 10_000   # the fund's 10%
    assert balances.common_fund_balance(cid) == {"USD": 10_000}

    # 4. The year-end close (forced: this example keeps no bank statements to reconcile).
    closing = periods.close_year(cid, 2026, actor=founder, today=CLOSED_ON, force=True,
                                 reason="the worked example has no bank statement")
    assert (closing.kind, closing.occurred_on) == ("closing", date(2026, 12, 31))
    assert _by_code(closing) == {ledger.CLIENT_INCOME: 100_000, ledger.MEMBER_SHARES: -85_000,
                                 ledger.FINDER_FEES: -5000, ledger.COMMON_FUND: -10_000}

    # After it: the surplus is the fund's share, now in its equity account; the income
    # statement (which leaves the closing entry out) still reads the same.
    after = income_statement(cid, "USD", date(2026, 1, 1), date(2026, 12, 31))
    assert after["result"] == statement["result"] == 10_000
    rows = [r for r in balances.trial_balance(cid, date(2026, 12, 31)) if r.balance]
    assert {r.code: r.balance for r in rows} == {
        ledger.BANK: 22_000, ledger.SALES_TAX: -12_000, ledger.COMMON_FUND: -10_000}
    assert sum(r.balance for r in rows) == 0
    assert balances.trial_balance_totals(balances.trial_balance(cid)) == {
        "USD": (112_000 * 2 + 85_000 + 5000 + 90_000 + 100_000,) * 2}
    assert balances.common_fund_balance(cid) == {"USD": 10_000}
    sheet = balance_sheet(cid, "USD", date(2026, 12, 31))
    assert [(s.rows, s.total) for s in (sheet["assets"], sheet["liabilities"], sheet["equity"])
            ] == [([(ledger.BANK, "Bank", 22_000)], 22_000),
                  ([(ledger.SALES_TAX, "Sales tax payable", 12_000)], 12_000),
                  ([(ledger.COMMON_FUND, "Common fund", 10_000)], 10_000)]
    assert sheet["balanced"]

    # 5. The accountant's Beancount file of the year passes bean-check.
    text = b"".join(beancount.beancount_chunks(
        exports.LedgerQuery(cid, date(2026, 1, 1), date(2026, 12, 31)))).decode()
    entries, errors, _ = loader.load_string(text)
    assert errors == []
    assert "Income:" in text and "Expenses:" in text and "Equity:" in text

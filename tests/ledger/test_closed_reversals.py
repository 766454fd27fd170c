"""Reversing an entry whose month is closed: the reversal is dated the collective's today
(nothing may be dated in a closed month), the ledger's and the payment's confirmation pages
say so first, and an entry in an open month is still reversed on its own day."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from collective.clock import today_in
from collective.extensions import db
from collective.ledger import periods
from collective.ledger import services as ledger
from collective.ledger.models import EntryKind, JournalEntry
from collective.pool import payments
from tests.books.invoice_factories import delivered_work
from tests.factories import commit, make_collective
from tests.forms import form_values
from tests.pool.factories import TODAY, found_rule

JANUARY = date(2026, 1, 1)
LATER = date(2026, 3, 10)


def _transfer(cid: int, day: date, key: str) -> JournalEntry:
    expenses = ledger.account_by_code(cid, ledger.EXPENSES).id
    fund = ledger.account_by_code(cid, ledger.BENEFITS_FUND).id
    return ledger.post_entry(cid, kind=EntryKind.TRANSFER, occurred_on=day, idempotency_key=key,
                             lines=[ledger.Line(expenses, 100, "EUR"),
                                    ledger.Line(fund, -100, "EUR")])


def test_a_reversal_in_a_closed_month_is_dated_today(ctx):
    treasurer = make_collective(currency="EUR")
    cid = treasurer.collective_id
    closed = _transfer(cid, date(2026, 1, 20), "january")
    still_open = _transfer(cid, date(2026, 2, 3), "february")
    periods.close_month(treasurer, cid, JANUARY, today=LATER)
    assert ledger.reversal_day(closed, LATER) == LATER
    assert ledger.reversal_day(still_open, LATER) == date(2026, 2, 3)
    with pytest.raises(ledger.PeriodClosed):  # a caller that gives no today: as before
        ledger.reverse_entry(closed)
    reversal = ledger.reverse_entry(closed, today=LATER)
    assert (reversal.occurred_on, reversal.reverses_id) == (LATER, closed.id)
    assert {p.amount for p in reversal.postings} == {-100, 100}
    assert ledger.reverse_entry(still_open, today=LATER).occurred_on == date(2026, 2, 3)


def _paid_work(treasurer):
    found_rule(treasurer, common_fund_bp=1000, finder_fee_bp=0, method="equal")
    work = delivered_work(treasurer)
    return payments.record_payment(treasurer, work, amount=50_000, currency="USD",
                                   received_on=TODAY, reference="wire 1", today=TODAY)


def _close_october(treasurer):
    # October moved the bank, unreconciled: closed as a forced year-end close would.
    periods._close(treasurer.collective_id, date(2026, 10, 1), treasurer.user_id)


def test_a_payment_in_a_closed_month_is_reversed_today(ctx):
    treasurer = make_collective(currency="USD")
    payment = _paid_work(treasurer)
    _close_october(treasurer)
    later = date(2026, 11, 26)
    assert payments.reversal_day(payment, later) == later
    reversal = payments.reverse_payment(treasurer, payment, "bounced", today=later)
    assert reversal.occurred_on == later
    assert sum(p.amount for p in reversal.postings
               if p.account.code == ledger.BANK) == -50_000


@pytest.fixture
def closed_payment(setup):
    with setup():
        treasurer = make_collective(currency="USD")
        payment = _paid_work(treasurer)
        _close_october(treasurer)
        commit()
        return {"slug": treasurer.collective.slug, "email": treasurer.user.email,
                "payment_id": payment.id, "entry_id": payment.entry_id}


def _reversal_of(setup, entry_id):
    with setup():
        return db.session.scalar(sa.select(JournalEntry.occurred_on).filter_by(
            reverses_id=entry_id))


def test_the_ledger_page_says_the_reversal_is_dated_today_and_dates_it_so(
        client, auth, setup, closed_payment):
    auth.login(closed_payment["email"])
    url = f"/c/{closed_payment['slug']}/ledger/entries/{closed_payment['entry_id']}"
    page = client.get(url).get_data(as_text=True)
    assert "Oct 2026 is closed, so the reversal is dated today" in page
    response = client.post(url, data={**form_values(page), "memo": "bounced"})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert _reversal_of(setup, closed_payment["entry_id"]) == today_in("UTC")


def test_the_payment_reversal_page_says_so_and_dates_it_today(client, auth, setup,
                                                             closed_payment):
    auth.login(closed_payment["email"])
    url = f"/c/{closed_payment['slug']}/pool/payments/{closed_payment['payment_id']}/reverse"
    page = client.get(url).get_data(as_text=True)
    assert "Oct 2026 is closed, so the reversal is dated today" in page
    response = client.post(url, data={**form_values(page), "rev-memo": "bounced"})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert _reversal_of(setup, closed_payment["entry_id"]) == today_in("UTC")

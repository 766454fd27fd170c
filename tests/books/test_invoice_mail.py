"""Invoices by e-mail: the issued invoice to the client's invoicing address, once, and a
reminder in each of the first four weeks past due, through the mail outbox."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from collective.books.invoices import adjustments, mailing
from collective.errors import DomainError
from collective.extensions import db
from collective.mail.models import OutboxMessage
from tests.books.invoice_factories import (
    NOW,
    TODAY,
    delivered_work,
    draft,
    issued,
    set_up_invoicing,
)
from tests.factories import make_collective


@pytest.fixture
def books(ctx):
    founder = make_collective()
    return founder, set_up_invoicing(founder)


def _outbox(collective_id: int) -> list[OutboxMessage]:
    return list(db.session.scalars(sa.select(OutboxMessage).filter_by(
        collective_id=collective_id).order_by(OutboxMessage.id)))


def test_an_issued_invoice_is_mailed_to_the_client_once(books):
    founder, vat = books
    invoice = issued(founder, delivered_work(founder), vat)
    message = mailing.email_invoice(founder, invoice, now=NOW)
    assert message.recipient == "accounts@harbour.test"
    assert message.subject == "Invoice BRC-2026-0001 from Bayanihan Remote Collective"
    assert "Total: $2,740.00" in message.text_body and "BPI 1234 5678" in message.text_body
    assert mailing.email_invoice(founder, invoice, now=NOW) is None
    assert len(_outbox(founder.collective_id)) == 1


def test_a_draft_is_not_mailed(books):
    founder, vat = books
    with pytest.raises(DomainError, match="issue the invoice"):
        mailing.email_invoice(founder, draft(founder, delivered_work(founder), vat), now=NOW)


def test_overdue_invoices_get_one_reminder_a_week_for_four_weeks(books):
    founder, vat = books
    due = date(2026, 9, 1)
    late = issued(founder, delivered_work(founder), vat, due_on=due)
    settled = issued(founder, delivered_work(founder, client_name="Kite"), vat, due_on=due)
    adjustments.issue_credit_note(founder, settled, amount=None, reason="x", issued_on=TODAY,
                                  today=TODAY)
    cid = founder.collective_id
    assert mailing.remind_overdue(cid, today=due, now=NOW) == 0  # due today: not late
    assert mailing.remind_overdue(cid, today=due + timedelta(days=1), now=NOW) == 1
    assert mailing.remind_overdue(cid, today=due + timedelta(days=6), now=NOW) == 0
    assert mailing.remind_overdue(cid, today=due + timedelta(days=7), now=NOW) == 1
    assert mailing.remind_overdue(cid, today=due + timedelta(days=28), now=NOW) == 0
    sent = _outbox(cid)
    assert [m.subject for m in sent] == [f"Reminder: invoice {late.number} was due Sep 1, "
                                         "2026"] * 2
    assert "$2,740.00 of it is still open" in sent[0].text_body

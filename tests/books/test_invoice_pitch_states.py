"""The work follows its invoices where the pitch lifecycle allows: issuing moves delivered
work to invoiced, settling every invoice moves invoiced work to paid, each as a pitch event."""
from __future__ import annotations

import pytest

from collective.books.invoices import payments
from collective.pool.models import PitchState
from collective.pool.pitches import pitch_events
from tests.books.invoice_factories import TODAY, delivered_work, draft, issued, set_up_invoicing
from tests.factories import make_collective
from tests.pool.factories import found_rule


@pytest.fixture
def books(ctx):
    founder = make_collective(currency="USD")
    found_rule(founder, common_fund_bp=1000, finder_fee_bp=0, method="equal")
    return founder, set_up_invoicing(founder)


def _moves(pitch):
    return [(e.from_state, e.to_state, e.note, e.actor_id) for e in pitch_events(pitch)
            if e.from_state != e.to_state][-2:]


def test_issuing_moves_delivered_work_to_invoiced_as_a_pitch_event(books):
    founder, vat = books
    work = delivered_work(founder)
    invoice = issued(founder, work, vat)
    assert work.pitch_state == PitchState.INVOICED
    assert _moves(work)[-1] == (PitchState.DELIVERED, PitchState.INVOICED,
                                f"invoice {invoice.number} issued", founder.id)


def test_work_in_progress_stays_in_progress_when_invoiced(books):
    founder, vat = books
    work = delivered_work(founder, state=PitchState.IN_PROGRESS)
    before = len(pitch_events(work))
    invoice = issued(founder, work, vat)
    assert work.pitch_state == PitchState.IN_PROGRESS
    assert len(pitch_events(work)) == before
    # paying it in full leaves it there too: in progress cannot become paid
    payments.pay_invoice(founder, invoice, amount=invoice.gross_amount, received_on=TODAY,
                         today=TODAY)
    assert work.pitch_state == PitchState.IN_PROGRESS


def test_work_is_paid_once_every_invoice_of_it_is_settled(books):
    founder, vat = books
    work = delivered_work(founder)
    first = issued(founder, work, vat)
    second = issued(founder, work, vat)  # invoiced work can be invoiced again
    payments.pay_invoice(founder, first, amount=first.gross_amount, received_on=TODAY,
                         today=TODAY)
    payments.pay_invoice(founder, second, amount=100_000, received_on=TODAY, today=TODAY)
    assert work.pitch_state == PitchState.INVOICED  # the second is partly paid
    last = payments.pay_invoice(founder, second, amount=second.gross_amount - 100_000,
                                received_on=TODAY, today=TODAY)
    assert work.pitch_state == PitchState.PAID
    assert _moves(work)[-1] == (PitchState.INVOICED, PitchState.PAID,
                                f"every invoice settled by payment {last.id}", founder.id)


def test_a_waiting_draft_keeps_the_work_invoiced(books):
    founder, vat = books
    work = delivered_work(founder)
    invoice = issued(founder, work, vat)
    draft(founder, work, vat)
    payments.pay_invoice(founder, invoice, amount=invoice.gross_amount, received_on=TODAY,
                         today=TODAY)
    assert work.pitch_state == PitchState.INVOICED

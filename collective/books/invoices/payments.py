"""Paying an invoice: a client payment recorded against the invoice's work that clears its
receivable (collective.pool.payments.record_payment with `settles=`).

The payment's entry debits Bank with what came in (in the base currency at the day's rate),
credits 1100 Client receivables with what that part of the invoice was booked at, and posts
the difference to 4900 Exchange gains and losses; the net part of the payment (tax left
out, in the invoice's proportion) is split under the share rule. Partial payments are
allowed; the one that settles the rest clears exactly what the receivable still holds.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from collective.books.invoices import compute, hooks
from collective.books.invoices.adjustments import base_cleared
from collective.books.invoices.drafts import invoice_totals
from collective.books.invoices.models import Invoice, InvoiceMovement, MovementKind
from collective.books.invoices.queries import invoices_of_pitch, standing, standings
from collective.errors import DomainError
from collective.extensions import db
from collective.ledger import services as ledger
from collective.members.models import Membership, Role
from collective.members.services import require_role
from collective.money import format_money, minor_digits
from collective.pool import payments as pool_payments
from collective.pool.checks import same_collective
from collective.pool.models import ClientPayment, PitchState
from collective.pool.payments import checked_rate
from collective.pool.pitches import follow_invoice


def pay_invoice(actor: Membership, invoice: Invoice, *, amount: int, received_on: date,
                rate: Decimal | None = None, reference: str = "",
                request_key: str | None = None, bank_account_id: int | None = None,
                today: date) -> ClientPayment:
    """Record `amount` (in the invoice's currency) received against the invoice, into
    ledger account `bank_account_id` (1000 Bank unless given). Once every issued invoice
    of the work is settled, the work moves to paid where its lifecycle allows."""
    require_role(actor, Role.COORDINATOR, Role.TREASURER, action="record payments")
    same_collective(actor, invoice, "invoice")
    if invoice.is_draft:
        raise DomainError("a draft cannot be paid; issue it first", field="amount")
    if request_key:
        earlier = pool_payments.payment_for_request(actor.collective_id, request_key)
        if earlier is not None:
            return earlier
    db.session.execute(sa.select(Invoice.id).where(Invoice.id == invoice.id).with_for_update())
    # Asked again under the lock: the same request sent twice at once waited here for the
    # first, which has recorded it by now.
    earlier = pool_payments.payment_for_request(actor.collective_id, request_key)
    if earlier is not None:
        return earlier
    found = standing(invoice)
    if found.open_amount <= 0 or found.open_base <= 0:
        raise DomainError(f"invoice {invoice.number} has nothing open", field="amount")
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise DomainError("the amount must be more than zero", field="amount")
    if amount > found.open_amount:
        raise DomainError(f"at most {format_money(found.open_amount, invoice.currency)} is "
                          "open on this invoice", field="amount")
    if received_on < invoice.issued_on:
        raise DomainError("the payment cannot come before the invoice was issued",
                          field="received_on")
    base = actor.collective.base_currency
    rate = checked_rate(rate, invoice.currency, base)
    base_amount = compute.to_base(amount, minor_digits(invoice.currency), rate,
                                  minor_digits(base))
    cleared = base_cleared(invoice, amount, found, base)
    totals = invoice_totals(invoice)
    weights = [totals.net, *(totals.taxes[k] for k in sorted(totals.taxes))]
    split_amount = compute.proportional_parts(base_amount, weights)[0]
    if cleared <= 0 or split_amount <= 0:
        raise DomainError(f"that is too little to record in {base}", field="amount")
    receivables = ledger.account_by_code(actor.collective_id, ledger.RECEIVABLES)
    payment = pool_payments.record_payment(
        actor, invoice.pitch, amount=amount, currency=invoice.currency,
        received_on=received_on, reference=reference or invoice.number, rate=rate,
        request_key=request_key, confirm_duplicate=True, bank_account_id=bank_account_id,
        today=today,
        settles=pool_payments.Settles(account_id=receivables.id, cleared=cleared,
                                      split_amount=split_amount))
    db.session.add(InvoiceMovement(invoice_id=invoice.id, entry_id=payment.entry_id,
                                   kind=MovementKind.PAYMENT, amount=amount,
                                   occurred_on=received_on))
    db.session.flush()
    hooks.invoice_paid_if_settled(invoice, payment)
    if _work_settled(invoice):
        follow_invoice(actor, invoice.pitch, PitchState.PAID,
                       f"every invoice settled by payment {payment.id}")
    return payment


def _work_settled(invoice: Invoice) -> bool:
    """Nothing is open on any invoice of the invoice's work, and no draft waits."""
    others = invoices_of_pitch(invoice.pitch_id)
    if any(other.is_draft for other in others):
        return False
    found = standings(others)
    return all(found[other.id].open_amount <= 0 or found[other.id].open_base <= 0
               for other in others)

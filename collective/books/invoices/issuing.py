"""Issuing an invoice: its gapless number and its one journal entry, in one transaction.

The entry (EntryKind.INVOICE, key `invoice:<id>`) debits 1100 Client receivables with the
gross, credits 4000 Client work income with the net and each tax's account with its tax,
all in the collective's base currency at the rate of the issue date (the invoice keeps the
rate and its own currency's amounts). The invoice's details, the collective's and the
client's invoicing details are frozen on it from then on.
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from collective.books.invoices import compute, hooks
from collective.books.invoices.drafts import NotADraft, invoice_totals
from collective.books.invoices.models import (
    Invoice,
    InvoiceMovement,
    MovementKind,
    Series,
    TaxRate,
)
from collective.books.invoices.numbering import format_number, take_number
from collective.books.invoices.settings import invoicing_details
from collective.errors import DomainError
from collective.extensions import db
from collective.ledger import services as ledger
from collective.ledger.models import EntryKind
from collective.members.models import Membership, Role
from collective.members.services import require_role
from collective.money import MAX_MINOR_UNITS, format_plain, minor_digits
from collective.pool.checks import same_collective
from collective.pool.models import PitchState
from collective.pool.payments import checked_rate
from collective.pool.pitches import follow_invoice


def issue_invoice(actor: Membership, invoice: Invoice, *, issued_on: date,
                  rate: Decimal | None = None, today: date) -> Invoice:
    """Give a draft its number and post it; the same draft issued twice is refused."""
    require_role(actor, Role.TREASURER, action="issue invoices")
    same_collective(actor, invoice, "invoice")
    # The row lock makes a second issue of the same draft wait, then see it issued.
    number = db.session.scalar(sa.select(Invoice.number).where(Invoice.id == invoice.id)
                               .with_for_update())
    if number is not None or invoice.number is not None:
        db.session.refresh(invoice)
        raise NotADraft(invoice)
    if issued_on > today + timedelta(days=1) or issued_on < today - timedelta(days=366):
        raise DomainError("the issue date is today or within the last year", field="issued_on")
    details = invoicing_details(actor.collective_id)
    if details.id is None or not details.legal_name:
        raise DomainError("a treasurer sets the collective's invoicing details (legal name, "
                          "prefix) first", field="invoice")
    if not invoice.lines:
        raise DomainError("an invoice needs at least one line", field="invoice")
    totals = invoice_totals(invoice)
    if totals.gross <= 0:
        raise DomainError("this invoice comes to nothing", field="invoice")
    collective = actor.collective
    base = collective.base_currency
    rate = checked_rate(rate, invoice.currency, base)
    parts = base_parts(totals, invoice.currency, base, rate)
    base_gross = sum(parts.values())
    if base_gross <= 0:
        raise DomainError(f"that comes to nothing in {base}", field="rate")
    if base_gross > MAX_MINOR_UNITS:
        raise DomainError("the amount is too large", field="rate")
    year = issued_on.year
    sequence = take_number(collective.id, Series.INVOICE, year)
    number = format_number(details.number_prefix, Series.INVOICE, year, sequence)
    entry = ledger.post_entry(
        collective.id, kind=EntryKind.INVOICE, occurred_on=issued_on,
        idempotency_key=f"invoice:{invoice.id}", memo=_memo(invoice, number, totals, rate, base),
        lines=_entry_lines(collective.id, parts, base), created_by_id=actor.user_id)
    invoice.number, invoice.issued_on, invoice.rate = number, issued_on, rate
    invoice.net_amount, invoice.tax_amount = totals.net, totals.tax
    invoice.base_gross, invoice.entry_id, invoice.issued_by_id = base_gross, entry.id, actor.id
    invoice.seller = {"legal_name": details.legal_name, "address": details.address,
                      "tax_id": details.tax_id,
                      "payment_instructions": details.payment_instructions}
    client = invoice.client
    invoice.buyer = {"name": client.name, "address": client.billing_address,
                     "email": client.billing_email, "tax_id": client.tax_id,
                     "country": client.country}
    # One UPDATE writes every issue column: after it, the database refuses any change.
    db.session.flush()
    db.session.add(InvoiceMovement(invoice_id=invoice.id, entry_id=entry.id,
                                   kind=MovementKind.ISSUE, amount=0, occurred_on=issued_on))
    db.session.flush()
    follow_invoice(actor, invoice.pitch, PitchState.INVOICED, f"invoice {number} issued")
    hooks.invoice_issued(invoice)
    return invoice


def base_parts(totals: compute.Totals, currency: str, base: str, rate: Decimal
               ) -> dict[int | None, int]:
    """The base-currency amounts an issue posts: None -> the net, tax rate id -> its tax.
    The gross is converted once and divided like the invoice's own amounts, so the parts
    always add up to the converted gross."""
    keys: list[int | None] = [None, *sorted(totals.taxes)]
    weights = [totals.net, *(totals.taxes[k] for k in keys[1:])]
    gross = compute.to_base(totals.gross, minor_digits(currency), rate, minor_digits(base))
    return dict(zip(keys, compute.proportional_parts(gross, weights), strict=True))


def _entry_lines(collective_id: int, parts: dict[int | None, int], base: str
                 ) -> list[ledger.Line]:
    receivables = ledger.account_by_code(collective_id, ledger.RECEIVABLES)
    income = ledger.account_by_code(collective_id, ledger.CLIENT_INCOME)
    tax_accounts = dict(db.session.execute(sa.select(TaxRate.id, TaxRate.account_id).where(
        TaxRate.id.in_([k for k in parts if k is not None]))).all())
    credits: dict[int, int] = {}
    for key, amount in parts.items():
        account_id = income.id if key is None else tax_accounts[key]
        credits[account_id] = credits.get(account_id, 0) + amount
    lines = [ledger.Line(receivables.id, sum(parts.values()), base)]
    lines += [ledger.Line(account_id, -amount, base)
              for account_id, amount in credits.items() if amount]
    return lines


def _memo(invoice: Invoice, number: str, totals: compute.Totals, rate: Decimal, base: str
          ) -> str:
    memo = f"Invoice {number} to {invoice.client.name}: {invoice.pitch.title}"
    if invoice.currency != base:
        memo += f" ({invoice.currency} {format_plain(totals.gross, invoice.currency)}"
        memo += f" at {rate.normalize()})"
    return memo[:500]

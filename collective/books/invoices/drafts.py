"""Draft invoices: drafted from won, in-progress or delivered work, edited and deleted freely
until issued. A draft posts nothing."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective.books.invoices import compute
from collective.books.invoices.models import Invoice, InvoiceLine, TaxRate
from collective.books.invoices.settings import invoicing_details
from collective.errors import DomainError
from collective.extensions import db
from collective.members.models import Membership, Role
from collective.members.services import require_role
from collective.money import MAX_MINOR_UNITS
from collective.pool.checks import get_in, same_collective
from collective.pool.models import Pitch, PitchState

#: Work that can be invoiced.
#: Invoiced work can be invoiced again (a second instalment, extra work): issuing moves
#: delivered work to invoiced.
INVOICEABLE_STATES = (PitchState.WON, PitchState.IN_PROGRESS, PitchState.DELIVERED,
                      PitchState.INVOICED)
#: Lines one invoice may have.
MAX_LINES = 50
#: Pieces of work the draft form offers (the newest); older work is invoiced from its page.
PITCH_CHOICES = 100
#: The latest due date a draft may carry, from today.
MAX_DUE = timedelta(days=366)
#: The largest quantity of one line (Numeric(12, 3)).
MAX_QUANTITY = Decimal("999999999")


@dataclass(frozen=True, slots=True)
class DraftLine:
    """One line as a form gives it: unit price in minor units of the invoice's currency."""

    description: str
    quantity: Decimal
    unit_price: int
    tax_rate_id: int | None = None


class NotADraft(DomainError):
    """The invoice was issued: it cannot change any more."""

    status = 409

    def __init__(self, invoice: Invoice) -> None:
        super().__init__(f"invoice {invoice.number} is issued and cannot change; correct it "
                         "with a credit note", field="invoice")


def default_due_on(collective_id: int, today: date) -> date:
    """Today plus the collective's payment terms."""
    return today + timedelta(days=invoicing_details(collective_id).payment_terms_days)


def draft_invoice(actor: Membership, pitch: Pitch, *, lines: Sequence[DraftLine],
                  due_on: date | None = None, notes: str = "", today: date) -> Invoice:
    """Draft an invoice for a pitch in the pitch's currency; due today + payment terms
    unless `due_on` says otherwise."""
    require_role(actor, Role.COORDINATOR, Role.TREASURER, action="draft invoices")
    same_collective(actor, pitch, "pitch")
    if pitch.pitch_state not in INVOICEABLE_STATES:
        raise DomainError(f"work that is {pitch.pitch_state.label} cannot be invoiced; it must "
                          "be won, in progress, delivered or invoiced", field="pitch_id")
    invoice = Invoice(collective_id=actor.collective_id, pitch_id=pitch.id,
                      client_id=pitch.client_id, currency=pitch.value_currency,
                      due_on=today, notes="", created_by_id=actor.id)
    _fill(invoice, lines, due_on or default_due_on(actor.collective_id, today), notes, today)
    db.session.add(invoice)
    db.session.flush()
    return invoice


def edit_draft(actor: Membership, invoice: Invoice, *, lines: Sequence[DraftLine],
               due_on: date, notes: str = "", today: date) -> Invoice:
    """Replace a draft's lines, due date and notes."""
    require_role(actor, Role.COORDINATOR, Role.TREASURER, action="edit invoices")
    same_collective(actor, invoice, "invoice")
    _lock_draft(invoice)
    invoice.lines.clear()
    db.session.flush()
    _fill(invoice, lines, due_on, notes, today)
    db.session.flush()
    return invoice


def delete_draft(actor: Membership, invoice: Invoice) -> None:
    """Delete a draft; nothing was posted for it."""
    require_role(actor, Role.COORDINATOR, Role.TREASURER, action="delete invoices")
    same_collective(actor, invoice, "invoice")
    _lock_draft(invoice)
    db.session.delete(invoice)
    db.session.flush()


def _lock_draft(invoice: Invoice) -> None:
    """Take the invoice's row lock and refuse it unless it is still a draft."""
    number = db.session.scalar(sa.select(Invoice.number).where(Invoice.id == invoice.id)
                               .with_for_update())
    if number is not None or invoice.number is not None:
        db.session.refresh(invoice)
        raise NotADraft(invoice)


def _fill(invoice: Invoice, lines: Sequence[DraftLine], due_on: date, notes: str,
          today: date) -> None:
    if not lines:
        raise DomainError("an invoice needs at least one line", field="lines")
    if len(lines) > MAX_LINES:
        raise DomainError(f"an invoice has at most {MAX_LINES} lines", field="lines")
    if due_on < today - timedelta(days=366) or due_on > today + MAX_DUE:
        raise DomainError("the due date must be within a year of today", field="due_on")
    rates = {r.id: r for r in db.session.scalars(sa.select(TaxRate).filter_by(
        collective_id=invoice.collective_id))}
    checked = []
    for position, line in enumerate(lines, start=1):
        checked.append(_checked_line(position, line, rates))
    total = compute.totals(compute.line_amounts(ln.quantity, ln.unit_price,
                                                rates[ln.tax_rate_id].rate_bp
                                                if ln.tax_rate_id else None, ln.tax_rate_id)
                           for ln in checked)
    if total.gross > MAX_MINOR_UNITS:
        raise DomainError("the invoice's total is too large", field="lines")
    invoice.due_on = due_on
    invoice.notes = (notes or "").strip()[:2000]
    invoice.lines.extend(checked)


def _checked_line(position: int, line: DraftLine, rates: dict[int, TaxRate]) -> InvoiceLine:
    where = f"line {position}"
    description = " ".join((line.description or "").split())
    if not description:
        raise DomainError(f"{where}: say what the line is for", field="lines")
    quantity = line.quantity
    if (not isinstance(quantity, Decimal) or not quantity.is_finite() or quantity <= 0
            or quantity > MAX_QUANTITY or quantity != quantity.quantize(Decimal("0.001"))):
        raise DomainError(f"{where}: the quantity is more than 0, with at most 3 decimals",
                          field="lines")
    price = line.unit_price
    if isinstance(price, bool) or not isinstance(price, int) or not 0 <= price <= MAX_MINOR_UNITS:
        raise DomainError(f"{where}: the unit price must be 0 or more", field="lines")
    if line.tax_rate_id is not None:
        rate = rates.get(line.tax_rate_id)
        if rate is None:
            raise DomainError(f"{where}: no such tax rate in this collective", field="lines")
    return InvoiceLine(position=position, description=description[:500], quantity=quantity,
                       unit_price=price, tax_rate_id=line.tax_rate_id)


def invoice_totals(invoice: Invoice) -> compute.Totals:
    """The invoice's totals, from its lines (what issuing will post)."""
    return compute.totals(
        compute.line_amounts(ln.quantity, ln.unit_price,
                             ln.tax_rate.rate_bp if ln.tax_rate else None, ln.tax_rate_id)
        for ln in invoice.lines)


def invoiceable_pitches(collective_id: int, *, include: int | None = None
                        ) -> tuple[list[Pitch], bool]:
    """The collective's work that can be invoiced, by title: the PITCH_CHOICES newest
    pieces, and `include` (work chosen from its page) whatever its age; and whether any
    were left out."""
    invoiceable = (Pitch.collective_id == collective_id,
                   Pitch.state.in_([s.value for s in INVOICEABLE_STATES]))
    newest = (sa.select(Pitch.id).where(*invoiceable).order_by(Pitch.id.desc())
              .limit(PITCH_CHOICES + 1))
    ids = list(db.session.scalars(newest))
    cut = len(ids) > PITCH_CHOICES
    ids = ids[:PITCH_CHOICES] + ([include] if include is not None else [])
    pitches = db.session.scalars(
        sa.select(Pitch).where(Pitch.id.in_(ids), *invoiceable)
        .options(so.joinedload(Pitch.client)).order_by(Pitch.title, Pitch.id)).unique()
    return list(pitches), cut


def get_invoice(collective_id: int, invoice_id: int) -> Invoice:
    """An invoice of this collective, or NotFound."""
    return get_in(Invoice, collective_id, invoice_id, "invoice")

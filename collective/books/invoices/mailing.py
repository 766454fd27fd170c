"""Invoices by e-mail, through the mail outbox (docs/mail.md): an issued invoice to the
client's invoicing address, and reminders of overdue ones, once a week for four weeks.

The outbox carries text and HTML only, so the message gives the invoice's figures and the
payment instructions; the PDF is printed from the invoice page."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa

from collective.books.invoices.models import Invoice
from collective.books.invoices.queries import standings
from collective.errors import DomainError
from collective.extensions import db
from collective.mail.outbox import queue_mail
from collective.members.models import Collective, Membership, Role
from collective.members.services import require_role
from collective.money import format_money
from collective.pool.checks import same_collective
from collective.web.formatting import day_label

#: Overdue reminders: one in each of the first four weeks past the due date.
REMINDER_WEEKS = 4


def _context(invoice: Invoice, open_amount: int) -> dict:
    seller = invoice.seller or {}
    return {"number": invoice.number, "client": invoice.buyer.get("name", ""),
            "seller": seller.get("legal_name", ""),
            "total": format_money(invoice.gross_amount, invoice.currency),
            "open": format_money(open_amount, invoice.currency),
            "issued": day_label(invoice.issued_on), "due": day_label(invoice.due_on),
            "work": invoice.pitch.title,
            "instructions": seller.get("payment_instructions", "")}


def email_invoice(actor: Membership, invoice: Invoice, *, now: datetime):
    """Queue the issued invoice for the client's invoicing address; None when it was
    mailed there already."""
    require_role(actor, Role.COORDINATOR, Role.TREASURER, action="send invoices")
    same_collective(actor, invoice, "invoice")
    if invoice.is_draft:
        raise DomainError("issue the invoice before sending it", field="invoice")
    address = (invoice.buyer or {}).get("email") or invoice.client.billing_email
    if not address:
        raise DomainError(f"{invoice.client.name} has no e-mail address for invoices; add it "
                          "on the client's page", field="invoice")
    found = standings([invoice])[invoice.id]
    return queue_mail(event_key=f"invoice:{invoice.id}", to=address, template="invoice",
                      context=_context(invoice, found.open_amount),
                      subject=f"Invoice {invoice.number} from {invoice.seller['legal_name']}",
                      now=now, collective_id=invoice.collective_id)


def remind_overdue(collective_id: int, *, today: date, now: datetime) -> int:
    """Queue this week's reminder for each overdue invoice of the collective that has a
    client address; returns how many were queued (a week's reminder goes once)."""
    invoices = list(db.session.scalars(sa.select(Invoice).where(
        Invoice.collective_id == collective_id, Invoice.number.is_not(None),
        Invoice.due_on < today)))
    found = standings(invoices)
    queued = 0
    for invoice in invoices:
        open_amount = found[invoice.id].open_amount
        week = (today - invoice.due_on).days // 7
        address = (invoice.buyer or {}).get("email")
        if open_amount <= 0 or week >= REMINDER_WEEKS or not address:
            continue
        message = queue_mail(
            event_key=f"invoice-overdue:{invoice.id}:{week}", to=address,
            template="invoice_overdue", context=_context(invoice, open_amount),
            subject=f"Reminder: invoice {invoice.number} was due {day_label(invoice.due_on)}",
            now=now, collective_id=collective_id)
        queued += message is not None
    return queued


def collectives_with_overdue(today_of) -> list[tuple[int, date]]:
    """(collective id, its today) for every collective with an issued invoice past due;
    `today_of(timezone)` is the caller's clock."""
    rows = db.session.execute(
        sa.select(Collective.id, Collective.timezone).where(Collective.id.in_(
            sa.select(Invoice.collective_id).where(Invoice.number.is_not(None))))).all()
    return [(cid, today_of(tz)) for cid, tz in rows]

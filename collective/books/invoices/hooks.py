"""Telling the collective's webhooks about invoices: one issued, and one paid in full.
Flush, never commit."""
from __future__ import annotations

from collective.books.invoices.models import Invoice
from collective.books.invoices.queries import Status, standing
from collective.extensions import db
from collective.members.models import Collective
from collective.notifications.wording import page
from collective.pool.models import ClientPayment
from collective.webhooks.events import EventType
from collective.webhooks.outbox import emit


def _data(invoice: Invoice, base: str) -> dict:
    return {"invoice_id": invoice.id, "number": invoice.number, "client_id": invoice.client_id,
            "pitch_id": invoice.pitch_id, "currency": invoice.currency,
            "net_amount": invoice.net_amount, "tax_amount": invoice.tax_amount,
            "gross_amount": (invoice.net_amount or 0) + (invoice.tax_amount or 0),
            "base_gross": invoice.base_gross, "base_currency": base,
            "issued_on": invoice.issued_on.isoformat() if invoice.issued_on else None,
            "due_on": invoice.due_on.isoformat()}


def _link(collective: Collective, invoice: Invoice) -> str:
    return page("invoices.invoice", slug=collective.slug, invoice_id=invoice.id)


def invoice_issued(invoice: Invoice) -> None:
    """An invoice got its number and was posted."""
    collective = db.session.get(Collective, invoice.collective_id)
    emit(collective, EventType.INVOICE_ISSUED, key=str(invoice.id),
         data=_data(invoice, collective.base_currency), link=_link(collective, invoice))


def invoice_paid_if_settled(invoice: Invoice, payment: ClientPayment) -> None:
    """The payment settled the invoice's last open amount: it is paid."""
    if standing(invoice).status != Status.PAID:
        return
    collective = db.session.get(Collective, invoice.collective_id)
    emit(collective, EventType.INVOICE_PAID, key=str(invoice.id), data={
        **_data(invoice, collective.base_currency), "payment_id": payment.id,
        "paid_on": payment.received_on.isoformat()}, link=_link(collective, invoice))

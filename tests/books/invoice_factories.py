"""Invoice test data built through the real services: a collective with invoicing details
and VAT, delivered work, drafts and issued invoices."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from collective.books.invoices import drafts, issuing, settings
from collective.books.invoices.drafts import DraftLine
from collective.books.invoices.models import Invoice, TaxRate
from collective.members.models import Membership
from collective.pool import clients, pitches
from collective.pool.models import Client, Pitch, PitchState
from tests.pool.factories import NOW, TODAY, move_to

__all__ = ["NOW", "TODAY", "set_up_invoicing", "delivered_work", "draft", "issued"]


def set_up_invoicing(treasurer: Membership, prefix: str = "BRC") -> TaxRate:
    """Invoicing details (prefix BRC, 30 days) and VAT 12%, which it returns."""
    settings.save_details(treasurer, legal_name="Bayanihan Remote Collective",
                          address="12 Mabini St\nQuezon City", tax_id="PH-123-456",
                          payment_instructions="BPI 1234 5678", payment_terms_days=30,
                          number_prefix=prefix)
    return settings.add_tax_rate(treasurer, name="VAT", rate_bp=1200)


def delivered_work(coordinator: Membership, *, currency: str | None = None,
                   client_name: str | None = None, client: Client | None = None,
                   state: PitchState = PitchState.DELIVERED) -> Pitch:
    """Work delivered for a client (a new one with invoicing details, unless given), in
    `currency` (the base's unless given)."""
    client = client or clients.create_client(
        coordinator, name=client_name or f"Harbour Dental {coordinator.id}-{TODAY}",
        country="AU", billing=clients.BillingDetails(address="1 Quay St, Sydney",
                                                    email="accounts@harbour.test",
                                                    tax_id="ABN 51 824 753 556"))
    pitch = pitches.create_pitch(coordinator, client_id=client.id, title="Website rebuild",
                                 value_amount=500_000,
                                 value_currency=currency or coordinator.collective.base_currency,
                                 today=TODAY, at=NOW)
    return move_to(coordinator, pitch, state)


def draft(actor: Membership, pitch: Pitch, vat: TaxRate | None = None,
          lines: list[DraftLine] | None = None, due_on: date | None = None) -> Invoice:
    """Two days of design at 1,000.00 with VAT (when given) and hosting at 500.00 without."""
    lines = lines or [DraftLine("Design, days", Decimal(2), 100_000, vat.id if vat else None),
                      DraftLine("Hosting, one year", Decimal(1), 50_000, None)]
    return drafts.draft_invoice(actor, pitch, lines=lines, due_on=due_on, today=TODAY)


def issued(actor: Membership, pitch: Pitch, vat: TaxRate | None = None, *,
           issued_on: date = TODAY, rate: Decimal | None = None, **kwargs) -> Invoice:
    """A drafted and issued invoice."""
    return issuing.issue_invoice(actor, draft(actor, pitch, vat, **kwargs), issued_on=issued_on,
                                 rate=rate, today=TODAY)

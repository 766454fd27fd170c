"""The invoice PDF: its text, as a reader copies it, matches the expected text kept in
tests/books/expected (names with diacritics included), and a draft says so."""
from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import pypdf

from collective.books.invoices import drafts, pdf, settings
from collective.books.invoices.drafts import DraftLine
from collective.pool import clients
from tests.books.invoice_factories import TODAY, delivered_work, draft, issued, set_up_invoicing
from tests.factories import make_collective

EXPECTED = Path(__file__).parent / "expected" / "invoice.txt"


def _text(document: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(document)).pages)


def _render(invoice) -> bytes:
    return pdf.invoice_pdf(invoice, settings.invoicing_details(invoice.collective_id),
                           drafts.invoice_totals(invoice))


def test_the_pdf_text_matches_the_snapshot(ctx):
    founder = make_collective(currency="PHP")
    vat = set_up_invoicing(founder)
    work = delivered_work(founder, client_name="Niño Dela Cruz Studio")
    clients.edit_client(founder, work.client, name="Niño Dela Cruz Studio", country="PH",
                        billing=clients.BillingDetails(address="3 Rizal Ave, Cebú",
                                                       email="ap@nino.test", tax_id="PH-987"))
    invoice = issued(founder, work, vat, lines=[
        DraftLine("Brand identity, days", Decimal("2.5"), 1_200_000, vat.id),
        DraftLine("Hosting, one year", Decimal(1), 450_050, None)])
    text = _text(_render(invoice))
    assert text == EXPECTED.read_text()
    assert invoice.number == "BRC-2026-0001" and invoice.issued_on == TODAY


def test_a_draft_pdf_says_draft_and_has_no_number(ctx):
    founder = make_collective()
    vat = set_up_invoicing(founder)
    text = _text(_render(draft(founder, delivered_work(founder), vat)))
    assert "DRAFT invoice (not issued)" in text and "BRC-" not in text
    assert "$2,740.00" in text

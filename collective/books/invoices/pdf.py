"""An invoice as a PDF, in the Noto Sans fonts the package ships (collective/reports/fonts,
read by path: books may not import reports), so names in any Latin script print as
themselves. An issued invoice prints what was frozen on it; a draft says DRAFT."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from collective.books.invoices.compute import Totals, line_amounts
from collective.books.invoices.models import Invoice, InvoicingDetails
from collective.money import format_money
from collective.web.formatting import day_label

#: The Unicode fonts shipped with the package (reports' PDF statements use them too).
FONTS = Path(__file__).resolve().parents[2] / "reports" / "fonts"
FONT_FILES = {"": "NotoSans-Regular.ttf", "B": "NotoSans-Bold.ttf", "I": "NotoSans-Italic.ttf"}
FONT = "NotoSans"


def _parties(invoice: Invoice, details: InvoicingDetails) -> tuple[dict, dict]:
    if invoice.seller and invoice.buyer:
        return invoice.seller, invoice.buyer
    client = invoice.client
    return ({"legal_name": details.legal_name, "address": details.address,
             "tax_id": details.tax_id, "payment_instructions": details.payment_instructions},
            {"name": client.name, "address": client.billing_address,
             "email": client.billing_email, "tax_id": client.tax_id})


def invoice_pdf(invoice: Invoice, details: InvoicingDetails, totals: Totals) -> bytes:
    """The invoice laid out on A4, as PDF bytes."""
    from fpdf import FPDF

    seller, buyer = _parties(invoice, details)
    cur = invoice.currency
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    for style, filename in FONT_FILES.items():
        pdf.add_font(FONT, style, FONTS / filename)
    pdf.set_auto_page_break(auto=True, margin=15)
    title = f"Invoice {invoice.number}" if invoice.number else "DRAFT invoice (not issued)"
    pdf.set_title(title)
    pdf.set_author(seller["legal_name"])
    pdf.set_creation_date(datetime.combine(invoice.issued_on or invoice.due_on,
                                           datetime.min.time()))
    pdf.add_page()
    text = {"new_x": "LMARGIN", "new_y": "NEXT"}
    pdf.set_font(FONT, "B", 16)
    pdf.multi_cell(0, 9, seller["legal_name"] or "(no legal name set)", **text)
    pdf.set_font(FONT, "", 10)
    for part in (seller["address"], f"Tax id: {seller['tax_id']}" if seller["tax_id"] else ""):
        if part:
            pdf.multi_cell(0, 5, part, **text)
    pdf.ln(4)
    pdf.set_font(FONT, "B", 14)
    pdf.multi_cell(0, 8, title, **text)
    pdf.set_font(FONT, "", 10)
    if invoice.issued_on:
        pdf.multi_cell(0, 5, f"Issued: {day_label(invoice.issued_on)}", **text)
    pdf.multi_cell(0, 5, f"Due: {day_label(invoice.due_on)}", **text)
    pdf.ln(3)
    pdf.set_font(FONT, "B", 10)
    pdf.multi_cell(0, 5, "Bill to", **text)
    pdf.set_font(FONT, "", 10)
    for part in (buyer["name"], buyer.get("address", ""),
                 f"Tax id: {buyer['tax_id']}" if buyer.get("tax_id") else "",
                 buyer.get("email", "")):
        if part:
            pdf.multi_cell(0, 5, part, **text)
    pdf.ln(4)
    pdf.set_font(FONT, "", 9)
    with pdf.table(col_widths=(80, 18, 30, 22, 32),
                   text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"), line_height=5,
                   padding=1, borders_layout="HORIZONTAL_LINES", first_row_as_headings=True,
                   repeat_headings=1) as table:
        table.row(("Description", "Qty", "Unit price", "Tax", "Amount"))
        for line in invoice.lines:
            amounts = line_amounts(line.quantity, line.unit_price,
                                   line.tax_rate.rate_bp if line.tax_rate else None)
            table.row((line.description, f"{line.quantity.normalize():f}",
                       format_money(line.unit_price, cur),
                       line.tax_rate.label if line.tax_rate else "-",
                       format_money(amounts.net, cur)))
    pdf.ln(3)
    rates = {ln.tax_rate_id: ln.tax_rate for ln in invoice.lines if ln.tax_rate}
    summary = [("Subtotal", totals.net)]
    summary += [(f"{rates[rate_id].label}", tax) for rate_id, tax in sorted(totals.taxes.items())]
    summary.append((f"Total due ({cur})", totals.gross))
    for label, amount in summary:
        pdf.set_font(FONT, "B" if label.startswith("Total") else "", 10)
        pdf.cell(140, 6, label, align="R")
        pdf.cell(42, 6, format_money(amount, cur), align="R", **text)
    if invoice.notes:
        pdf.ln(3)
        pdf.set_font(FONT, "", 9)
        pdf.multi_cell(0, 5, invoice.notes, **text)
    if seller["payment_instructions"]:
        pdf.ln(4)
        pdf.set_font(FONT, "B", 10)
        pdf.multi_cell(0, 5, "How to pay", **text)
        pdf.set_font(FONT, "", 10)
        pdf.multi_cell(0, 5, seller["payment_instructions"], **text)
    return bytes(pdf.output())

"""The money actions of an issued invoice through the API, as its page has them: credit
notes and a write-off (treasurers, each posted once), the PDF and its e-mail; and the tax
rates an invoice line can carry. The invoice's own resource is in books.py."""
from __future__ import annotations

import sqlalchemy as sa
from flask import g

from collective.api.idempotency import PARAMETER
from collective.api.paging import DatedPageArgs, day_range, page_body, page_of, page_schema
from collective.api.schemas_books import (
    CreditNoteIn,
    CreditNoteOut,
    SentOut,
    TaxRateArgs,
    TaxRateOut,
    WriteOffIn,
    WriteOffOut,
)
from collective.api.views import written
from collective.api.views.auth import scoped
from collective.api.views.books import C, T, blp, one_invoice
from collective.books.invoices import adjustments, drafts, mailing, pdf, settings
from collective.books.invoices.models import CreditNote, TaxRate
from collective.clock import now_utc
from collective.web.headers import streamed_download

CreditNotePage = page_schema(CreditNoteOut, "CreditNotePage")
TaxRatePage = page_schema(TaxRateOut, "TaxRatePage")


@blp.route("/collectives/<slug>/invoices/<int:invoice_id>/pdf")
@scoped(C, T)
@blp.doc(responses={"200": {"description": "The invoice as a PDF (a draft's says DRAFT).",
                            "content": {"application/pdf": {
                                "schema": {"type": "string", "format": "binary"}}}}})
def invoice_pdf(invoice_id: int):
    """The invoice as a PDF, the same document its page offers (coordinators and
    treasurers)."""
    found = drafts.get_invoice(g.collective.id, invoice_id)
    document = pdf.invoice_pdf(found, settings.invoicing_details(g.collective.id),
                               drafts.invoice_totals(found))
    return streamed_download(iter([document]), f"{found.number or f'draft-{found.id}'}.pdf",
                             "application/pdf")


@blp.route("/collectives/<slug>/invoices/<int:invoice_id>/send", methods=["POST"])
@scoped(C, T)
@blp.response(200, SentOut)
def send_invoice(invoice_id: int):
    """E-mail the issued invoice to the client's invoicing address, once (coordinators and
    treasurers): sent again, nothing new goes out and `queued` is false."""

    def send():
        found = drafts.get_invoice(g.collective.id, invoice_id)
        message = mailing.email_invoice(g.membership, found, now=now_utc())
        return SentOut().dump({"queued": message is not None,
                               "recipient": message.recipient if message else None}), 200

    return written(send)


@blp.route("/collectives/<slug>/invoices/<int:invoice_id>/credit-notes")
@scoped(C, T)
@blp.arguments(DatedPageArgs, location="query")
@blp.response(200, CreditNotePage)
def credit_note_list(args: dict, invoice_id: int):
    """The invoice's credit notes, oldest first; filter by the day issued."""
    found = drafts.get_invoice(g.collective.id, invoice_id)
    query = sa.select(CreditNote).where(CreditNote.invoice_id == found.id,
                                        CreditNote.collective_id == g.collective.id,
                                        *day_range(CreditNote.issued_on, args))
    return page_body(page_of(query, CreditNote.id, "credit-notes", args))


@blp.route("/collectives/<slug>/invoices/<int:invoice_id>/credit-notes", methods=["POST"])
@scoped(T)
@blp.arguments(CreditNoteIn)
@blp.response(201, CreditNoteOut)
@blp.doc(parameters=[PARAMETER])
def credit_invoice(data: dict, invoice_id: int):
    """Credit part of what is open on an issued invoice, or all of it (treasurers): the
    note takes the next credit-note number and posts the mirror of what it credits, tax in
    the invoice's own proportion. Send an Idempotency-Key to retry safely."""

    def credit():
        found = drafts.get_invoice(g.collective.id, invoice_id)
        note = adjustments.issue_credit_note(
            g.membership, found, amount=data["amount"], reason=data["reason"],
            issued_on=data["issued_on"] or g.today, today=g.today)
        return CreditNoteOut().dump(note), 201

    return written(credit)


@blp.route("/collectives/<slug>/invoices/<int:invoice_id>/write-off", methods=["POST"])
@scoped(T)
@blp.arguments(WriteOffIn)
@blp.response(200, WriteOffOut)
@blp.doc(parameters=[PARAMETER])
def write_off_invoice(data: dict, invoice_id: int):
    """Write off what is still open on an issued invoice to bad debts (treasurers), once: a
    second write-off finds nothing open (422). With `open_claims`, an invoice overdue past
    the fund plan's threshold opens an unpaid-invoice claim for each member who did the
    work; `not_opened` says why none was."""

    def write_off():
        found = drafts.get_invoice(g.collective.id, invoice_id)
        result = adjustments.write_off(
            g.membership, found, written_off_on=data["written_off_on"] or g.today,
            today=g.today, now=now_utc(), open_claims=data["open_claims"])
        lost = sum(p.amount for p in result.entry.postings if p.amount > 0)
        return WriteOffOut().dump({
            "entry_id": result.entry.id, "written_off_base": lost,
            "claim_ids": [claim.id for claim in result.claims],
            "not_opened": result.not_opened, "invoice": one_invoice(invoice_id)}), 200

    return written(write_off)


@blp.route("/collectives/<slug>/tax-rates")
@scoped(C, T)
@blp.arguments(TaxRateArgs, location="query")
@blp.response(200, TaxRatePage)
def tax_rate_list(args: dict):
    """The tax rates an invoice line can carry (coordinators and treasurers draft invoices);
    the retired ones too with `retired=true`."""
    query = sa.select(TaxRate).where(TaxRate.collective_id == g.collective.id)
    if not args["retired"]:
        query = query.where(TaxRate.is_retired.is_(False))
    return page_body(page_of(query, TaxRate.id, "tax-rates", args))

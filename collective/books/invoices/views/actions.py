"""The money actions of an invoice, each a page that shows what it will post and one button:
issue, credit note, write-off; and the PDF."""
from __future__ import annotations

from flask import Response, flash, g, redirect, render_template, request, url_for

from collective.books.invoices import (
    adjustments,
    drafts,
    issuing,
    mailing,
    payments,
    pdf,
    queries,
    settings,
)
from collective.books.invoices.forms import (
    ConfirmForm,
    CreditNoteForm,
    IssueForm,
    PaymentForm,
    WriteOffForm,
)
from collective.books.invoices.views.base import C, T, bp
from collective.clock import now_utc
from collective.money import format_money, format_plain
from collective.web.forms import flash_form_errors
from collective.web.scoping import collective_view
from collective.web.transaction import committed


def _back(invoice_id: int):
    return redirect(url_for("invoices.invoice", slug=g.collective.slug, invoice_id=invoice_id))


@bp.route("/<int:invoice_id>/issue", methods=["GET", "POST"])
@collective_view(T)
def issue_invoice(invoice_id: int):
    """Issue a draft: the page shows its totals and the entry; the button numbers and posts
    it, once."""
    invoice = drafts.get_invoice(g.collective.id, invoice_id)
    if not invoice.is_draft:
        flash(f"Invoice {invoice.number} is issued already.", "info")
        return _back(invoice_id)
    form = IssueForm()
    status = 200
    if request.method == "GET":
        form.issued_on.data = g.today
    elif form.validate_on_submit():
        with committed(form) as done:
            issuing.issue_invoice(g.membership, invoice, issued_on=form.issued_on.data,
                                  rate=form.rate.data, today=g.today)
        if done:
            flash(f"Invoice {invoice.number} is issued and posted.", "info")
            return _back(invoice_id)
        status = 422
    else:
        status = 422
    return render_template("books/invoices/issue.html", invoice=invoice, form=form,
                           totals=drafts.invoice_totals(invoice),
                           details=settings.invoicing_details(g.collective.id)), status


@bp.route("/<int:invoice_id>/credit-note", methods=["GET", "POST"])
@collective_view(T)
def credit_note(invoice_id: int):
    """Credit all or part of what is open on an issued invoice."""
    invoice = drafts.get_invoice(g.collective.id, invoice_id)
    found = queries.standing(invoice)
    form = CreditNoteForm()
    status = 200
    if request.method == "GET":
        form.issued_on.data = g.today
    elif form.validate_on_submit():
        amount = (form.parsed_amount(form.amount, invoice.currency, more_than_zero=True)
                  if (form.amount.data or "").strip() else None)
        if amount is not None or not (form.amount.data or "").strip():
            with committed(form) as done:
                note = adjustments.issue_credit_note(
                    g.membership, invoice, amount=amount, reason=form.reason.data,
                    issued_on=form.issued_on.data, today=g.today)
            if done:
                flash(f"Credit note {note.number} for "
                      f"{format_money(note.gross_amount, invoice.currency)} is posted.", "info")
                return _back(invoice_id)
        status = 422
    else:
        status = 422
    return render_template("books/invoices/credit_note.html", invoice=invoice, form=form,
                           standing=found), status


@bp.route("/<int:invoice_id>/write-off", methods=["GET", "POST"])
@collective_view(T)
def write_off(invoice_id: int):
    """Write off what is open to bad debts, and perhaps open claims for the workers."""
    invoice = drafts.get_invoice(g.collective.id, invoice_id)
    found = queries.standing(invoice)
    form = WriteOffForm()
    status = 200
    if request.method == "GET":
        form.written_off_on.data = g.today
    elif form.validate_on_submit():
        with committed(form) as done:
            result = adjustments.write_off(
                g.membership, invoice, written_off_on=form.written_off_on.data, today=g.today,
                now=now_utc(), open_claims=form.open_claims.data)
        if done:
            flash(f"{format_money(found.open_base, g.collective.base_currency)} of invoice "
                  f"{invoice.number} is written off to bad debts.", "info")
            if result.claims:
                flash(f"{len(result.claims)} unpaid-invoice claim(s) opened for the members "
                      "who did the work; a treasurer decides them on the fund's page.", "info")
            for why in result.not_opened:
                flash(f"No claim: {why}.", "info")
            return _back(invoice_id)
        status = 422
    else:
        status = 422
    threshold = (adjustments.claim_threshold(g.collective.id, g.today)
                 if not invoice.is_draft else None)
    return render_template("books/invoices/write_off.html", invoice=invoice, form=form,
                           standing=found, threshold=threshold,
                           late=(g.today - invoice.due_on).days), status


@bp.get("/<int:invoice_id>/pdf")
@collective_view(C, T)
def invoice_pdf(invoice_id: int):
    """The invoice as a PDF (a draft's says DRAFT)."""
    invoice = drafts.get_invoice(g.collective.id, invoice_id)
    document = pdf.invoice_pdf(invoice, settings.invoicing_details(g.collective.id),
                               drafts.invoice_totals(invoice))
    name = f"{invoice.number or f'draft-{invoice.id}'}.pdf"
    return Response(document, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{name}"'})


@bp.post("/<int:invoice_id>/send")
@collective_view(C, T)
def send_invoice(invoice_id: int):
    """E-mail the issued invoice to the client's invoicing address (once)."""
    invoice = drafts.get_invoice(g.collective.id, invoice_id)
    form = ConfirmForm(prefix="send")
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _back(invoice_id)
    with committed() as done:
        message = mailing.email_invoice(g.membership, invoice, now=now_utc())
    if done:
        flash(f"Invoice {invoice.number} is on its way to {message.recipient}." if message
              else f"Invoice {invoice.number} was e-mailed to the client already; nothing new "
              "was sent.", "info")
    return _back(invoice_id)


@bp.route("/<int:invoice_id>/payments/new", methods=["GET", "POST"])
@collective_view(C, T)
def record_payment(invoice_id: int):
    """Record money the client paid against the invoice: part of it or all that is open.
    The same form sent twice records one payment."""
    invoice = drafts.get_invoice(g.collective.id, invoice_id)
    found = queries.standing(invoice)
    form = PaymentForm()
    status = 200
    if request.method == "GET":
        form.received_on.data = g.today
        if found.open_amount > 0:
            form.amount.data = format_plain(found.open_amount, invoice.currency)
    elif form.validate_on_submit():
        amount = form.parsed_amount(form.amount, invoice.currency, more_than_zero=True)
        if amount is not None:
            with committed(form) as done:
                payment = payments.pay_invoice(
                    g.membership, invoice, amount=amount, received_on=form.received_on.data,
                    rate=form.rate.data, reference=form.reference.data or "",
                    request_key=form.request_key.data, today=g.today)
            if done:
                flash(f"Payment of {format_money(payment.amount, payment.currency)} recorded "
                      f"against {invoice.number} and split.", "info")
                return _back(invoice_id)
        status = 422
    else:
        status = 422
    return render_template("books/invoices/payment.html", invoice=invoice, form=form,
                           standing=found), status

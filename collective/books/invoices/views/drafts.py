"""The invoice list, drafting and editing (lines added and removed by sending the form),
deleting a draft, the invoice page, and the invoicing settings with the tax rates."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for

from collective.books.invoices import drafts, queries, settings
from collective.books.invoices.forms import (
    ConfirmForm,
    DetailsForm,
    DraftForm,
    EditDraftForm,
    TaxRateForm,
)
from collective.books.invoices.numbering import last_numbers
from collective.books.invoices.views.base import C, T, bp
from collective.money import format_plain
from collective.web.forms import flash_form_errors, valid_id
from collective.web.scoping import collective_view
from collective.web.transaction import committed


@bp.get("/")
@collective_view(C, T)
def invoices():
    """Every invoice with its status; `?status=` shows one status only."""
    wanted = request.args.get("status") or None
    try:
        status = queries.Status(wanted) if wanted else None
    except ValueError:
        status = None
        flash(f"There is no status {wanted[:40]!r}; showing every invoice.", "error")
    return render_template("books/invoices/list.html",
                           rows=queries.invoices_of(g.collective.id, status),
                           status=status, statuses=list(queries.Status))


def _grow_or_trim(form: DraftForm) -> bool:
    """Handle "Add a line" and "Remove": True when the form is only being reshaped (it
    is shown again, nothing saved)."""
    if form.add_line.data:
        kept = form.kept_lines()
        form.lines.entries = [e for e in form.lines.entries if e.form in kept]
        form.lines.append_entry()
        return True
    if any(entry.form.remove.data for entry in form.lines):
        form.lines.entries = [e for e in form.lines.entries if not e.form.remove.data]
        if not form.lines.entries:
            form.lines.append_entry()
        return True
    return False


def _tax_choices() -> list[tuple[int, str]]:
    return [(r.id, r.label) for r in settings.tax_rates_of(g.collective.id)]


@bp.route("/new", methods=["GET", "POST"])
@collective_view(C, T)
def new_invoice():
    """Draft an invoice for won, in-progress or delivered work."""
    form = DraftForm()
    chosen = (request.args if request.method == "GET" else request.form).get(
        "pitch_id", type=int)
    pitches, cut = drafts.invoiceable_pitches(
        g.collective.id, include=chosen if valid_id(chosen) else None)
    form.pitch_id.choices = [(p.id, f"{p.title} ({p.client.name}, {p.value_currency})")
                             for p in pitches]
    status = 200
    if request.method == "GET":
        form.due_on.data = drafts.default_due_on(g.collective.id, g.today)
        if chosen in {p.id for p in pitches}:
            form.pitch_id.data = chosen
    form.set_tax_choices(_tax_choices())
    if request.method == "POST":
        status = 422
        if _grow_or_trim(form):
            status = 200
        elif form.validate():
            work = next((p for p in pitches if p.id == form.pitch_id.data), None)
            lines = form.draft_lines(work.value_currency) if work else None
            if lines is not None:
                with committed(form, aliases={"pitch": "pitch_id"}) as done:
                    invoice = drafts.draft_invoice(g.membership, work, lines=lines,
                                                   due_on=form.due_on.data,
                                                   notes=form.notes.data or "", today=g.today)
                if done:
                    flash("The draft is saved. It posts nothing until it is issued.", "info")
                    return redirect(url_for("invoices.invoice", slug=g.collective.slug,
                                            invoice_id=invoice.id))
    return render_template("books/invoices/draft.html", form=form, invoice=None,
                           has_work=bool(pitches), cut=cut), status


@bp.route("/<int:invoice_id>/edit", methods=["GET", "POST"])
@collective_view(C, T)
def edit_invoice(invoice_id: int):
    """Change a draft's lines, due date and notes."""
    invoice = drafts.get_invoice(g.collective.id, invoice_id)
    if not invoice.is_draft:
        flash(f"Invoice {invoice.number} is issued and cannot change; a credit note corrects "
              "it.", "error")
        return redirect(url_for("invoices.invoice", slug=g.collective.slug,
                                invoice_id=invoice.id))
    form = EditDraftForm()
    status = 200
    if request.method == "GET":
        form.due_on.data, form.notes.data = invoice.due_on, invoice.notes
        form.lines.entries, form.lines.last_index = [], -1
        for line in invoice.lines:
            form.lines.append_entry({"description": line.description,
                                     "quantity": line.quantity.normalize(),
                                     "unit_price": format_plain(line.unit_price,
                                                                invoice.currency),
                                     "tax_rate_id": line.tax_rate_id or 0})
    form.set_tax_choices(_tax_choices())
    if request.method == "POST":
        status = 422
        if _grow_or_trim(form):
            status = 200
        elif form.validate():
            lines = form.draft_lines(invoice.currency)
            if lines is not None:
                with committed(form) as done:
                    drafts.edit_draft(g.membership, invoice, lines=lines,
                                      due_on=form.due_on.data, notes=form.notes.data or "",
                                      today=g.today)
                if done:
                    flash("The draft is saved.", "info")
                    return redirect(url_for("invoices.invoice", slug=g.collective.slug,
                                            invoice_id=invoice.id))
    return render_template("books/invoices/draft.html", form=form, invoice=invoice,
                           has_work=True), status


@bp.route("/<int:invoice_id>/delete", methods=["GET", "POST"])
@collective_view(C, T)
def delete_invoice(invoice_id: int):
    """Delete a draft, after a page that says what goes."""
    invoice = drafts.get_invoice(g.collective.id, invoice_id)
    form = ConfirmForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            flash_form_errors(form)
        else:
            with committed(form) as done:
                drafts.delete_draft(g.membership, invoice)
            if done:
                flash("The draft is deleted.", "info")
                return redirect(url_for("invoices.invoices", slug=g.collective.slug))
        return redirect(url_for("invoices.invoice", slug=g.collective.slug,
                                invoice_id=invoice_id))
    if not invoice.is_draft:
        abort(409)
    return render_template("books/invoices/delete.html", invoice=invoice, form=form,
                           totals=drafts.invoice_totals(invoice))


@bp.get("/<int:invoice_id>")
@collective_view(C, T)
def invoice(invoice_id: int):
    """An invoice: its lines and totals, its status and what moved it, and its actions."""
    found = drafts.get_invoice(g.collective.id, invoice_id)
    return render_template(
        "books/invoices/invoice.html", invoice=found, standing=queries.standing(found),
        totals=drafts.invoice_totals(found), movements=queries.movements_of(found),
        credit_notes=queries.credit_notes_of(found), claim_ids=queries.claim_ids_of(found),
        details=settings.invoicing_details(g.collective.id),
        send_form=ConfirmForm(prefix="send"))


@bp.route("/settings", methods=["GET", "POST"])
@collective_view(T)
def invoice_settings():
    """The collective's invoicing details, number prefix and tax rates."""
    details = settings.invoicing_details(g.collective.id)
    form = DetailsForm(prefix="details", obj=details if request.method == "GET" else None)
    tax_form = TaxRateForm(prefix="tax")
    accounts = settings.tax_accounts(g.collective.id)
    tax_form.account_id.choices = [(a.id, f"{a.code} {a.name}") for a in accounts]
    status = 200
    if request.method == "POST":
        status = 422
        if "details-legal_name" in request.form and form.validate_on_submit():
            with committed(form) as done:
                settings.save_details(
                    g.membership, legal_name=form.legal_name.data, address=form.address.data,
                    tax_id=form.tax_id.data, payment_instructions=form.payment_instructions.data,
                    payment_terms_days=form.payment_terms_days.data,
                    number_prefix=form.number_prefix.data)
            if done:
                flash("The invoicing details are saved.", "info")
                return redirect(url_for("invoices.invoice_settings", slug=g.collective.slug))
        elif "tax-name" in request.form and tax_form.validate_on_submit():
            bp_value = tax_form.rate_bp()
            if bp_value is not None:
                with committed(tax_form, aliases={"rate": "rate"}) as done:
                    rate = settings.add_tax_rate(g.membership, name=tax_form.name.data,
                                                 rate_bp=bp_value,
                                                 account_id=tax_form.account_id.data)
                if done:
                    flash(f"{rate.label} is added.", "info")
                    return redirect(url_for("invoices.invoice_settings",
                                            slug=g.collective.slug))
    return render_template("books/invoices/settings.html", form=form, tax_form=tax_form,
                           rates=settings.tax_rates_of(g.collective.id, retired=True),
                           numbers=last_numbers(g.collective.id),
                           retire_form=ConfirmForm(prefix="retire")), status


@bp.post("/tax-rates/<int:rate_id>/retire")
@collective_view(T)
def retire_tax_rate(rate_id: int):
    """Stop offering a tax rate on new lines (its invoices keep it)."""
    rate = settings.get_tax_rate(g.collective.id, rate_id)
    form = ConfirmForm(prefix="retire")
    if not form.validate_on_submit():
        flash_form_errors(form)
    else:
        with committed() as done:
            settings.retire_tax_rate(g.membership, rate)
        if done:
            flash(f"{rate.label} is retired: new lines cannot use it.", "info")
    return redirect(url_for("invoices.invoice_settings", slug=g.collective.slug))

"""Invoices (drafted, issued and paid) and expenses (submitted, entered and decided), through
the books' own services: the same rules and roles as their pages. Money writes take an
Idempotency-Key."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import Response, g
from sqlalchemy import orm as so

from collective.api.errors import ApiProblem
from collective.api.idempotency import PARAMETER
from collective.api.paging import (
    DEFAULT_LIMIT,
    Page,
    day_range,
    decode_cursor,
    encode_cursor,
    page_body,
    page_of,
    page_schema,
)
from collective.api.schemas import PaymentOut
from collective.api.schemas_books import (
    CategoryArgs,
    CategoryOut,
    DraftEditIn,
    ExpenseArgs,
    ExpenseDecisionIn,
    ExpenseIn,
    ExpenseOut,
    InvoiceArgs,
    InvoiceIn,
    InvoiceOut,
    InvoicePaymentIn,
    IssueIn,
)
from collective.api.views import api_blueprint, written
from collective.api.views.auth import scoped
from collective.books.expenses import decisions, queries, submissions
from collective.books.expenses.models import (
    Expense,
    ExpenseCategory,
    ExpenseKind,
    ExpenseStatus,
)
from collective.books.expenses.storage import receipt_storage, stored_file_response
from collective.books.expenses.uploads import Upload
from collective.books.invoices import drafts, issuing
from collective.books.invoices import payments as invoice_payments
from collective.books.invoices.models import Invoice, InvoiceLine
from collective.books.invoices.queries import Standing, Status, standings
from collective.clock import now_utc
from collective.extensions import db
from collective.members.models import Role
from collective.pool.pitches import get_pitch
from collective.transactions import transaction

C, T = Role.COORDINATOR, Role.TREASURER
blp = api_blueprint("api_books", "Invoices and expenses.")

InvoicePage = page_schema(InvoiceOut, "InvoicePage")
CategoryPage = page_schema(CategoryOut, "CategoryPage")
ExpensePage = page_schema(ExpenseOut, "ExpensePage")
#: The most invoices one request reads to fill a page filtered by a status (which is read
#: from the ledger, not stored): past it, the page is cut short and its cursor goes on.
STATUS_SCAN = 1000


# --- Invoices ----------------------------------------------------------------------------

def _invoices_query():
    return (sa.select(Invoice).where(Invoice.collective_id == g.collective.id)
            .options(so.selectinload(Invoice.lines).joinedload(InvoiceLine.tax_rate)))


def _invoice_body(invoice: Invoice, standing: Standing, today: date) -> dict:
    totals = drafts.invoice_totals(invoice)
    return {"id": invoice.id, "number": invoice.number, "status": standing.status.value,
            "is_overdue": standing.is_overdue(invoice.due_on, today),
            "pitch_id": invoice.pitch_id, "client_id": invoice.client_id,
            "currency": invoice.currency, "net_amount": totals.net, "tax_amount": totals.tax,
            "gross_amount": totals.gross,
            "open_amount": totals.gross if invoice.is_draft else standing.open_amount,
            "paid_amount": standing.paid, "base_currency": g.collective.base_currency,
            "base_gross": invoice.base_gross, "rate": invoice.rate,
            "issued_on": invoice.issued_on, "due_on": invoice.due_on, "notes": invoice.notes,
            "entry_id": invoice.entry_id, "created_at": invoice.created_at,
            "lines": invoice.lines, "credited_amount": standing.credited,
            "written_off_amount": standing.written_off}


def one_invoice(invoice_id: int) -> dict:
    """The invoice's body (for InvoiceOut to dump), or a 404."""
    invoice = db.session.scalar(_invoices_query().where(Invoice.id == invoice_id))
    if invoice is None:
        raise ApiProblem(404, "no such invoice in this collective")
    return _invoice_body(invoice, standings([invoice])[invoice.id], g.today)


def _invoice_page(query: sa.Select, args: dict) -> Page:
    """A page of invoices, those of `args['status']` only when asked: the status is read
    from the ledger, so rows are read in batches until the page is full (at most
    STATUS_SCAN of them; a page cut short there still has its next cursor)."""
    wanted = args.get("status")
    limit = args.get("limit") or DEFAULT_LIMIT
    after = decode_cursor("invoices", args.get("cursor"))
    found: list[dict] = []
    scanned, last_id = 0, after
    while True:
        batch_size = limit + 1 if wanted is None else min(200, STATUS_SCAN - scanned)
        batch_query = query.order_by(Invoice.id).limit(batch_size)
        if last_id is not None:
            batch_query = batch_query.where(Invoice.id > last_id)
        batch = list(db.session.scalars(batch_query))
        scanned += len(batch)
        marks = standings(batch)
        for invoice in batch:
            if len(found) == limit:
                return Page(found, encode_cursor("invoices", last_id))
            last_id = invoice.id
            if wanted is None or marks[invoice.id].status == wanted:
                found.append(_invoice_body(invoice, marks[invoice.id], g.today))
        if len(batch) < batch_size:
            return Page(found, None)
        if scanned >= STATUS_SCAN:
            return Page(found, encode_cursor("invoices", last_id))


@blp.route("/collectives/<slug>/invoices")
@scoped(C, T)
@blp.arguments(InvoiceArgs, location="query")
@blp.response(200, InvoicePage)
def invoice_list(args: dict):
    """Invoices (coordinators and treasurers); filter by `status`, and by the day issued
    (`since`, `until`: drafts, not issued yet, are left out of a range)."""
    query = _invoices_query().where(*day_range(Invoice.issued_on, args))
    if args.get("status") == Status.DRAFT:
        query = query.where(Invoice.number.is_(None))
    elif args.get("status"):
        query = query.where(Invoice.number.is_not(None))
    return page_body(_invoice_page(query, args))


def _draft_lines(data: dict) -> list[drafts.DraftLine]:
    return [drafts.DraftLine(line["description"], line["quantity"], line["unit_price"],
                             line["tax_rate_id"]) for line in data["lines"]]


@blp.route("/collectives/<slug>/invoices", methods=["POST"])
@scoped(C, T)
@blp.arguments(InvoiceIn)
@blp.response(201, InvoiceOut)
def draft_invoice(data: dict):
    """Draft an invoice for won, in-progress, delivered or invoiced work (coordinators and
    treasurers): lines in the work's currency; it posts nothing until issued."""

    def draft():
        work = get_pitch(g.collective.id, data["pitch_id"])
        invoice = drafts.draft_invoice(g.membership, work, lines=_draft_lines(data),
                                       due_on=data["due_on"],
                                       notes=data["notes"], today=g.today)
        return InvoiceOut().dump(one_invoice(invoice.id)), 201

    return written(draft)


@blp.route("/collectives/<slug>/invoices/<int:invoice_id>")
@scoped(C, T)
@blp.response(200, InvoiceOut)
def invoice(invoice_id: int):
    """One invoice, with its lines, totals and standing."""
    return one_invoice(invoice_id)


@blp.route("/collectives/<slug>/invoices/<int:invoice_id>/issue", methods=["POST"])
@scoped(T)
@blp.arguments(IssueIn)
@blp.response(200, InvoiceOut)
@blp.doc(parameters=[PARAMETER])
def issue_invoice(data: dict, invoice_id: int):
    """Issue a draft (treasurers): it takes the next number and is posted as one entry. An
    invoice issued already is a 409; send an Idempotency-Key to retry safely."""

    def issue():
        found = drafts.get_invoice(g.collective.id, invoice_id)
        issuing.issue_invoice(g.membership, found, issued_on=data["issued_on"] or g.today,
                              rate=data["rate"], today=g.today)
        return InvoiceOut().dump(one_invoice(invoice_id)), 200

    return written(issue)


@blp.route("/collectives/<slug>/invoices/<int:invoice_id>/payments", methods=["POST"])
@scoped(C, T)
@blp.arguments(InvoicePaymentIn)
@blp.response(201, PaymentOut)
@blp.doc(parameters=[PARAMETER])
def pay_invoice(data: dict, invoice_id: int):
    """Record money the client paid against an issued invoice (coordinators and
    treasurers): part of it or all that is open. It is a client payment, split under the
    share rule; read it and its split under /payments. Send an Idempotency-Key."""

    def pay():
        found = drafts.get_invoice(g.collective.id, invoice_id)
        payment = invoice_payments.pay_invoice(
            g.membership, found, amount=data["amount"], received_on=data["received_on"],
            rate=data["rate"], reference=data["reference"], today=g.today)
        return PaymentOut().dump(payment), 201

    return written(pay)


@blp.route("/collectives/<slug>/invoices/<int:invoice_id>", methods=["PUT"])
@scoped(C, T)
@blp.arguments(DraftEditIn)
@blp.response(200, InvoiceOut)
def edit_invoice(data: dict, invoice_id: int):
    """Replace a draft's lines, due date and notes (coordinators and treasurers); an issued
    invoice is a 409: it is corrected by a credit note."""

    def edit():
        found = drafts.get_invoice(g.collective.id, invoice_id)
        drafts.edit_draft(g.membership, found, lines=_draft_lines(data),
                          due_on=data["due_on"] or drafts.default_due_on(g.collective.id,
                                                                         g.today),
                          notes=data["notes"], today=g.today)
        db.session.expire(found)
        return InvoiceOut().dump(one_invoice(invoice_id)), 200

    return written(edit)


@blp.route("/collectives/<slug>/invoices/<int:invoice_id>", methods=["DELETE"])
@scoped(C, T)
@blp.response(204)
def delete_invoice(invoice_id: int):
    """Delete a draft (coordinators and treasurers): nothing was posted for it. An issued
    invoice is a 409."""

    with transaction():
        drafts.delete_draft(g.membership, drafts.get_invoice(g.collective.id, invoice_id))
    return Response(status=204)


# --- Expenses ----------------------------------------------------------------------------

@blp.route("/collectives/<slug>/expense-categories")
@scoped()
@blp.arguments(CategoryArgs, location="query")
@blp.response(200, CategoryPage)
def category_list(args: dict):
    """The categories a new expense can take (any member submits expenses); the inactive
    ones too with `inactive=true`."""
    query = sa.select(ExpenseCategory).where(ExpenseCategory.collective_id == g.collective.id)
    if not args["inactive"]:
        query = query.where(ExpenseCategory.is_active.is_(True))
    return page_body(page_of(query, ExpenseCategory.id, "expense-categories", args))


def _expenses_query():
    return (sa.select(Expense).where(Expense.collective_id == g.collective.id)
            .options(so.joinedload(Expense.category), so.selectinload(Expense.receipts)))


def _expense_body(expense: Expense) -> dict:
    return {"id": expense.id, "membership_id": expense.membership_id,
            "paid_by": "member" if expense.kind == ExpenseKind.MEMBER else "collective",
            "status": str(expense.status), "category_id": expense.category_id,
            "category": expense.category.name, "amount": expense.amount,
            "currency": expense.currency, "rate": expense.rate,
            "base_amount": expense.base_amount, "spent_on": expense.spent_on,
            "description": expense.description, "decision_reason": expense.decision_reason,
            "decided_at": expense.decided_at, "entry_id": expense.entry_id,
            "created_at": expense.created_at, "receipts": expense.receipts}


def _one_expense(expense_id: int) -> dict:
    """The expense's body as the caller may see it (their own, or any for a treasurer): 404
    otherwise, as its page does."""
    seen = queries.expense_for(g.membership, expense_id)
    return _expense_body(db.session.scalar(_expenses_query().where(Expense.id == seen.id)))


@blp.route("/collectives/<slug>/expenses")
@scoped()
@blp.arguments(ExpenseArgs, location="query")
@blp.response(200, ExpensePage)
def expense_list(args: dict):
    """Expenses: a treasurer's list holds everyone's, anyone else's their own; filter by
    `status`, and by the day the money was spent."""
    query = _expenses_query().where(*day_range(Expense.spent_on, args))
    if not g.membership.has_role(T):
        query = query.where(Expense.membership_id == g.membership.id,
                            Expense.kind == ExpenseKind.MEMBER.value)
    if args.get("status"):
        query = query.where(Expense.status == ExpenseStatus(args["status"]).value)
    return page_body(page_of(query, Expense.id, "expenses", args, convert=_expense_body))


@blp.route("/collectives/<slug>/expenses", methods=["POST"])
@scoped()
@blp.arguments(ExpenseIn)
@blp.response(201, ExpenseOut)
@blp.doc(parameters=[PARAMETER])
def create_expense(data: dict):
    """Submit an expense you paid, with its receipts (any member: a treasurer other than
    you decides it), or enter one the collective paid from its bank (`paid_by:
    collective`, treasurers: booked at once). Send an Idempotency-Key."""
    service = (submissions.record_direct_expense if data["paid_by"] == "collective"
               else submissions.submit_expense)

    def enter():
        expense = service(
            g.membership, category_id=data["category_id"], amount=data["amount"],
            currency=data["currency"], spent_on=data["spent_on"],
            description=data["description"], rate=data["rate"],
            receipts=[Upload(r["filename"], r["content_base64"]) for r in data["receipts"]],
            storage=receipt_storage(), today=g.today, now=now_utc())
        return ExpenseOut().dump(_one_expense(expense.id)), 201

    return written(enter)


@blp.route("/collectives/<slug>/expenses/<int:expense_id>")
@scoped()
@blp.response(200, ExpenseOut)
def expense(expense_id: int):
    """One expense: its submitter's and the treasurers' only (anyone else: 404)."""
    return _one_expense(expense_id)


@blp.route("/collectives/<slug>/expenses/<int:expense_id>/decision", methods=["POST"])
@scoped(T)
@blp.arguments(ExpenseDecisionIn)
@blp.response(200, ExpenseOut)
@blp.doc(parameters=[PARAMETER])
def decide_expense(data: dict, expense_id: int):
    """Approve a member's expense (booked at once: the collective owes it to them) or
    reject it with a reason (treasurers, never their own)."""

    def decide():
        found = decisions.get_expense(g.collective.id, expense_id)
        decisions.decide_expense(g.membership, found, approve=data["approve"],
                                 reason=data["reason"], today=g.today, now=now_utc())
        return ExpenseOut().dump(_one_expense(expense_id)), 200

    return written(decide)


@blp.route("/collectives/<slug>/expenses/<int:expense_id>/receipts/<int:receipt_id>")
@scoped()
@blp.doc(responses={"200": {"description": "The receipt's file, as it was uploaded.",
                            "content": {media: {"schema": {"type": "string",
                                                           "format": "binary"}}
                                        for media in ("application/pdf", "image/png",
                                                      "image/jpeg")}}})
def receipt(expense_id: int, receipt_id: int):
    """A receipt's file: its expense's submitter's and the treasurers' only (anyone else:
    404, as on its page)."""
    item = queries.receipt_for(g.membership, expense_id, receipt_id)
    return stored_file_response(item.storage_key, content_type=item.content_type,
                                filename=item.filename)


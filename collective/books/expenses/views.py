"""Pages of expenses: my expenses with the submit form, the treasurers' queue, one expense
with its receipts and the decision, an expense the collective paid, the categories, and
the receipt files themselves (only to the submitter and the treasurers)."""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from collective.books.expenses import categories, decisions, queries, submissions
from collective.books.expenses.forms import CategoryForm, DecideForm, ExpenseForm
from collective.books.expenses.models import ExpenseStatus
from collective.books.expenses.storage import receipt_storage, stored_file_response
from collective.clock import now_utc
from collective.members.forms import ConfirmForm
from collective.members.models import Role
from collective.money import format_money
from collective.web.forms import currency_error, flash_form_errors
from collective.web.scoping import collective_view
from collective.web.transaction import committed

bp = Blueprint("expenses", __name__, url_prefix="/c/<slug>/books/expenses")
T = Role.TREASURER
#: The form's hidden request key has no place on the page to show an error: flash it.
ALIASES = {"request_key": ""}


def _to(endpoint: str, **values):
    """A redirect to one of this collective's pages."""
    return redirect(url_for(endpoint, slug=g.collective.slug, **values))


def _expense_form() -> ExpenseForm:
    """The expense form with this collective's categories, filled for a first showing."""
    form = ExpenseForm()
    form.category_id.choices = [(c.id, c.name) for c in categories.categories_of(g.collective.id)]
    if request.method == "GET":
        form.currency.data = g.collective.base_currency
        form.spent_on.data = g.today
    return form


def _enter(form: ExpenseForm, service):
    """Run `service` (submit or record directly) on a valid form; the expense, or None
    with the errors on the form."""
    if not form.validate_on_submit() or currency_error(form.currency):
        return None
    amount = form.parsed_amount(form.amount, form.currency.data, more_than_zero=True)
    if amount is None:
        return None
    with committed(form, ALIASES) as done:
        expense = service(g.membership, category_id=form.category_id.data, amount=amount,
                          currency=form.currency.data, spent_on=form.spent_on.data,
                          description=form.description.data or "", rate=form.rate.data,
                          receipts=form.uploads(), storage=receipt_storage(),
                          request_key=form.request_key.data, today=g.today, now=now_utc())
    return expense if done else None


@bp.route("/", methods=["GET", "POST"])
@collective_view()
def mine():
    """Your expenses, and the form to submit one with its receipts."""
    form = _expense_form()
    if request.method == "POST":
        expense = _enter(form, submissions.submit_expense)
        if expense is not None:
            flash(f"Expense submitted: {format_money(expense.amount, expense.currency)}. A "
                  "treasurer decides it; you are told when they do.", "info")
            return _to("expenses.expense", expense_id=expense.id)
    return render_template("books/expenses/mine.html", form=form,
                           expenses=queries.expenses_of(g.membership)), \
        422 if request.method == "POST" else 200


@bp.route("/paid", methods=["GET", "POST"])
@collective_view(T)
def direct():
    """Enter an expense the collective paid from its bank, with its receipt: booked at
    once (the expense account debited, the bank credited)."""
    form = _expense_form()
    if request.method == "POST":
        expense = _enter(form, submissions.record_direct_expense)
        if expense is not None:
            flash(f"Booked: {format_money(expense.base_amount, g.collective.base_currency)} "
                  f"paid from the bank for {expense.category.name.lower()}.", "info")
            return _to("expenses.expense", expense_id=expense.id)
    return render_template("books/expenses/direct.html", form=form), \
        422 if request.method == "POST" else 200


@bp.get("/queue")
@collective_view(T)
def queue():
    """Members' expenses waiting for a decision, and the latest decided."""
    return render_template("books/expenses/queue.html",
                           waiting=queries.waiting(g.collective.id),
                           decided=queries.decided(g.collective.id))


def _render_expense(expense, form: DecideForm, status: int = 200):
    return render_template("books/expenses/expense.html", expense=expense, form=form,
                           may_decide=decisions.may_decide(g.membership, expense),
                           Status=ExpenseStatus), status


@bp.get("/<int:expense_id>")
@collective_view()
def expense(expense_id: int):
    """One expense: what, how much, its receipts, its decision; treasurers decide here."""
    return _render_expense(queries.expense_for(g.membership, expense_id), DecideForm())


@bp.post("/<int:expense_id>/decide")
@collective_view(T)
def decide(expense_id: int):
    """Approve (booked at once, owed to the member) or reject (with a reason) an expense."""
    item = queries.expense_for(g.membership, expense_id)
    form = DecideForm()
    offered = decisions.may_decide(g.membership, item)
    if form.validate_on_submit():
        approve = form.decision.data == "approve"
        # Where the page shows no decision form, the refusal is flashed.
        with committed(form, None if offered else {"reason": ""}) as done:
            decisions.decide_expense(g.membership, item, approve=approve,
                                     reason=form.reason.data or "", today=g.today,
                                     now=now_utc())
        if done:
            flash("The expense is approved and booked: the next payout pays it." if approve
                  else "The expense is rejected; nothing was booked.", "info")
            return _to("expenses.expense", expense_id=item.id)
    elif form.decision.errors or form.csrf_token.errors or not offered:
        flash_form_errors(form)
    return _render_expense(queries.expense_for(g.membership, expense_id), form, 422)


@bp.get("/<int:expense_id>/receipts/<int:receipt_id>")
@collective_view()
def receipt(expense_id: int, receipt_id: int):
    """A receipt's file, to its expense's submitter and the treasurers only; never cached
    by a shared cache, never sniffed into another type, always a download."""
    item = queries.receipt_for(g.membership, expense_id, receipt_id)
    return stored_file_response(item.storage_key, content_type=item.content_type,
                                filename=item.filename)


@bp.route("/categories", methods=["GET", "POST"])
@collective_view(T)
def category_list():
    """The collective's expense categories and the accounts they are booked to; add one."""
    form = CategoryForm()
    form.account_id.choices = [(a.id, f"{a.code} {a.name}")
                               for a in categories.expense_accounts(g.collective.id)]
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            with committed(form) as done:
                added = categories.add_category(g.membership, name=form.name.data,
                                                account_id=form.account_id.data)
            if done:
                flash(f"The category {added.name!r} is added.", "info")
                return _to("expenses.category_list")
    return render_template("books/expenses/categories.html", form=form, toggle=ConfirmForm(),
                           categories=categories.categories_of(g.collective.id,
                                                               active_only=False)), status


@bp.post("/categories/<int:category_id>/<any(retire,restore):change>")
@collective_view(T)
def change_category(category_id: int, change: str):
    """Retire a category (its expenses stay as they are) or take it back into use."""
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _to("expenses.category_list")
    category = categories.get_category(g.collective.id, category_id)
    with committed() as done:
        categories.set_category_active(g.membership, category, active=change == "restore")
    if done:
        flash(f"The category {category.name!r} is "
              f"{'in use again' if change == 'restore' else 'retired'}.", "info")
    return _to("expenses.category_list")

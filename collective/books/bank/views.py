"""Bank pages for treasurers: bank accounts and fee rules, statement imports, a month's
lines with their suggested matches, and the reconciliation of an account on a day."""
from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from collective.books.bank import matching, queries, services
from collective.books.bank.forms import (
    BankAccountForm,
    ConfirmMatchForm,
    EmptyForm,
    ExplainForm,
    FeeRuleForm,
    ImportForm,
)
from collective.books.bank.importers import CsvMapping
from collective.books.bank.models import FeeRule, StatementFormat
from collective.clock import PeriodError, now_utc, parse_day, parse_period
from collective.errors import DomainError
from collective.extensions import db
from collective.ledger import periods
from collective.ledger.models import Account, AccountType
from collective.ledger.periods import month_end
from collective.roles import Role
from collective.web.scoping import collective_view
from collective.web.transaction import committed

bp = Blueprint("bank", __name__, url_prefix="/c/<slug>/bank")
T = Role.TREASURER


def _accounts_of(kind: AccountType) -> list[tuple[int, str]]:
    rows = db.session.execute(sa.select(Account.id, Account.code, Account.name).where(
        Account.collective_id == g.collective.id, Account.type == kind.value,
        Account.membership_id.is_(None)).order_by(Account.code)).all()
    return [(row.id, f"{row.code} {row.name}") for row in rows]


def _account_forms() -> tuple[BankAccountForm, FeeRuleForm]:
    account_form = BankAccountForm(prefix="account")
    account_form.ledger_account.choices = [
        *_accounts_of(AccountType.ASSET), (0, "A new asset account for this bank account")]
    rule_form = FeeRuleForm(prefix="rule")
    rule_form.expense_account.choices = _accounts_of(AccountType.EXPENSE)
    return account_form, rule_form


def _index(account_form: BankAccountForm, rule_form: FeeRuleForm, status: int = 200):
    accounts = queries.bank_accounts(g.collective.id)
    if request.method == "GET":
        account_form.currency.data = g.collective.base_currency
        if accounts:  # 1000 Bank has its bank account: a second one needs its own
            account_form.ledger_account.data = 0
    return render_template("books/bank/index.html", accounts=accounts,
                           rules=queries.fee_rules(g.collective.id), account_form=account_form,
                           rule_form=rule_form, delete_form=EmptyForm()), status


@bp.get("/")
@collective_view(T)
def index():
    """The collective's bank accounts and fee rules, with the forms that add them."""
    return _index(*_account_forms())


@bp.post("/accounts")
@collective_view(T)
def add_account():
    """Add a bank account."""
    account_form, rule_form = _account_forms()
    if account_form.validate_on_submit():
        with committed(account_form) as done:
            account = services.create_bank_account(
                g.membership, name=account_form.name.data, currency=account_form.currency.data,
                number=account_form.number.data or "",
                ledger_account_id=account_form.ledger_account.data)
        if done:
            flash(f"Bank account \u201c{account.name}\u201d added.", "info")
            return redirect(url_for("bank.import_statement", slug=g.collective.slug,
                                    account_id=account.id))
    return _index(account_form, rule_form, 422)


@bp.post("/fee-rules")
@collective_view(T)
def add_fee_rule():
    """Add a fee rule."""
    account_form, rule_form = _account_forms()
    if rule_form.validate_on_submit():
        with committed(rule_form) as done:
            services.add_fee_rule(g.membership, pattern=rule_form.pattern.data,
                                  expense_account_id=rule_form.expense_account.data)
        if done:
            flash("Fee rule added.", "info")
            return redirect(url_for("bank.index", slug=g.collective.slug))
    return _index(account_form, rule_form, 422)


@bp.post("/fee-rules/<int:rule_id>/delete")
@collective_view(T)
def delete_fee_rule(rule_id: int):
    """Remove a fee rule (the fees it posted stay in the ledger)."""
    rule = db.session.get(FeeRule, rule_id)
    if rule is None or rule.collective_id != g.collective.id:
        abort(404)
    if EmptyForm().validate_on_submit():
        with committed() as done:
            services.delete_fee_rule(g.membership, rule)
        if done:
            flash("Fee rule removed.", "info")
    return redirect(url_for("bank.index", slug=g.collective.slug))


@bp.route("/accounts/<int:account_id>/import", methods=["GET", "POST"])
@collective_view(T)
def import_statement(account_id: int):
    """Upload a statement file; for a CSV, map its columns (kept for the next import)."""
    account = services.get_bank_account(g.collective.id, account_id)
    form = ImportForm()
    if request.method == "GET":
        saved = CsvMapping.from_dict(account.csv_mapping)
        form.show_mapping(saved)
        form.format.data = StatementFormat.CSV.value if saved else StatementFormat.CAMT053.value
    if form.validate_on_submit():
        opening = form.balance(form.opening_balance, account.currency)
        closing = form.balance(form.closing_balance, account.currency)
        is_csv = form.format.data == StatementFormat.CSV.value
        if is_csv and not (form.date_column.data or "").strip():
            form.date_column.errors = [*form.date_column.errors, "name the date column"]
        elif opening is not False and closing is not False:
            upload = form.file.data
            with committed(form, {"date": "date_column", "amount": "amount_column"}) as done:
                result = services.import_statement(
                    g.membership, account, fmt=form.format.data, data=upload.read(),
                    filename=upload.filename or "", mapping=form.mapping() if is_csv else None,
                    opening_balance=opening, closing_balance=closing, today=g.today)
            if done:
                flash(_imported(result), "info")
                month = (result.statement.starts_on if result.statement else g.this_month)
                return redirect(url_for("bank.lines", slug=g.collective.slug,
                                        account_id=account.id, month=f"{month:%Y-%m}"))
    status = 422 if request.method == "POST" else 200
    return render_template("books/bank/import.html", account=account, form=form,
                           statements=queries.statements_of(account)), status


def _imported(result: services.ImportResult) -> str:
    skipped = f" {result.skipped} lines with no amount or not yet booked were left out." \
        if result.skipped else ""
    if not result.new_count:
        return (f"Nothing new: all {result.line_count} lines of this file were imported "
                f"before.{skipped}")
    before = result.line_count - result.new_count
    return (f"{result.new_count} new lines imported"
            f"{f'; {before} were there already' if before else ''}.{skipped}")


def _month_arg() -> date:
    text = request.args.get("month")
    if not text:
        return g.this_month
    try:
        return parse_period(text)
    except PeriodError as exc:
        raise DomainError(str(exc), field="month") from exc


@bp.get("/accounts/<int:account_id>/lines")
@collective_view(T)
def lines(account_id: int):
    """A month's statement lines: suggestions to confirm, lines to explain."""
    account = services.get_bank_account(g.collective.id, account_id)
    month = _month_arg()
    shown = queries.lines_of(account, month, month_end(month))
    # A closed month's lines can be neither matched nor explained: no buttons that fail.
    is_closed = periods.closed_period(g.collective.id, month) is not None
    return render_template(
        "books/bank/lines.html", account=account, month=month, lines=shown,
        is_closed=is_closed,
        suggestions={} if is_closed else matching.suggestions(account, shown),
        confirm_form=ConfirmMatchForm(),
        explain_form=ExplainForm(), undo_form=EmptyForm(),
        previous=(month - timedelta(days=1)).replace(day=1),
        following=month_end(month) + timedelta(days=1))


def _line_and_back(line_id: int):
    line = services.get_line(g.collective.id, line_id)
    back = url_for("bank.lines", slug=g.collective.slug, account_id=line.bank_account_id,
                   month=f"{line.booked_on:%Y-%m}") + f"#line-{line.id}"
    return line, back


@bp.post("/lines/<int:line_id>/confirm")
@collective_view(T)
def confirm(line_id: int):
    """Confirm a suggested match: the line is linked to the entry (a fee posts it first)."""
    line, back = _line_and_back(line_id)
    form = ConfirmMatchForm()
    if form.validate_on_submit():
        with committed() as done:
            entry = matching.confirm_match(g.membership, line, form.matcher.data,
                                           form.target.data, now=now_utc())
        if done:
            flash(f"Line of {line.booked_on:%d %b} matched to entry {entry.id}.", "info")
    else:
        flash("That match could not be read; choose it again.", "error")
    return redirect(back)


@bp.post("/lines/<int:line_id>/explain")
@collective_view(T)
def explain(line_id: int):
    """Explain a line that needs no entry, with a note."""
    line, back = _line_and_back(line_id)
    form = ExplainForm()
    if form.validate_on_submit():
        with committed() as done:
            services.explain_line(g.membership, line, form.note.data, now=now_utc())
        if done:
            flash(f"Line of {line.booked_on:%d %b} explained.", "info")
    else:
        flash("Say why the line needs no entry (at most 400 characters).", "error")
    return redirect(back)


@bp.post("/lines/<int:line_id>/reopen")
@collective_view(T)
def reopen_line(line_id: int):
    """Undo a line's match or explanation (an entry a fee posted stays in the ledger)."""
    line, back = _line_and_back(line_id)
    if EmptyForm().validate_on_submit():
        with committed() as done:
            services.reopen_line(g.membership, line)
        if done:
            flash(f"Line of {line.booked_on:%d %b} is open again.", "info")
    return redirect(back)


@bp.get("/accounts/<int:account_id>/reconciliation")
@collective_view(T)
def reconciliation(account_id: int):
    """The statement balance against the ledger's on a day (a month's end by default), and
    the difference explained line by line."""
    account = services.get_bank_account(g.collective.id, account_id)
    month = _month_arg()
    on = min(month_end(month), g.today)
    if request.args.get("on"):
        try:
            on = parse_day(request.args["on"])
        except ValueError as exc:
            raise DomainError(str(exc), field="on") from exc
        month = on.replace(day=1)
    return render_template("books/bank/reconciliation.html", account=account, month=month,
                           result=queries.reconciliation(account, on),
                           problems=_problems(month), on=on)


def _problems(month: date) -> list[str]:
    from collective.books.bank.queries import month_problems

    if month_end(month) >= g.today:
        return ["the month has not ended yet"]
    return month_problems(g.collective.id, month, month_end(month))

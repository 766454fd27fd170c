"""Ledger pages for treasurers: journal, entry detail, reversal, trial balance, full check."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from collective.clock import PeriodError, parse_period
from collective.ledger import balances, periods, services
from collective.ledger.forms import (
    AsOfForm,
    CheckLedgerForm,
    CloseMonthForm,
    CloseYearForm,
    ReopenMonthForm,
    ReverseForm,
)
from collective.roles import Role
from collective.web.forms import ascii_int, valid_id
from collective.web.paging import page_number
from collective.web.scoping import collective_view
from collective.web.transaction import committed

bp = Blueprint("ledger", __name__, url_prefix="/c/<slug>/ledger")
PAGE_SIZE = 50
#: Accounts a page of the trial balance shows.
TRIAL_PAGE = 100


@bp.get("/")
@collective_view(Role.TREASURER)
def journal():
    """The collective's journal entries, newest first, with a check of the ones shown."""
    before = request.args.get("before", type=ascii_int)
    if not valid_id(before):
        before = None
    entries = balances.recent_entries(g.collective.id, limit=PAGE_SIZE + 1, before_id=before)
    shown, more = entries[:PAGE_SIZE], len(entries) > PAGE_SIZE
    return render_template("ledger/journal.html", entries=shown, more=more,
                           check=balances.check_entries(g.collective.id,
                                                        [e.id for e in shown]))


@bp.route("/check", methods=["GET", "POST"])
@collective_view(Role.TREASURER)
def check():
    """Check every entry of the collective's ledger, then the checks other packages
    registered, as `flask ledger check` does: it reads the whole ledger, so it runs on an
    explicit "check now" (a POST that writes nothing), never on a page view."""
    form = CheckLedgerForm()
    if not form.validate_on_submit():
        return render_template("ledger/check.html", form=form, check=None, extra=None)
    return render_template("ledger/check.html", form=form,
                           check=balances.check_ledger(g.collective.id),
                           extra=balances.run_extra_checks(g.collective.id))


@bp.route("/entries/<int:entry_id>", methods=["GET", "POST"])
@collective_view(Role.TREASURER)
def entry(entry_id: int):
    """One entry with its postings; a treasurer can reverse it."""
    journal_entry = balances.get_entry(g.collective.id, entry_id)  # NotFound: a 404
    form = ReverseForm()
    if form.validate_on_submit():
        with committed(form) as done:
            reversal = services.reverse_entry(journal_entry, memo=form.memo.data or None,
                                              today=g.today, created_by_id=current_user.id)
        if done:
            flash(f"Entry {journal_entry.id} is reversed by entry {reversal.id}.", "info")
            return redirect(url_for("ledger.entry", slug=g.collective.slug, entry_id=reversal.id))
    status = 422 if request.method == "POST" else 200  # here a POST has failed
    return render_template("ledger/entry.html", entry=journal_entry, form=form,
                           refusal=services.reversal_refusal(journal_entry),
                           reversal_on=services.reversal_day(journal_entry, g.today)), status


@bp.get("/trial-balance")
@collective_view(Role.TREASURER)
def trial_balance():
    """Debits and credits of every account, as of a date; TRIAL_PAGE accounts a page (a
    member's payable is an account each), totals over all of them, in one statement."""
    form = AsOfForm(request.args)
    as_of = form.as_of.data if form.validate() else None
    page = page_number()
    found = balances.trial_balance_page(g.collective.id, as_of,
                                        offset=(page - 1) * TRIAL_PAGE, limit=TRIAL_PAGE)
    return render_template("ledger/trial_balance.html", form=form, rows=found.rows,
                           as_of=as_of, totals=found.totals, page=page,
                           more=found.lines > page * TRIAL_PAGE, accounts=found.lines)


def _year_arg() -> int:
    year = request.args.get("year", type=ascii_int)
    return year if year and 2000 <= year <= 2200 else g.today.year


def _periods_page(year: int, status: int = 200, reopen: ReopenMonthForm | None = None,
                  close_year: CloseYearForm | None = None):
    return render_template(
        "ledger/periods.html", year=year,
        months=periods.period_states(g.collective.id, year, g.today),
        events=periods.period_events(g.collective.id), close_form=CloseMonthForm(),
        reopen_form=reopen or ReopenMonthForm(), year_form=close_year or CloseYearForm(),
        closing=services.find_entry(g.collective.id, periods.closing_key(year)),
        year_over=date(year, 12, 31) < g.today), status


@bp.get("/periods")
@collective_view(Role.TREASURER)
def periods_page():
    """Each month of a year: open, reconciled or closed; close, reopen, close the year."""
    return _periods_page(_year_arg())


def _month(period: str) -> date:
    try:
        return parse_period(period)
    except PeriodError:
        abort(404)


@bp.post("/periods/<period>/close")
@collective_view(Role.TREASURER)
def close_month(period: str):
    """Close a reconciled month."""
    month = _month(period)
    if CloseMonthForm().validate_on_submit():
        with committed() as done:
            periods.close_month(g.membership, g.collective.id, month, today=g.today)
        if done:
            flash(f"{month:%B %Y} is closed: no entry may be dated in it now.", "info")
    return redirect(url_for("ledger.periods_page", slug=g.collective.slug, year=month.year))


@bp.post("/periods/<period>/reopen")
@collective_view(Role.TREASURER)
def reopen_month(period: str):
    """Reopen a closed month, with a reason."""
    month = _month(period)
    form = ReopenMonthForm()
    if form.validate_on_submit():
        with committed(form) as done:
            periods.reopen_month(g.membership, g.collective.id, month, reason=form.reason.data)
        if done:
            flash(f"{month:%B %Y} is open again.", "info")
            return redirect(url_for("ledger.periods_page", slug=g.collective.slug,
                                    year=month.year))
    form.reopening = month
    return _periods_page(month.year, 422, reopen=form)


@bp.post("/periods/<int:year>/close-year")
@collective_view(Role.TREASURER)
def close_year(year: int):
    """The year-end close: one closing entry to the common fund, every month closed."""
    if not 2000 <= year <= 2200:
        abort(404)
    form = CloseYearForm()
    if form.validate_on_submit():
        with committed(form, {"year": "confirm"}) as done:
            entry = periods.close_year(g.collective.id, year, actor=g.membership,
                                       today=g.today, force=form.force.data,
                                       reason=form.reason.data or "")
        if done:
            flash(f"{year} is closed: its result is in the common fund (entry {entry.id}).",
                  "info")
            return redirect(url_for("ledger.periods_page", slug=g.collective.slug, year=year))
    return _periods_page(year, 422, close_year=form)

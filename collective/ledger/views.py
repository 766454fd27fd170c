"""Ledger pages for treasurers: journal, entry detail, reversal, trial balance, full check."""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from collective.ledger import balances, services
from collective.ledger.forms import AsOfForm, ReverseForm
from collective.roles import Role
from collective.web.forms import ascii_int, valid_id
from collective.web.scoping import collective_view
from collective.web.transaction import committed

bp = Blueprint("ledger", __name__, url_prefix="/c/<slug>/ledger")
PAGE_SIZE = 50


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


@bp.get("/check")
@collective_view(Role.TREASURER)
def check():
    """Check every entry of the collective's ledger, then the checks other packages
    registered, as `flask ledger check` does, on request (it reads the whole ledger)."""
    return render_template("ledger/check.html", check=balances.check_ledger(g.collective.id),
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
                                              created_by_id=current_user.id)
        if done:
            flash(f"Entry {journal_entry.id} is reversed by entry {reversal.id}.", "info")
            return redirect(url_for("ledger.entry", slug=g.collective.slug, entry_id=reversal.id))
    status = 422 if request.method == "POST" else 200  # here a POST has failed
    return render_template("ledger/entry.html", entry=journal_entry, form=form,
                           refusal=services.reversal_refusal(journal_entry)), status


@bp.get("/trial-balance")
@collective_view(Role.TREASURER)
def trial_balance():
    """Debits and credits of every account, as of a date."""
    form = AsOfForm(request.args)
    as_of = form.as_of.data if form.validate() else None
    rows = balances.trial_balance(g.collective.id, as_of)
    return render_template("ledger/trial_balance.html", form=form, rows=rows, as_of=as_of,
                           totals=balances.trial_balance_totals(rows))

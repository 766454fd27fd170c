"""Ledger pages for treasurers: journal, entry detail, reversal, trial balance."""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from collective.errors import DomainError
from collective.extensions import db
from collective.ledger import services
from collective.ledger.forms import AsOfForm, ReverseForm
from collective.members.models import Role
from collective.web import collective_view, show_domain_error, valid_id

bp = Blueprint("ledger", __name__, url_prefix="/c/<slug>/ledger")
PAGE_SIZE = 50
#: Entries a scheduled fund run wrote: its run lines (owed months, reserves, paid claim
#: months) describe them too, so reversing one here alone would leave those out of step.
RUN_KINDS = frozenset({"contribution", "benefit", "contribution-return"})


@bp.get("/")
@collective_view(Role.TREASURER)
def journal():
    """The collective's journal entries, newest first."""
    before = request.args.get("before", type=int)
    if not valid_id(before):
        before = None
    entries = services.recent_entries(g.collective.id, limit=PAGE_SIZE + 1, before_id=before)
    more = len(entries) > PAGE_SIZE
    return render_template("ledger/journal.html", entries=entries[:PAGE_SIZE], more=more,
                           check=services.check_ledger(g.collective.id))


@bp.route("/entries/<int:entry_id>", methods=["GET", "POST"])
@collective_view(Role.TREASURER)
def entry(entry_id: int):
    """One entry with its postings; a treasurer can reverse it."""
    try:
        journal_entry = services.get_entry(g.collective.id, entry_id)
    except DomainError:
        abort(404)
    form = ReverseForm()
    if form.validate_on_submit():
        if journal_entry.kind in RUN_KINDS:
            flash("This entry belongs to a fund run and cannot be reversed on its own; "
                  "correct it with a deposit or a claim instead.", "error")
            return redirect(url_for("ledger.entry", slug=g.collective.slug, entry_id=entry_id))
        try:
            reversal = services.reverse_entry(journal_entry, memo=form.memo.data or None,
                                              created_by_id=current_user.id)
        except DomainError as exc:
            db.session.rollback()
            show_domain_error(form, exc)
        else:
            db.session.commit()
            flash(f"Entry {journal_entry.id} is reversed by entry {reversal.id}.", "info")
            return redirect(url_for("ledger.entry", slug=g.collective.slug, entry_id=reversal.id))
    return render_template("ledger/entry.html", entry=journal_entry, form=form,
                           reversible=journal_entry.kind not in RUN_KINDS)


@bp.get("/trial-balance")
@collective_view(Role.TREASURER)
def trial_balance():
    """Debits and credits of every account, as of a date."""
    form = AsOfForm(request.args)
    as_of = form.as_of.data if form.validate() else None
    rows = services.trial_balance(g.collective.id, as_of)
    return render_template("ledger/trial_balance.html", form=form, rows=rows, as_of=as_of,
                           totals=services.trial_balance_totals(rows))

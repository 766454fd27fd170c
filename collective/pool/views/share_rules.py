"""Pages of the share rules: the rule in force and its history, the founding rule, and
proposals to change it with a preview of their effect."""
from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, g, redirect, render_template, request, url_for

from collective.clock import now_utc
from collective.members.models import Proposal
from collective.members.proposals import proposals_of
from collective.members.terms_pages import found_from_form
from collective.pool import rules as share_rules
from collective.pool.forms import ProposeRuleForm, RuleForm
from collective.pool.views.base import FIELD_ALIASES, bp
from collective.web.forms import percent_to_bp
from collective.web.scoping import collective_view
from collective.web.transaction import checked, committed

#: Proposals to change the rule, and versions of it, that its page lists, the latest first.
PROPOSALS_SHOWN = 10
VERSIONS_SHOWN = 24


def _percentages(form: RuleForm) -> tuple[int, int] | None:
    """The form's common fund and finder's fee in basis points; None after a field error."""
    fund, finder = percent_to_bp(form.common_fund), percent_to_bp(form.finder_fee)
    return None if fund is None or finder is None else (fund, finder)


def _terms(form: RuleForm):
    """The form's checked rule, or None after a field error (a DomainError names its field)."""
    percentages = _percentages(form)
    return None if percentages is None else share_rules.terms_from(*percentages,
                                                                    form.method.data)


@bp.route("/rules", methods=["GET", "POST"])
@collective_view()
def rules():
    """The share rule in force, its history, and the latest PROPOSALS_SHOWN proposals to
    change it (the proposals page lists them all)."""
    founding = RuleForm(prefix="found")
    status = 200
    if request.method == "GET":
        founding.effective_on.data = g.today
    if request.method == "POST":
        status = 422
        if found_from_form(share_rules.SHARE_RULES, founding,
                           lambda: _terms(founding), FIELD_ALIASES):
            return redirect(url_for("pool.rules", slug=g.collective.slug))
    return render_template("pool/rules.html",
                           rules=share_rules.rules_of(g.collective.id, limit=VERSIONS_SHOWN + 1),
                           VERSIONS_SHOWN=VERSIONS_SHOWN,
                           in_force=share_rules.rule_in_force(g.collective.id, g.today),
                           proposals=proposals_of(g.collective.id, share_rules.SHARE_RULE,
                                                  limit=PROPOSALS_SHOWN + 1),
                           PROPOSALS_SHOWN=PROPOSALS_SHOWN,
                           founding=founding, now=now_utc(),
                           may_propose=share_rules.may_propose_rule(g.membership)), status


@bp.route("/rules/propose", methods=["GET", "POST"])
@collective_view()
def propose_rule():
    """Propose a new share rule to the members' vote, with a preview of its effect (who
    may propose is the collective's setting, which the service applies)."""
    if not share_rules.may_propose_rule(g.membership):
        abort(403)
    form = ProposeRuleForm()
    status = 200
    preview = None
    if request.method == "GET":
        current = share_rules.rule_in_force(g.collective.id, g.today)
        form.effective_on.data = (g.this_month + timedelta(days=32)).replace(day=1)
        form.deadline_days.data = g.collective.proposal_days
        if current:
            form.common_fund.data = current.common_fund_bp / 100
            form.finder_fee.data = current.finder_fee_bp / 100
            form.method.data = current.method
    if request.method == "POST":
        status = 422
        percentages = _percentages(form) if form.validate_on_submit() else None
        previewing = "preview" in request.form
        if percentages is not None:
            # A preview only reads: its block is checked, never committed.
            with (checked if previewing else committed)(form, FIELD_ALIASES) as done:
                terms = share_rules.terms_from(*percentages, form.method.data)
                if previewing:
                    preview = share_rules.preview_rule(g.collective.id, terms, g.today)
                else:
                    now = now_utc()
                    proposal = share_rules.propose_share_rule(
                        g.membership, terms, effective_on=form.effective_on.data,
                        title=form.title.data or "", description=form.description.data or "",
                        deadline_at=now + timedelta(days=form.deadline_days.data),
                        today=g.today, now=now)
            if done and previewing:
                status = 200
            elif done:
                flash("The proposal is open for votes.", "info")
                return redirect(url_for("members.proposal", slug=g.collective.slug,
                                        proposal_id=proposal.id))
    return render_template("pool/propose_rule.html", form=form,
                           preview=None if preview is None else preview.to_dict("records")
                           ), status


def share_rule_details(proposal: Proposal) -> tuple[str, dict]:
    """What the proposal page shows for a share rule: the terms and the 90-day preview."""
    terms = share_rules.proposal_terms(proposal)
    preview = share_rules.preview_rule(proposal.collective_id, terms, g.today)
    return "pool/_share_rule_proposal.html", {
        "terms": terms, "preview": preview.to_dict("records"),
        "effective_on": proposal.payload.get("effective_on")}

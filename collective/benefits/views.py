"""Pages of the benefits fund: my fund, claims, the plan, and the treasurer's dashboard."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from collective.benefits import services
from collective.benefits.compute import MONTHLY_KINDS, PlanTerms, add_months, month_start
from collective.benefits.forms import (
    ClaimForm,
    DecideForm,
    DepositForm,
    LevelForm,
    PlanForm,
    ProposePlanForm,
    RunNowForm,
)
from collective.benefits.models import ClaimStatus, RunKind
from collective.errors import DomainError
from collective.extensions import db, utcnow
from collective.members import services as members
from collective.members.models import Role
from collective.members.proposals import register_proposal_details
from collective.money import MoneyError, format_money, parse_amount
from collective.pool.payouts import record_deposit
from collective.web.forms import show_domain_error
from collective.web.scoping import collective_view

bp = Blueprint("fund", __name__, url_prefix="/c/<slug>/fund")
T = Role.TREASURER


def _fail(form, exc: DomainError) -> None:
    db.session.rollback()
    show_domain_error(form, exc)


def _money(field, required: bool = False) -> int | None:
    """A money field in the base currency; None (with a field error) when it is bad."""
    if not (field.data or "").strip():
        if required:
            field.errors = [*field.errors, "enter an amount"]
        return 0 if not required else None
    try:
        return parse_amount(field.data, g.collective.base_currency)
    except MoneyError as exc:
        field.errors = [*field.errors, str(exc)]
        return None


@bp.get("/")
@collective_view()
def my_fund():
    """Your level, contributions, benefits received, reserve, and claims."""
    today = date.today()
    plan = services.plan_in_force(g.collective.id, month_start(today))
    terms = services.plan_terms(plan) if plan else None
    form = LevelForm()
    if terms and terms.levels:
        cur = g.collective.base_currency
        form.level.choices = [(b, f"{format_money(b, cur)} a month, costs "
                                  f"{format_money(c, cur)}") for b, c in terms.levels]
    mine = services.member_fund(g.membership, today)
    if mine:
        form.level.data = mine.level
    return render_template("fund/member.html", plan=plan, terms=terms, mine=mine, form=form,
                           claims=services.claims_of(g.collective.id, g.membership.id),
                           next_month=add_months(month_start(today), 1))


@bp.post("/level")
@collective_view()
def choose_level():
    """Choose your monthly benefit level, from next month."""
    plan = services.plan_in_force(g.collective.id, add_months(month_start(date.today()), 1))
    form = LevelForm()
    form.level.choices = ([(b, str(b)) for b, _ in services.plan_terms(plan).levels]
                          if plan else [])
    if form.validate_on_submit():
        try:
            level = services.choose_level(g.membership, form.level.data)
        except DomainError as exc:
            _fail(None, exc)
        else:
            db.session.commit()
            flash(f"Your level is "
                  f"{format_money(level.benefit_amount, g.collective.base_currency)} a month from "
                  f"{level.from_period:%B %Y}.", "info")
    else:
        flash("Choose one of the plan's levels.", "error")
    return redirect(url_for("fund.my_fund", slug=g.collective.slug))


@bp.route("/claims/new", methods=["GET", "POST"])
@collective_view()
def new_claim():
    """File a claim: sick leave, parental leave, an unpaid invoice, or hardship."""
    form = ClaimForm()
    status = 200
    if request.method == "GET":
        form.start_period.data = month_start(date.today())
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            amount, invoice = _money(form.amount), _money(form.invoice_amount)
            if amount is not None and invoice is not None:
                try:
                    claim = services.file_claim(
                        g.membership, kind=form.kind.data, start_period=form.start_period.data,
                        months=form.months.data or 1, amount=amount, invoice_amount=invoice,
                        note=form.note.data or "")
                except DomainError as exc:
                    _fail(form, exc)
                else:
                    db.session.commit()
                    flash("Your claim is filed. You will see every change to it here.", "info")
                    return redirect(url_for("fund.claim", slug=g.collective.slug,
                                            claim_id=claim.id))
    return render_template("fund/claim_new.html", form=form,
                           plan=services.plan_in_force(g.collective.id,
                                                       month_start(date.today()))), status


def _claim_for_viewer(claim_id: int):
    """The claim, if the viewer filed it or is a treasurer; 404 otherwise (claims are
    private: they can be about someone's health)."""
    try:
        claim = services.get_claim(g.collective.id, claim_id)
    except DomainError:
        abort(404)
    if claim.membership_id != g.membership.id and not g.membership.has_role(T):
        abort(404)
    return claim


@bp.get("/claims/<int:claim_id>")
@collective_view()
def claim(claim_id: int):
    """A claim with its history; treasurers decide it here."""
    item = _claim_for_viewer(claim_id)
    return _render_claim(item, DecideForm())


def _render_claim(item, form, status: int = 200):
    lines = services.run_lines_frame(g.collective.id, ("benefit",))
    paid = lines[lines["claim_id"] == item.id].to_dict("records")
    return render_template("fund/claim.html", claim=item, form=form, paid=paid,
                           monthly=item.kind in MONTHLY_KINDS), status


@bp.post("/claims/<int:claim_id>/decide")
@collective_view(T)
def decide(claim_id: int):
    """Approve or reject a claim, with a reason."""
    item = _claim_for_viewer(claim_id)
    form = DecideForm()
    if form.validate_on_submit():
        try:
            services.decide_claim(g.membership, item, approve=form.decision.data == "approve",
                                  reason=form.reason.data)
        except DomainError as exc:
            _fail(form, exc)
        else:
            db.session.commit()
            flash(f"The claim is {item.status}.", "info")
            return redirect(url_for("fund.claim", slug=g.collective.slug, claim_id=item.id))
    return _render_claim(_claim_for_viewer(claim_id), form, 422)


@bp.post("/claims/<int:claim_id>/withdraw")
@collective_view()
def withdraw(claim_id: int):
    """Take back your pending claim."""
    item = _claim_for_viewer(claim_id)
    form = RunNowForm(meta={"csrf": True})
    if form.is_submitted():
        try:
            services.withdraw_claim(g.membership, item)
        except DomainError as exc:
            _fail(None, exc)
        else:
            db.session.commit()
            flash("Your claim is withdrawn.", "info")
    return redirect(url_for("fund.claim", slug=g.collective.slug, claim_id=item.id))


@bp.get("/claims")
@collective_view(T)
def claims():
    """Every claim, pending ones first."""
    everything = services.claims_of(g.collective.id)
    pending = [c for c in everything if c.status == ClaimStatus.PENDING]
    return render_template("fund/claims.html", pending=pending,
                           decided=[c for c in everything if c.status != ClaimStatus.PENDING])


def plan_from_form(form: PlanForm) -> PlanTerms | None:
    """Plan terms from the form, or None after putting errors on its fields."""
    money = {name: _money(getattr(form, name)) for name in (
        "earnings_min", "earnings_max", "flat_amount", "sick_amount", "invoice_cap",
        "hardship_cap", "min_fund_balance")}
    if any(v is None for v in money.values()):
        return None
    kind = form.contribution_kind.data
    contribution: dict = {"kind": kind}
    if kind == "levels":
        levels = []
        for raw in (form.levels.data or "").split(","):
            if not raw.strip():
                continue
            try:
                levels.append(parse_amount(raw, g.collective.base_currency))
            except MoneyError as exc:
                form.levels.errors = [*form.levels.errors, str(exc)]
                return None
        pct = form.level_pct.data or Decimal(0)
        contribution["levels"] = [{"benefit": b, "contribution": int(b * pct / 100)}
                                  for b in levels]
    elif kind == "earnings_pct":
        contribution.update(bp=int((form.earnings_pct.data or 0) * 100),
                            min=money["earnings_min"], max=money["earnings_max"])
    else:
        contribution["amount"] = money["flat_amount"]
    sick_amount = money["sick_amount"] or "level"
    benefits: dict = {"sick": {"amount": sick_amount, "waiting_months": form.sick_waiting.data,
                               "max_months": form.sick_max.data}}
    if form.parental_months.data:
        benefits["parental"] = {"amount": sick_amount, "waiting_months": 0,
                                "max_months": form.parental_months.data}
    if form.invoice_pct.data and money["invoice_cap"]:
        benefits["unpaid_invoice"] = {"amount": money["invoice_cap"], "per_year": 1,
                                      "invoice_bp": int(form.invoice_pct.data * 100)}
    if money["hardship_cap"]:
        benefits["hardship"] = {"amount": money["hardship_cap"], "per_year": 1,
                                "approval": "vote" if form.hardship_vote.data else "treasurer"}
    data = {"contribution": contribution, "benefits": benefits,
            "reserve_cap_months": form.reserve_cap_months.data,
            "min_fund_balance": money["min_fund_balance"],
            "level_change_months": form.level_change_months.data,
            "eligibility_months": form.eligibility_months.data}
    try:
        return services.check_terms(data)
    except DomainError as exc:
        target = {"contribution": "contribution_kind", "levels": "levels",
                  "benefits": "sick_max"}.get(exc.field or "", "contribution_kind")
        getattr(form, target).errors = [*getattr(form, target).errors, exc.message]
        return None


@bp.route("/plan", methods=["GET", "POST"])
@collective_view()
def plan():
    """The plan in force, its history, and (for a new fund) the founding plan."""
    form = PlanForm(prefix="found")
    status = 200
    if request.method == "GET":
        form.effective_on.data = month_start(date.today())
    if request.method == "POST":
        if not g.membership.has_role(T):
            abort(403)
        status = 422
        if form.validate_on_submit():
            terms = plan_from_form(form)
            if terms is not None:
                try:
                    services.set_founding_plan(g.membership, terms, form.effective_on.data)
                except DomainError as exc:
                    _fail(form, exc)
                else:
                    db.session.commit()
                    flash("The fund's founding plan is set.", "info")
                    return redirect(url_for("fund.plan", slug=g.collective.slug))
    current = services.plan_in_force(g.collective.id, month_start(date.today()))
    return render_template("fund/plan.html", form=form, current=current,
                           terms=services.plan_terms(current) if current else None,
                           plans=services.plans_of(g.collective.id)), status


@bp.route("/plan/propose", methods=["GET", "POST"])
@collective_view(T)
def propose_plan():
    """Propose a new plan to the members' vote."""
    form = ProposePlanForm()
    status = 200
    if request.method == "GET":
        form.effective_on.data = add_months(month_start(date.today()), 1)
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            terms = plan_from_form(form)
            if terms is not None:
                try:
                    proposal = services.propose_plan(
                        g.membership, terms, effective_on=form.effective_on.data,
                        title=form.title.data or "", description=form.description.data or "",
                        deadline_at=utcnow() + timedelta(days=form.deadline_days.data))
                except DomainError as exc:
                    _fail(form, exc)
                else:
                    db.session.commit()
                    flash("The plan is open for votes.", "info")
                    return redirect(url_for("members.proposal", slug=g.collective.slug,
                                            proposal_id=proposal.id))
    return render_template("fund/propose_plan.html", form=form), status


@bp.get("/treasurer")
@collective_view(T)
def treasurer():
    """The fund at a glance: balance over time, in and out per month, who owes, the runs,
    and how long the fund would last."""
    today = date.today()
    due = services.due_periods(g.collective.id, today)
    members_list = [m for m in members.directory(g.collective.id)]
    deposit = DepositForm(prefix="dep")
    deposit.membership_id.choices = [(m.id, m.user.name) for m in members_list]
    deposit.received_on.data = today
    return render_template(
        "fund/treasurer.html", balance=services.fund_balance(g.collective.id),
        months=services.fund_months(g.collective.id).to_dict("records"),
        owing=services.owing(g.collective.id).to_dict("records"),
        runs=services.runs_of(g.collective.id), due=due, run_form=RunNowForm(),
        forecast=services.forecast(g.collective.id), deposit=deposit,
        pending=len(services.claims_of(g.collective.id, status=ClaimStatus.PENDING)))


@bp.post("/runs")
@collective_view(T)
def run_now():
    """Run a due contribution or payout run now (it posts once, however often it is asked)."""
    form = RunNowForm()
    if form.validate_on_submit():
        try:
            kind = RunKind(form.kind.data)
            period = date.fromisoformat(form.period.data)
        except ValueError:
            abort(400)
        if (kind, period) not in services.due_periods(g.collective.id, date.today()):
            flash("That run is not due (it is done, or its month has not ended).", "error")
        else:
            result = services.run(g.collective.id, kind, period,
                                  triggered_by=g.membership.user.email)
            db.session.commit()
            flash(f"The {kind.value} run for {period:%B %Y} is done: {result.entries} "
                  "entries.", "info")
    return redirect(url_for("fund.treasurer", slug=g.collective.slug))


@bp.post("/deposits")
@collective_view(T)
def deposit():
    """Record money a member paid in themselves (to cover contributions)."""
    form = DepositForm(prefix="dep")
    form.membership_id.choices = [(m.id, m.user.name)
                                  for m in members.directory(g.collective.id)]
    if form.validate_on_submit():
        amount = _money(form.amount, required=True)
        if amount:
            try:
                member = members.get_membership(g.collective.id, form.membership_id.data)
                record_deposit(g.membership, member, amount=amount,
                               received_on=form.received_on.data,
                               request_key=form.request_key.data,
                               reference=form.reference.data or "", today=g.today)
            except DomainError as exc:
                _fail(None, exc)
            else:
                db.session.commit()
                flash("The deposit is recorded.", "info")
                return redirect(url_for("fund.treasurer", slug=g.collective.slug))
    for errors in form.errors.values():
        for error in errors:
            flash(str(error), "error")
    return redirect(url_for("fund.treasurer", slug=g.collective.slug))


def plan_details(proposal) -> tuple[str, dict]:
    """What the proposal page shows for a plan."""
    return "fund/_plan_proposal.html", {
        "plan_terms": PlanTerms.from_json(proposal.payload["terms"]),
        "effective_on": proposal.payload["effective_on"]}


def claim_details(proposal) -> tuple[str, dict]:
    """What the proposal page shows for a claim decided by vote."""
    item = services.get_claim(proposal.collective_id, proposal.payload["claim_id"])
    return "fund/_claim_proposal.html", {"claim": item}


register_proposal_details(services.BENEFIT_PLAN, plan_details)
register_proposal_details(services.BENEFIT_CLAIM, claim_details)

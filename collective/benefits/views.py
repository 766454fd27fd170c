"""Pages of the benefits fund: my fund, claims, the plan, and the treasurer's dashboard.

Every change goes through `committed` (collective.web.transaction); "today" is g.today, the
collective's own date.
"""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_wtf import FlaskForm

from collective.benefits import claims as claim_services
from collective.benefits import plans, queries, recovery, run_failures, runs
from collective.benefits.compute import MONTHLY_KINDS, add_months
from collective.benefits.forms import (
    ClaimForm,
    DecideForm,
    DepositForm,
    EndClaimForm,
    LevelForm,
    PlanForm,
    ProposePlanForm,
    RunNowForm,
    amount_or_zero,
)
from collective.benefits.models import ClaimStatus, RunKind
from collective.clock import now_utc, parse_day
from collective.members import pickers
from collective.members import services as members
from collective.members.forms import ConfirmForm
from collective.members.models import Role
from collective.members.terms_pages import found_from_form
from collective.money import format_money
from collective.pool.payouts import record_deposit
from collective.pool.queries import member_names
from collective.web.paging import page_number
from collective.web.scoping import collective_view
from collective.web.transaction import checked, committed

bp = Blueprint("fund", __name__, url_prefix="/c/<slug>/fund")
T = Role.TREASURER
#: The members owing the most that the treasurer's page lists by name.
OWING_SHOWN = 20
#: Versions of the plan its page lists, the latest first (their votes list the rest).
VERSIONS_SHOWN = 24
#: Claims a page lists (the treasurers' list, and a member's own on their fund page).
CLAIMS_PAGE = 50
#: The lines of a run under review the page lists (the totals are over every line).
REVIEW_LINES = 100


def _to(endpoint: str, **values):
    """A redirect to one of this collective's pages."""
    return redirect(url_for(endpoint, slug=g.collective.slug, **values))


def _flash_errors(form: FlaskForm, what: str = "") -> None:
    """Flash a form's errors, for a form posted from a page the view redirects back to;
    with `what`, each says what failed and names its field (for hidden fields)."""
    for name, errors in form.errors.items():
        for error in errors:
            if what:
                label = form[name].label.text.lower() if name in form else "form"
                flash(f"{what} ({label}: {error})", "error")
            else:
                flash(str(error), "error")


@bp.get("/")
@collective_view()
def my_fund():
    """Your level, contributions, benefits received, reserve, and claims."""
    return _render_my_fund(LevelForm())


def _render_my_fund(form: LevelForm, status: int = 200, *, refused: bool = False):
    """The member's fund page; a `refused` level form keeps the level that was chosen."""
    plan = plans.plan_in_force(g.collective.id, g.this_month)
    terms = plans.plan_terms(plan) if plan else None
    if terms and terms.levels:
        cur = g.collective.base_currency
        form.level.choices = [(b, f"{format_money(b, cur)} a month, costs "
                                  f"{format_money(c, cur)}") for b, c in terms.levels]
    mine = queries.member_fund(g.membership, g.today)
    if mine and not refused:
        form.level.data = mine.level
    page = page_number()
    claims = claim_services.claims_of(g.collective.id, g.membership.id, limit=CLAIMS_PAGE + 1,
                                      offset=(page - 1) * CLAIMS_PAGE)
    return render_template("fund/member.html", plan=plan, terms=terms, mine=mine, form=form,
                           claims=claims[:CLAIMS_PAGE], page=page,
                           more=len(claims) > CLAIMS_PAGE,
                           next_month=add_months(g.this_month, 1)), status


@bp.post("/level")
@collective_view()
def choose_level():
    """Choose your monthly benefit level, from next month."""
    plan = plans.plan_in_force(g.collective.id, add_months(g.this_month, 1))
    form = LevelForm()
    form.level.choices = ([(b, str(b)) for b, _ in plans.plan_terms(plan).levels]
                          if plan else [])
    if form.validate_on_submit():
        with committed(form) as done:
            level = plans.choose_level(g.membership, form.level.data, today=g.today)
        if done:
            flash(f"Your level is "
                  f"{format_money(level.benefit_amount, g.collective.base_currency)} a month from "
                  f"{level.from_period:%B %Y}.", "info")
            return _to("fund.my_fund")
    # The page again, with the level as chosen and the refusal beside it.
    return _render_my_fund(form, 422, refused=True)


@bp.route("/claims/new", methods=["GET", "POST"])
@collective_view()
def new_claim():
    """File a claim: sick leave, parental leave, an unpaid invoice, or hardship."""
    form = ClaimForm()
    status = 200
    plan = plans.plan_in_force(g.collective.id, g.this_month)
    if request.method == "GET":
        form.start_period.data = g.this_month
        if plan is not None:
            form.default_to(plans.plan_terms(plan))
    if request.method == "POST":
        status = 422
        cur = g.collective.base_currency
        if form.validate_on_submit():
            amount = amount_or_zero(form.amount, cur)
            invoice = amount_or_zero(form.invoice_amount, cur)
            if amount is not None and invoice is not None:
                with committed(form) as done:
                    claim = claim_services.file_claim(
                        g.membership, kind=form.kind.data, start_period=form.start_period.data,
                        months=form.months.data or 1, amount=amount, invoice_amount=invoice,
                        note=form.note.data or "", today=g.today, now=now_utc())
                if done:
                    flash("Your claim is filed. You will see every change to it here.", "info")
                    return _to("fund.claim", claim_id=claim.id)
    return render_template("fund/claim_new.html", form=form, plan=plan), status


def _claim_for_viewer(claim_id: int):
    """The claim, if the viewer filed it or is a treasurer; 404 otherwise (claims are
    private: they can be about someone's health). A claim of another collective is NotFound,
    which the error pages show as a 404."""
    claim = claim_services.get_claim(g.collective.id, claim_id)
    if claim.membership_id != g.membership.id and not g.membership.has_role(T):
        abort(404)
    return claim


@bp.get("/claims/<int:claim_id>")
@collective_view()
def claim(claim_id: int):
    """A claim with its history; treasurers decide it here."""
    item = _claim_for_viewer(claim_id)
    return _render_claim(item, DecideForm())


def _decision_offered(item) -> bool:
    """Whether the claim page shows the viewer the form to decide the claim."""
    return (item.status == ClaimStatus.PENDING and g.membership.has_role(T)
            and item.membership_id != g.membership.id and not item.proposal_id)


def _render_claim(item, form, status: int = 200, end_form: EndClaimForm | None = None):
    if end_form is None:
        end_form = EndClaimForm()
        end_form.recovered_on.data = g.today
    return render_template("fund/claim.html", claim=item, form=form, end_form=end_form,
                           decision_offered=_decision_offered(item),
                           paid=queries.claim_payments(g.collective.id, item.id),
                           monthly=item.kind in MONTHLY_KINDS), status


@bp.post("/claims/<int:claim_id>/decide")
@collective_view(T)
def decide(claim_id: int):
    """Approve or reject a claim, with a reason."""
    item = _claim_for_viewer(claim_id)
    form = DecideForm()
    valid = form.validate_on_submit()
    # The page offers the form only where the service would hear it. A hand-made POST
    # elsewhere (your own claim, one decided meanwhile or by vote) gets the service's own
    # refusal, whatever else the form lacks; refusals are flashed, as the page they come
    # back to shows no form to hold them.
    offered = _decision_offered(item)
    if valid or (not offered and form.is_submitted() and "csrf_token" not in form.errors):
        with committed() as done:
            claim_services.decide_claim(g.membership, item,
                                        approve=form.decision.data == "approve",
                                        reason=form.reason.data or "", now=now_utc())
        if done:
            flash(f"The claim is {item.status}.", "info")
            return _to("fund.claim", claim_id=item.id)
    elif not offered:
        _flash_errors(form)
    return _render_claim(_claim_for_viewer(claim_id), form, 422)


@bp.post("/claims/<int:claim_id>/end")
@collective_view()
def end_claim(claim_id: int):
    """End a sick or parental claim early, on recovery (the claimant or a treasurer)."""
    item = _claim_for_viewer(claim_id)
    form = EndClaimForm()
    if form.validate_on_submit():
        with committed(form) as done:
            recovery.end_claim(g.membership, item, recovered_on=form.recovered_on.data,
                               today=g.today, now=now_utc())
        if done:
            flash(f"The claim ends: {form.recovered_on.data:%Y-%m-%d} is the first day well.",
                  "info")
            return _to("fund.claim", claim_id=item.id)
    return _render_claim(_claim_for_viewer(claim_id), DecideForm(), 422, end_form=form)


@bp.post("/claims/<int:claim_id>/withdraw")
@collective_view()
def withdraw(claim_id: int):
    """Take back your pending claim."""
    item = _claim_for_viewer(claim_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        with committed() as done:
            claim_services.withdraw_claim(g.membership, item, now=now_utc())
        if done:
            flash("Your claim is withdrawn.", "info")
    else:
        _flash_errors(form)
    return _to("fund.claim", claim_id=item.id)


@bp.get("/claims")
@collective_view(T)
def claims():
    """Every claim, pending ones first, then the decided ones newest first, CLAIMS_PAGE a
    page (`?page=N`)."""
    page = page_number()
    found = claim_services.claims_of(g.collective.id, pending_first=True,
                                     limit=CLAIMS_PAGE + 1, offset=(page - 1) * CLAIMS_PAGE)
    shown = found[:CLAIMS_PAGE]
    return render_template(
        "fund/claims.html", pending=[c for c in shown if c.status == ClaimStatus.PENDING],
        decided=[c for c in shown if c.status != ClaimStatus.PENDING], page=page,
        more=len(found) > CLAIMS_PAGE,
        waiting=claim_services.count_claims(g.collective.id, ClaimStatus.PENDING))


@bp.route("/plan", methods=["GET", "POST"])
@collective_view()
def plan():
    """The plan in force, its history, and (for a new fund) the founding plan."""
    form = PlanForm(prefix="found")
    status = 200
    if request.method == "GET":
        form.effective_on.data = g.this_month
    if request.method == "POST":
        status = 422
        if found_from_form(plans.BENEFIT_PLANS, form,
                           lambda: form.to_terms(g.collective.base_currency)):
            return _to("fund.plan")
    current = plans.plan_in_force(g.collective.id, g.this_month)
    return render_template("fund/plan.html", form=form, current=current,
                           terms=plans.plan_terms(current) if current else None,
                           plans=plans.plans_of(g.collective.id, limit=VERSIONS_SHOWN + 1),
                           VERSIONS_SHOWN=VERSIONS_SHOWN), status


@bp.route("/plan/propose", methods=["GET", "POST"])
@collective_view(T)
def propose_plan():
    """Propose a new plan to the members' vote."""
    form = ProposePlanForm()
    status = 200
    if request.method == "GET":
        form.effective_on.data = add_months(g.this_month, 1)
        current = plans.plan_in_force(g.collective.id, g.this_month)
        if current is not None:
            form.fill_from(plans.plan_terms(current), g.collective.base_currency)
    if request.method == "POST":
        status = 422
        terms = form.to_terms(g.collective.base_currency) if form.validate_on_submit() else None
        if terms is not None:
            now = now_utc()
            with committed(form) as done:
                proposal = plans.propose_plan(
                    g.membership, terms, effective_on=form.effective_on.data, today=g.today,
                    now=now,
                    title=form.title.data or "", description=form.description.data or "",
                    deadline_at=now + timedelta(days=form.deadline_days.data))
            if done:
                flash("The plan is open for votes.", "info")
                return _to("members.proposal", proposal_id=proposal.id)
    return render_template("fund/propose_plan.html", form=form), status


@bp.get("/treasurer")
@collective_view(T)
def treasurer():
    """The fund at a glance: balance over time, in and out per month, who owes, the runs,
    and how long the fund would last (as the scheduler last computed it)."""
    deposit = DepositForm(prefix="dep")
    pickers.offer_members(deposit.membership_id, g.collective)
    deposit.received_on.data = g.today
    return _render_treasurer(deposit)


def _render_treasurer(deposit: DepositForm, status: int = 200):
    """The treasurer's page, with the deposit form as given (a refused one keeps what was
    typed)."""
    most = sorted(queries.owing(g.collective.id, limit=OWING_SHOWN).to_dict("records"),
                  key=lambda o: (-(o["owed"] + o["debt"]), o["name"]))
    return render_template(
        "fund/treasurer.html", balance=queries.fund_balance(g.collective.id),
        months=queries.fund_months(g.collective.id).to_dict("records"),
        owing=queries.owing_totals(g.collective.id), owing_most=most,
        owed_benefits=queries.owed_to_claimants(g.collective.id, limit=OWING_SHOWN),
        runs=queries.runs_of(g.collective.id), due=runs.due_periods(g.collective.id, g.today),
        forecast=queries.stored_forecast(g.collective.id),
        failure=run_failures.open_failure(g.collective.id),
        deposit=deposit,
        pending=claim_services.count_claims(g.collective.id, ClaimStatus.PENDING)
    ), status


@bp.get("/runs/review")
@collective_view(T)
def review_run():
    """What a due run would post, member by member, before the treasurer posts it: a dry
    run, so nothing is written. The page's one button posts it (once, however often)."""
    form = RunNowForm(formdata=request.args, meta={"csrf": False})
    if not form.validate():
        _flash_errors(form, "There is no such run to review")
        return _to("fund.treasurer")
    kind, period = RunKind(form.kind.data), parse_day(form.period.data)
    result = None
    with checked() as ok:
        result = runs.run(g.collective.id, kind, period, today=g.today, dry_run=True)
    if not ok:
        return _to("fund.treasurer")
    lines = result.lines.head(REVIEW_LINES).to_dict("records")
    names = member_names(g.collective.id, [line["membership_id"] for line in lines])
    for line in lines:
        line["name"] = names.get(int(line["membership_id"]), "?")
    return render_template("fund/review_run.html", result=result, kind=kind, period=period,
                           lines=lines, unlisted=len(result.lines) - len(lines),
                           form=RunNowForm(kind=kind.value,
                                                        period=period.isoformat()))


@bp.post("/runs")
@collective_view(T)
def run_now():
    """Run a contribution or payout run now (it posts once, however often it is asked; the
    service refuses a month that has not ended)."""
    form = RunNowForm()
    if not form.validate_on_submit():
        _flash_errors(form, "The run was not started")
    else:
        kind, period = RunKind(form.kind.data), parse_day(form.period.data)
        with committed() as done:
            result = runs.run(g.collective.id, kind, period, today=g.today,
                              triggered_by=g.membership.user.email)
        if done:
            what = f"The {kind.value} run for {period:%B %Y}"
            if result.skipped:
                flash(f"{what} is skipped: {result.skipped}.", "info")
            elif result.already_done:
                flash(f"{what} was already done; nothing was posted.", "info")
            else:
                flash(f"{what} is done: {result.entries} entries.", "info")
    return _to("fund.treasurer")


@bp.post("/deposits")
@collective_view(T)
def deposit():
    """Record money a member paid in themselves (to cover contributions)."""
    form = DepositForm(prefix="dep")
    pickers.offer_members(form.membership_id, g.collective)
    if form.validate_on_submit():
        amount = form.parsed_amount(form.amount, g.collective.base_currency,
                                    more_than_zero=True)
        if amount is not None:
            with committed(form) as done:
                member = members.get_membership(g.collective.id, form.membership_id.data)
                record_deposit(g.membership, member, amount=amount,
                               received_on=form.received_on.data,
                               request_key=form.request_key.data,
                               reference=form.reference.data or "", today=g.today)
            if done:
                flash("The deposit is recorded.", "info")
                return _to("fund.treasurer")
    # Shown again on the page, with what was typed and the errors beside their fields.
    flash("The deposit is not recorded: see the form below.", "error")
    return _render_treasurer(form, 422)


def plan_details(proposal) -> tuple[str, dict]:
    """What the proposal page shows for a plan."""
    return "fund/_plan_proposal.html", {
        "plan_terms": plans.BENEFIT_PLANS.proposed(proposal),  # a DomainError if unreadable
        "effective_on": proposal.payload["effective_on"]}


def claim_details(proposal) -> tuple[str, dict]:
    """What the proposal page shows for a claim decided by vote."""
    item = claim_services.get_claim(proposal.collective_id, proposal.payload["claim_id"])
    return "fund/_claim_proposal.html", {"claim": item}

"""Pages of the work pool: the board, pitches, allocation, my work, payments, shares, rules."""
from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from collective.errors import DomainError
from collective.extensions import db, utcnow
from collective.members import services as members
from collective.members.models import MembershipStatus, Role
from collective.members.proposals import proposals_of, register_proposal_details
from collective.money import format_money
from collective.pool import services
from collective.pool.forms import (
    AllocationForm,
    ClientForm,
    PayEveryoneForm,
    PaymentForm,
    PayoutForm,
    PitchForm,
    ProposeRuleForm,
    ReasonForm,
    RuleForm,
    TimeForm,
    TransitionForm,
    VolunteerForm,
)
from collective.pool.models import POOL_STATES, TRANSITIONS, PitchState
from collective.web.forms import currency_error, percent_to_bp, show_domain_error
from collective.web.scoping import collective_view

bp = Blueprint("pool", __name__, url_prefix="/c/<slug>/pool")
C, T = Role.COORDINATOR, Role.TREASURER


#: Service field names that a form calls otherwise.
FIELD_ALIASES = {"common_fund_bp": "common_fund", "finder_fee_bp": "finder_fee"}


def form_version(value: str | None) -> int:
    """The pitch version a form was made from; a damaged one never matches (a conflict)."""
    try:
        return int(value or "")
    except ValueError:
        return -1


def _fail(form, exc: DomainError) -> None:
    db.session.rollback()
    show_domain_error(form, exc, FIELD_ALIASES)


def _pitch_or_404(pitch_id: int):
    try:
        return services.get_pitch(g.collective.id, pitch_id)
    except DomainError:
        abort(404)


def _member_choices(include_none: str | None = None):
    choices = [(m.id, m.user.name) for m in members.directory(g.collective.id)
               if m.status == MembershipStatus.ACTIVE]
    return ([(0, include_none)] if include_none else []) + choices


@bp.get("/")
@collective_view()
def board():
    """The pool: every pitch by state, with the open ones members can volunteer for."""
    pitches = services.pitches_of(g.collective.id)
    by_state = {state: [p for p in pitches if p.state == state.value] for state in PitchState}
    return render_template("pool/board.html", by_state=by_state, PitchState=PitchState,
                           POOL_STATES=POOL_STATES)


@bp.route("/clients", methods=["GET", "POST"])
@collective_view(C, T)
def clients():
    """The collective's clients; coordinators add new ones."""
    form = ClientForm()
    if request.method == "POST" and not g.membership.has_role(C):
        abort(403)
    if form.validate_on_submit():
        try:
            services.create_client(g.membership, name=form.name.data,
                                   country=form.country.data or "",
                                   contact=form.contact.data or "", notes=form.notes.data or "")
        except DomainError as exc:
            _fail(form, exc)
        else:
            db.session.commit()
            flash(f"{form.name.data} is added.", "info")
            return redirect(url_for("pool.clients", slug=g.collective.slug))
    return render_template("pool/clients.html", form=form,
                           clients=services.clients_of(g.collective.id))


@bp.route("/pitches/new", methods=["GET", "POST"])
@collective_view(C)
def new_pitch():
    """Record incoming work."""
    form = PitchForm()
    form.client_id.choices = [(c.id, c.name) for c in services.clients_of(g.collective.id)]
    form.finder_id.choices = _member_choices("Nobody in particular")
    if request.method == "GET":
        form.value_currency.data = g.collective.base_currency
    if form.validate_on_submit() and not currency_error(form.value_currency):
        value = form.parsed_amount(form.value, form.value_currency.data)
        if value is not None:
            try:
                pitch = services.create_pitch(
                    g.membership, client_id=form.client_id.data, title=form.title.data,
                    description=form.description.data or "",
                    required_skills=form.parsed_skills, estimated_hours=form.estimated_hours.data,
                    value_amount=value, value_currency=form.value_currency.data,
                    deadline_on=form.deadline_on.data, finder_id=form.finder_id.data or None)
            except DomainError as exc:
                _fail(form, exc)
            else:
                db.session.commit()
                return redirect(url_for("pool.pitch", slug=g.collective.slug, pitch_id=pitch.id))
    return render_template("pool/new_pitch.html", form=form)


def _transition_form(pitch) -> TransitionForm:
    form = TransitionForm(prefix="move")
    form.state.choices = [(s.value, s.label) for s in sorted(TRANSITIONS[pitch.pitch_state])]
    # The list offers the legal moves; the service judges the move itself, after checking
    # the version, so a stale form is a conflict and an illegal move says where it can go.
    form.state.validate_choice = False
    if not form.version.data:
        form.version.data = str(pitch.version)
    return form


@bp.get("/pitches/<int:pitch_id>")
@collective_view()
def pitch(pitch_id: int):
    """A pitch: its details, allocation, history and payments."""
    work = _pitch_or_404(pitch_id)
    return _render_pitch(work)


def _render_pitch(work, move_form=None, volunteer_form=None):
    return render_template(
        "pool/pitch.html", pitch=work, events=services.pitch_events(work),
        volunteers=services.volunteers_of(work),
        payments=services.payments_of(g.collective.id, work.id),
        reversed_ids=services.reversed_entry_ids(g.collective.id),
        move_form=move_form or _transition_form(work),
        volunteer_form=volunteer_form or VolunteerForm(prefix="vol"),
        reverse_form=ReasonForm(prefix="rev"), POOL_STATES=POOL_STATES)


@bp.post("/pitches/<int:pitch_id>/state")
@collective_view(C)
def move_pitch(pitch_id: int):
    """Move a pitch to its next state."""
    work = _pitch_or_404(pitch_id)
    form = _transition_form(work)
    if form.validate_on_submit():
        try:
            services.transition_pitch(g.membership, work, form.state.data,
                                      expected_version=form_version(form.version.data),
                                      note=form.note.data or "")
        except DomainError as exc:
            _fail(form, exc)
            if exc.field == "version":
                flash(exc.message, "error")
        else:
            db.session.commit()
            flash(f"The pitch is now {PitchState(form.state.data).label}.", "info")
            return redirect(url_for("pool.pitch", slug=g.collective.slug, pitch_id=pitch_id))
    work = _pitch_or_404(pitch_id)
    return _render_pitch(work, move_form=form), 409 if form.version.errors else 422


@bp.post("/pitches/<int:pitch_id>/volunteer")
@collective_view()
def volunteer(pitch_id: int):
    """Offer to work on an open pitch."""
    work = _pitch_or_404(pitch_id)
    form = VolunteerForm(prefix="vol")
    if form.validate_on_submit():
        try:
            services.volunteer_for(g.membership, work, form.note.data or "")
        except DomainError as exc:
            _fail(None, exc)
        else:
            db.session.commit()
            flash("Thank you: the coordinators see that you volunteered.", "info")
    return redirect(url_for("pool.pitch", slug=g.collective.slug, pitch_id=pitch_id))


@bp.route("/pitches/<int:pitch_id>/allocate", methods=["GET", "POST"])
@collective_view(C)
def allocate(pitch_id: int):
    """Allocate a won pitch, helped by a ranked list of suggested members."""
    work = _pitch_or_404(pitch_id)
    form = AllocationForm()
    form.membership_id.choices = _member_choices()
    status = 200
    if request.method == "GET":
        form.version.data = str(work.version)
        chosen = request.args.get("member", type=int)
        if chosen:
            form.membership_id.data = chosen
    if form.validate_on_submit():
        try:
            services.allocate_member(g.membership, work, membership_id=form.membership_id.data,
                                     role=form.role.data, weight=form.weight.data,
                                     weekly_hours=form.weekly_hours.data,
                                     expected_version=form_version(form.version.data))
        except DomainError as exc:
            _fail(form, exc)
            if exc.field == "version":
                flash(exc.message, "error")
            status = 409 if exc.field == "version" else 422
            work = _pitch_or_404(pitch_id)
        else:
            db.session.commit()
            flash("The allocation is saved.", "info")
            return redirect(url_for("pool.allocate", slug=g.collective.slug, pitch_id=pitch_id))
    elif request.method == "POST":
        status = 422
    suggestions = services.suggest_members(work)
    return render_template("pool/allocate.html", pitch=work, form=form,
                           suggestions=suggestions.to_dict("records")), status


@bp.post("/pitches/<int:pitch_id>/allocations/<int:membership_id>/remove")
@collective_view(C)
def remove_allocation(pitch_id: int, membership_id: int):
    """Take a member off a pitch."""
    work = _pitch_or_404(pitch_id)
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            services.remove_allocation(g.membership, work, membership_id,
                                       expected_version=request.form.get("version", type=int))
        except DomainError as exc:
            _fail(None, exc)
        else:
            db.session.commit()
            flash("The member is taken off this work.", "info")
    return redirect(url_for("pool.allocate", slug=g.collective.slug, pitch_id=pitch_id))


@bp.route("/my-work", methods=["GET", "POST"])
@collective_view()
def my_work():
    """Your allocations and hours, and a form to log time."""
    allocations = services.allocations_of(g.membership)
    form = TimeForm()
    form.allocation_id.choices = [(a.id, f"{a.pitch.title} ({a.pitch.client.name})")
                                  for a, _ in allocations]
    if request.method == "GET":
        form.worked_on.data = date.today()
    status = 200
    if form.validate_on_submit():
        try:
            allocation = services.get_allocation(g.membership, form.allocation_id.data)
            services.log_time(g.membership, allocation, worked_on=form.worked_on.data,
                              minutes=services.parse_hours(form.hours.data),
                              note=form.note.data or "")
        except DomainError as exc:
            _fail(form, exc)
            status = 422
        else:
            db.session.commit()
            flash(f"{form.hours.data} hours are logged.", "info")
            return redirect(url_for("pool.my_work", slug=g.collective.slug))
    elif request.method == "POST":
        status = 422
    open_pool = services.pitches_of(g.collective.id, POOL_STATES)
    return render_template("pool/my_work.html", allocations=allocations, form=form,
                           entries=services.time_entries_of(g.membership),
                           open_pool=open_pool), status


@bp.route("/pitches/<int:pitch_id>/payments/new", methods=["GET", "POST"])
@collective_view(C, T)
def record_payment(pitch_id: int):
    """Record a client payment against a pitch; it is split and posted at once."""
    work = _pitch_or_404(pitch_id)
    form = PaymentForm()
    status = 200
    if request.method == "GET":
        form.currency.data = work.value_currency
        form.received_on.data = date.today()
    if form.validate_on_submit() and not currency_error(form.currency):
        amount = form.parsed_amount(form.amount, form.currency.data)
        if amount is not None:
            try:
                payment = services.record_payment(
                    g.membership, work, amount=amount, currency=form.currency.data,
                    received_on=form.received_on.data, reference=form.reference.data or "",
                    rate=form.rate.data, request_key=form.request_key.data)
            except DomainError as exc:
                _fail(form, exc)
            else:
                db.session.commit()
                flash(f"Payment recorded and split: "
                      f"{format_money(payment.base_amount, g.collective.base_currency)}.", "info")
                return redirect(url_for("pool.pitch", slug=g.collective.slug,
                                        pitch_id=pitch_id))
    if request.method == "POST":
        status = 422
    rule = services.rule_in_force(g.collective.id, date.today())
    return render_template("pool/payment.html", pitch=work, form=form, rule=rule), status


@bp.get("/payments")
@collective_view(C, T)
def payments():
    """Every client payment with the rule it was split under."""
    return render_template("pool/payments.html",
                           payments=services.payments_of(g.collective.id),
                           reversed_ids=services.reversed_entry_ids(g.collective.id),
                           reverse_form=ReasonForm(prefix="rev"))


@bp.post("/payments/<int:payment_id>/reverse")
@collective_view(T)
def reverse_payment(payment_id: int):
    """Reverse a payment entered by mistake (the ledger keeps both entries)."""
    try:
        payment = services.get_payment(g.collective.id, payment_id)
    except DomainError:
        abort(404)
    form = ReasonForm(prefix="rev")
    if form.validate_on_submit():
        try:
            services.reverse_payment(g.membership, payment, form.memo.data or "")
        except DomainError as exc:
            _fail(None, exc)
        else:
            db.session.commit()
            flash(f"Payment {payment.id} is reversed.", "info")
    return redirect(url_for("pool.payments", slug=g.collective.slug))


@bp.get("/shares")
@collective_view()
def my_shares():
    """Every payment that paid you, your balance, payouts and monthly earnings."""
    monthly = services.monthly_earnings(g.membership)
    return render_template(
        "pool/my_shares.html", shares=services.shares_of(g.membership),
        payouts=services.payouts_of(g.membership).to_dict("records"),
        monthly=list(zip(monthly["month"], monthly["earned"], strict=True)),
        balance=services.ledger.member_balance(g.membership.id)
        .get(g.collective.base_currency, 0))


@bp.get("/shares/all")
@collective_view(T)
def all_shares():
    """Every member's earnings, payouts and balance, with totals that tie to the ledger."""
    table = services.members_summary(g.collective.id)
    rows = services.ledger.trial_balance(g.collective.id)
    ledger_total = -sum(r.balance for r in rows if r.membership_id is not None
                        and r.currency == g.collective.base_currency)
    return render_template("pool/all_shares.html", rows=table.to_dict("records"),
                           totals=table[["earned", "paid_out", "other", "balance"]].sum()
                           .astype(int).to_dict(), ledger_total=ledger_total)


@bp.route("/payouts", methods=["GET", "POST"])
@collective_view(T)
def payouts():
    """Pay members what the collective owes them: one, or everyone at once."""
    table = services.members_summary(g.collective.id)
    owed = table[table["balance"] > 0]
    form = PayoutForm(prefix="one")
    # Everyone is a valid choice, so that a form sent twice finds its payout again.
    form.membership_id.choices = [(int(r.membership_id), r.name) for r in table.itertuples()
                                  if r.balance > 0 or request.method == "POST"]
    everyone = PayEveryoneForm(prefix="all")
    today = date.today()
    if request.method == "GET":
        form.paid_on.data = everyone.paid_on.data = today
    status = 200
    submitted = everyone if "all-paid_on" in request.form else form
    if request.method == "POST":
        status = 422
        if submitted.validate_on_submit():
            try:
                if submitted is everyone:
                    services.pay_everyone(g.membership, paid_on=everyone.paid_on.data,
                                          request_key=everyone.request_key.data)
                else:
                    amount = form.parsed_amount(form.amount, g.collective.base_currency)
                    if amount is None:
                        raise _FormInvalid
                    member = members.get_membership(g.collective.id, form.membership_id.data)
                    services.pay_member(g.membership, member, amount=amount,
                                        paid_on=form.paid_on.data,
                                        request_key=form.request_key.data,
                                        reference=form.reference.data or "")
            except _FormInvalid:
                pass
            except DomainError as exc:
                _fail(submitted, exc)
            else:
                db.session.commit()
                flash("The payout is posted.", "info")
                return redirect(url_for("pool.payouts", slug=g.collective.slug))
    return render_template("pool/payouts.html", form=form, everyone=everyone,
                           owed=owed.to_dict("records"),
                           total=int(owed["balance"].sum())), status


class _FormInvalid(Exception):
    """A field error was already attached to the form."""


@bp.route("/rules", methods=["GET", "POST"])
@collective_view()
def rules():
    """The share rule in force, its history, and the proposals to change it."""
    founding = RuleForm(prefix="found")
    status = 200
    if request.method == "GET":
        founding.effective_on.data = date.today()
    if request.method == "POST":
        status = 422
        if not g.membership.has_role(T):
            abort(403)
        if founding.validate_on_submit():
            fund, finder = percent_to_bp(founding.common_fund), percent_to_bp(founding.finder_fee)
            if fund is not None and finder is not None:
                try:
                    services.set_founding_rule(
                        g.membership, services.terms_from(fund, finder, founding.method.data),
                        founding.effective_on.data)
                except DomainError as exc:
                    _fail(founding, exc)
                else:
                    db.session.commit()
                    flash("The founding share rule is set.", "info")
                    return redirect(url_for("pool.rules", slug=g.collective.slug))
    today = date.today()
    return render_template("pool/rules.html", rules=services.rules_of(g.collective.id),
                           in_force=services.rule_in_force(g.collective.id, today),
                           proposals=proposals_of(g.collective.id, services.SHARE_RULE),
                           founding=founding), status


@bp.route("/rules/propose", methods=["GET", "POST"])
@collective_view(T)
def propose_rule():
    """Propose a new share rule to the members' vote, with a preview of its effect."""
    form = ProposeRuleForm()
    status = 200
    preview = None
    if request.method == "GET":
        current = services.rule_in_force(g.collective.id, date.today())
        form.effective_on.data = date.today().replace(day=1) + timedelta(days=32)
        form.effective_on.data = form.effective_on.data.replace(day=1)
        form.deadline_days.data = g.collective.proposal_days
        if current:
            form.common_fund.data = current.common_fund_bp / 100
            form.finder_fee.data = current.finder_fee_bp / 100
            form.method.data = current.method
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            fund, finder = percent_to_bp(form.common_fund), percent_to_bp(form.finder_fee)
            if fund is not None and finder is not None:
                try:
                    terms = services.terms_from(fund, finder, form.method.data)
                    if "preview" in request.form:
                        preview = services.preview_rule(g.collective.id, terms)
                        status = 200
                    else:
                        proposal = services.propose_share_rule(
                            g.membership, terms, effective_on=form.effective_on.data,
                            title=form.title.data or "", description=form.description.data or "",
                            deadline_at=utcnow() + timedelta(days=form.deadline_days.data))
                        db.session.commit()
                        flash("The proposal is open for votes.", "info")
                        return redirect(url_for("members.proposal", slug=g.collective.slug,
                                                proposal_id=proposal.id))
                except DomainError as exc:
                    _fail(form, exc)
    return render_template("pool/propose_rule.html", form=form,
                           preview=None if preview is None else preview.to_dict("records")
                           ), status


def share_rule_details(proposal) -> tuple[str, dict]:
    """What the proposal page shows for a share rule: the terms and the 90-day preview."""
    terms = services.proposal_terms(proposal)
    preview = services.preview_rule(proposal.collective_id, terms)
    return "pool/_share_rule_proposal.html", {
        "terms": terms, "preview": preview.to_dict("records"),
        "effective_on": proposal.payload.get("effective_on")}


register_proposal_details(services.SHARE_RULE, share_rule_details)

"""Pages of partners between collectives, under /c/<slug>/partners: the partnerships and
requests, one partner (its shared pitches, sharing a pitch), the search of its members, a
shared pitch (answer, allocate, log time), a member's request to hire a partner for part
of a pitch (and a coordinator's confirm or turn-down), leaving, and the treasurer's money
between the collectives with the settle action. Each change goes through `committed`."""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, request, url_for

from collective.clock import now_utc
from collective.errors import NotFound
from collective.federation import hiring, money, partners, search, sharing
from collective.federation.forms import (
    AnswerForm,
    HireForm,
    LeaveForm,
    PartnerAllocationForm,
    PartnerTimeForm,
    ProposePartnerForm,
    RequestAnswerForm,
    SettleForm,
    ShareForm,
)
from collective.federation.models import Federation, FederationStatus, SharedPitch
from collective.members.forms import ConfirmForm
from collective.members.models import Proposal, Role
from collective.members.pickers import SEARCH_LIMIT, offer_members
from collective.members.services import find_members
from collective.pool import time
from collective.web.forms import flash_form_errors
from collective.web.member_field import suggestions
from collective.web.paging import page_number
from collective.web.scoping import collective_view
from collective.web.transaction import committed

bp = Blueprint("federation", __name__, url_prefix="/c/<slug>/partners")
C, T = Role.COORDINATOR, Role.TREASURER


def _partners_page() -> str:
    return url_for("federation.partners", slug=g.collective.slug)


def _federation(federation_id: int) -> Federation:
    try:
        return partners.get_federation(g.collective.id, federation_id)
    except NotFound:
        abort(404)


def _shared(shared_id: int) -> SharedPitch:
    try:
        return sharing.get_shared(g.collective.id, shared_id)
    except NotFound:
        abort(404)


def federation_details(proposal: Proposal) -> tuple[str, dict]:
    """What a federation proposal's page shows: the other collective and where it stands."""
    federation = partners.get_federation(proposal.collective_id,
                                         int(proposal.payload["federation_id"]))
    return "federation/_proposal.html", {"federation": federation,
                                         "partner": federation.other(proposal.collective_id)}


@bp.route("/", methods=["GET", "POST"], endpoint="partners")
@collective_view()
def partners_page():
    """The collective's partnerships and requests; a coordinator or treasurer proposes one."""
    form = ProposePartnerForm()
    status = 200
    if request.method == "POST":
        if not g.membership.has_role(C, T):
            abort(403)
        status = 422
        if form.validate_on_submit():
            with committed(form, {"partner": "partner"}) as done:
                partners.propose_federation(g.membership, form.partner.data,
                                            description=form.description.data or "",
                                            now=now_utc())
            if done:
                flash("The partnership is put to your collective's vote. When it passes, the "
                      "other collective votes too.", "info")
                return redirect(_partners_page())
    federations = partners.federations_of(g.collective.id)
    waiting = hiring.requests_waiting(g.collective.id) if g.membership.has_role(C) else []
    return render_template("federation/partners.html", federations=federations, form=form,
                           proposals=_proposals(federations), waiting=waiting,
                           request_form=RequestAnswerForm(prefix="request")), status


def _proposals(federations: list[Federation]) -> dict[int, Proposal]:
    """Each federation's proposal of this collective, by id (one query)."""
    import sqlalchemy as sa

    from collective.extensions import db
    ids = [f.proposal_id(g.collective.id) for f in federations]
    ids = [i for i in ids if i is not None]
    if not ids:
        return {}
    return {p.id: p for p in db.session.scalars(sa.select(Proposal).where(Proposal.id.in_(ids)))}


@bp.post("/<int:federation_id>/vote")
@collective_view(C, T)
def put_to_vote(federation_id: int):
    """Put a partnership to this collective's own vote (answering a request)."""
    federation = _federation(federation_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash_form_errors(form)
    else:
        with committed() as done:
            partners.put_request_to_vote(g.membership, federation, now=now_utc())
        if done:
            flash("The partnership is put to your collective's vote.", "info")
    return redirect(_partners_page())


@bp.route("/<int:federation_id>/leave", methods=["GET", "POST"])
@collective_view(C)
def leave(federation_id: int):
    """Ask, then end a partnership at once (no vote): sharing stops."""
    federation = _federation(federation_id)
    form = LeaveForm()
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            with committed(form) as done:
                partners.leave_federation(g.membership, federation,
                                          reason=form.reason.data or "", now=now_utc())
            if done:
                flash("The partnership is ended. What either side owes the other can still "
                      "be settled.", "info")
                return redirect(_partners_page())
    return render_template("federation/leave.html", federation=federation, form=form,
                           partner=federation.other(g.collective.id),
                           live_shares=partners.live_shares(federation, g.collective.id)), status


@bp.route("/<int:federation_id>", methods=["GET", "POST"])
@collective_view()
def partner(federation_id: int):
    """One partner: the pitches shared both ways; a coordinator shares one of ours."""
    federation = _federation(federation_id)
    form = ShareForm()
    is_coordinator = g.membership.has_role(C)
    form.pitch_id.choices = ([(p.id, p.title)
                              for p in sharing.shareable_pitches(g.collective.id)]
                             if is_coordinator and federation.is_active else [])
    status = 200
    if request.method == "POST":
        if not is_coordinator:
            abort(403)
        status = 422
        if form.validate_on_submit():
            with committed(form) as done:
                from collective.pool.pitches import get_pitch
                work = get_pitch(g.collective.id, form.pitch_id.data)
                shared = sharing.propose_sharing(
                    g.membership, work, federation_id=federation.id,
                    partner_bp=form.partner_bp.data, role=form.role.data,
                    note=form.note.data or "", now=now_utc())
            if done:
                flash("The pitch is offered to the partner; its coordinators answer.", "info")
                return redirect(url_for("federation.shared_pitch", slug=g.collective.slug,
                                        shared_id=shared.id))
    elif federation.is_active:
        form.partner_bp.data = 5000
    return render_template("federation/partner.html", federation=federation, form=form,
                           partner=federation.other(g.collective.id),
                           shared=sharing.sharings_of(federation, g.collective.id)), status


@bp.route("/<int:federation_id>/people")
@collective_view(C)
def people(federation_id: int):
    """Search an active partner's members by skill and free hours a week."""
    federation = _federation(federation_id)
    if not federation.is_active:
        abort(404)
    page = page_number()
    skill = (request.args.get("skill") or "").strip()[:60]
    min_level = request.args.get("level", 1, type=int)
    min_free = request.args.get("free", 0, type=int)
    min_level = min_level if 1 <= min_level <= 5 else 1
    min_free = min_free if 0 <= min_free <= 168 else 0
    found, more = search.search_partner_members(g.membership, federation, skill=skill,
                                                min_level=min_level,
                                                min_free_hours=min_free, page=page)
    return render_template("federation/people.html", federation=federation,
                           partner=federation.other(g.collective.id), found=found, more=more,
                           page=page, skill=skill, min_level=min_level, min_free=min_free)


def _offer_partner_members(field, shared: SharedPitch) -> None:
    """The partner's active members in `field`: all of them when few, else a search box
    answered by search_shared_members."""
    offer_members(field, shared.partner, active_only=True,
                  search_url=url_for("federation.search_shared_members",
                                     slug=g.collective.slug, shared_id=shared.id))


@bp.get("/shared/<int:shared_id>/members")
@collective_view(C)
def search_shared_members(shared_id: int):
    """The partner's active members whose name contains `?q=` (or `#id`), at most
    SEARCH_LIMIT, as JSON for the allocation form's search box: only while the form is
    offered (the pitch accepted, the partnership active), as the list it replaces was."""
    shared = _shared(shared_id)
    if not (shared.is_accepted and shared.federation.is_active):
        abort(404)
    found = find_members(shared.partner_collective_id, request.args.get("q", ""),
                         active_only=True, limit=SEARCH_LIMIT)
    return jsonify(members=suggestions(found))


def _render_shared(shared: SharedPitch, *, allocate_form=None, time_form=None,
                   status: int = 200):
    is_host = shared.host_collective_id == g.collective.id
    may_allocate = (g.membership.has_role(C) and shared.is_accepted
                    and shared.federation.is_active)
    allocate_form = allocate_form or PartnerAllocationForm(prefix="alloc")
    if may_allocate:
        _offer_partner_members(allocate_form.membership_id, shared)
    team = sharing.partner_team(shared)
    mine = next((row for row in team if row[0] == g.membership.id), None)
    time_form = time_form or PartnerTimeForm(prefix="time")
    if time_form.worked_on.data is None:
        time_form.worked_on.data = g.today
    return render_template(
        "federation/shared_pitch.html", shared=shared, pitch=shared.pitch, is_host=is_host,
        other=shared.partner if is_host else shared.host, team=team, mine=mine,
        may_allocate=may_allocate, allocate_form=allocate_form, time_form=time_form,
        answer_form=AnswerForm(prefix="answer"), request_form=RequestAnswerForm(prefix="request"),
        may_log=(mine is not None and not is_host and shared.is_accepted
                 and shared.federation.is_active)), status


@bp.route("/shared/<int:shared_id>")
@collective_view()
def shared_pitch(shared_id: int):
    """A shared pitch as each side may see it: the work, the split, the partner's team."""
    return _render_shared(_shared(shared_id))


@bp.post("/shared/<int:shared_id>/answer")
@collective_view(C)
def answer(shared_id: int):
    """The partner's coordinator accepts or declines the offered pitch (or the host
    withdraws an offer not yet answered)."""
    shared = _shared(shared_id)
    form = AnswerForm(prefix="answer")
    back = url_for("federation.shared_pitch", slug=g.collective.slug, shared_id=shared.id)
    if not form.validate_on_submit() or form.answer.data not in ("accept", "decline",
                                                                 "withdraw"):
        flash("Choose accept or decline.", "error")
        return redirect(back)
    with committed() as done:
        if form.answer.data == "withdraw":
            sharing.withdraw_sharing(g.membership, shared, now=now_utc())
        else:
            sharing.answer_sharing(g.membership, shared, accept=form.answer.data == "accept",
                                   now=now_utc())
    if done:
        flash({"accept": "Accepted: your members can be allocated to it now.",
               "decline": "Declined.", "withdraw": "The offer is withdrawn."}
              [form.answer.data], "info")
    return redirect(back)


@bp.route("/hire/<int:pitch_id>", methods=["GET", "POST"])
@collective_view()
def hire(pitch_id: int):
    """A member working one of our pitches asks to hire a partner collective as supplier
    for part of it; a coordinator of ours confirms or turns the request down."""
    from collective.pool.pitches import get_pitch
    form = HireForm()
    work = get_pitch(g.collective.id, pitch_id)
    form.federation_id.choices = hiring.hireable_partners(g.collective.id)
    live = sharing.live_sharing(work.id)
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            with committed(form) as done:
                shared = hiring.request_supplier(
                    g.membership, work, federation_id=form.federation_id.data,
                    partner_bp=form.partner_bp.data, note=form.note.data or "",
                    now=now_utc())
            if done:
                flash("Your request is sent to our coordinators: one of them confirms it "
                      "before it is offered to the partner.", "info")
                return redirect(url_for("federation.shared_pitch", slug=g.collective.slug,
                                        shared_id=shared.id))
    return render_template("federation/hire.html", pitch=work, form=form, live=live,
                           works_on=hiring.works_on(g.membership, work)), status


@bp.post("/shared/<int:shared_id>/request")
@collective_view()
def answer_request(shared_id: int):
    """A coordinator of ours confirms (offers it to the partner) or turns down a member's
    request to hire a partner; the member who asked may withdraw it."""
    form = RequestAnswerForm(prefix="request")
    shared = _shared(shared_id)
    back = url_for("federation.shared_pitch", slug=g.collective.slug, shared_id=shared.id)
    actions = {"confirm": hiring.confirm_request, "turn_down": hiring.turn_down_request,
               "withdraw": hiring.withdraw_request}
    if not form.validate_on_submit() or form.answer.data not in actions:
        if form.errors:
            flash_form_errors(form)
        else:
            flash("Choose confirm or turn down.", "error")
        return redirect(back)
    extra = {"reason": form.reason.data or ""} if form.answer.data == "turn_down" else {}
    with committed() as done:
        actions[form.answer.data](g.membership, shared, now=now_utc(), **extra)
    if done:
        flash({"confirm": f"Confirmed: the pitch is offered to {shared.partner.name}, whose "
                          "coordinators answer.",
               "turn_down": "Turned down: the member who asked is told.",
               "withdraw": "Your request is withdrawn."}[form.answer.data], "info")
    return redirect(back)


@bp.post("/shared/<int:shared_id>/allocate")
@collective_view(C)
def allocate(shared_id: int):
    """Give a partner's member a part in the shared pitch."""
    shared = _shared(shared_id)
    form = PartnerAllocationForm(prefix="alloc")
    _offer_partner_members(form.membership_id, shared)
    if form.validate_on_submit():
        with committed(form) as done:
            sharing.allocate_partner_member(
                g.membership, shared, membership_id=form.membership_id.data,
                weight=form.weight.data, weekly_hours=form.weekly_hours.data, now=now_utc())
        if done:
            flash("Allocated.", "info")
            return redirect(url_for("federation.shared_pitch", slug=g.collective.slug,
                                    shared_id=shared.id))
    return _render_shared(shared, allocate_form=form, status=422)


@bp.post("/shared/<int:shared_id>/time")
@collective_view()
def log_time(shared_id: int):
    """A partner's member logs time on their part in the shared pitch."""
    shared = _shared(shared_id)
    form = PartnerTimeForm(prefix="time")
    if form.validate_on_submit():
        with committed(form) as done:
            sharing.log_partner_time(g.membership, shared, worked_on=form.worked_on.data,
                                     minutes=time.parse_hours(form.hours.data),
                                     note=form.note.data or "", today=g.today)
        if done:
            flash("Your time is logged.", "info")
            return redirect(url_for("federation.shared_pitch", slug=g.collective.slug,
                                    shared_id=shared.id))
    return _render_shared(shared, time_form=form, status=422)


@bp.route("/money")
@collective_view(T)
def between():
    """Between collectives: what this collective and each partner owe each other."""
    federations = partners.federations_of(g.collective.id)
    rows = []
    seen = set()
    for federation in federations:
        other = federation.other(g.collective.id)
        if other.id in seen or federation.status == FederationStatus.DECLINED:
            continue
        seen.add(other.id)
        rows.append((federation, other, money.standing(g.collective, other.id)))
    return render_template("federation/between.html", rows=rows)


@bp.route("/<int:federation_id>/settle", methods=["GET", "POST"])
@collective_view(T)
def settle(federation_id: int):
    """One partner's account: the entries between us, and (when we owe) the settle form,
    which posts in both ledgers once."""
    federation = _federation(federation_id)
    other = federation.other(g.collective.id)
    form = SettleForm()
    status = 200
    if request.method == "GET":
        owed = money.standing(g.collective, other.id).we_owe
        if owed:
            from collective.money import format_plain
            form.amount.data = format_plain(owed, g.collective.base_currency)
        form.paid_on.data = g.today
    else:
        status = 422
        amount = (form.parsed_amount(form.amount, g.collective.base_currency,
                                     more_than_zero=True)
                  if form.validate_on_submit() else None)
        if amount is not None:
            with committed(form) as done:
                money.settle(g.membership, federation, amount=amount,
                             paid_on=form.paid_on.data, reference=form.reference.data or "",
                             request_key=form.request_key.data, today=g.today)
            if done:
                flash("The settlement is posted in both collectives' books.", "info")
                return redirect(url_for("federation.settle", slug=g.collective.slug,
                                        federation_id=federation.id))
    page = page_number()
    lines, more = money.history(g.collective.id, other.id, page)
    return render_template("federation/settle.html", federation=federation, partner=other,
                           standing=money.standing(g.collective, other.id), form=form,
                           lines=lines, more=more, page=page), status

"""Pages of the work itself: the board, clients, pitches, allocation and my work."""
from __future__ import annotations

from flask import abort, flash, g, jsonify, redirect, render_template, request, url_for

from collective.clock import now_utc
from collective.members import pickers
from collective.pool import allocation, participation, pitches, queries, time
from collective.pool import clients as client_services
from collective.pool import pickers as client_pickers
from collective.pool.forms import (
    AllocationForm,
    ClientForm,
    PitchForm,
    ReasonedMoveForm,
    ReasonForm,
    TimeForm,
    TransitionForm,
    VolunteerForm,
)
from collective.pool.models import (
    MOVE_NAMES,
    POOL_STATES,
    REOPENABLE_STATES,
    WORK_STATES,
    PitchState,
)
from collective.pool.views.base import (
    C,
    T,
    act_then_redirect,
    bp,
    form_version,
    refusal_status,
)
from collective.web.forms import ascii_int, currency_error, flash_form_errors
from collective.web.member_field import suggestions
from collective.web.paging import page_number
from collective.web.scoping import collective_view
from collective.web.transaction import committed

#: Pitches the board shows of each state; "show all" pages through one state.
BOARD_PER_STATE = 20
#: Pitches a page of one state shows.
STATE_PAGE = 50
#: Clients a page of the clients list shows.
CLIENTS_PAGE = 50
#: Payments of one pitch its page shows at a time, and the latest events of its history.
PITCH_PAYMENTS = 24
PITCH_EVENTS = 50
#: Allocations a page of "My work" shows, and the most work its time form offers.
ALLOCATIONS_PAGE = 50
LOGGABLE = 100


@bp.get("/")
@collective_view()
def board():
    """The pool: the first BOARD_PER_STATE pitches of each state by deadline, with how many
    there are; `?state=open&page=N` lists one state STATE_PAGE at a time."""
    counts = queries.pitch_counts(g.collective.id)
    state = request.args.get("state", "")
    if state not in PitchState.__members__.values():
        return render_template("pool/board.html", counts=counts, PitchState=PitchState,
                               POOL_STATES=POOL_STATES, shown=BOARD_PER_STATE,
                               by_state=queries.board_pitches(g.collective.id,
                                                              BOARD_PER_STATE))
    page = page_number()
    found = pitches.pitches_of(g.collective.id, (PitchState(state),),
                               limit=STATE_PAGE + 1, offset=(page - 1) * STATE_PAGE)
    return render_template("pool/board_state.html", state=PitchState(state),
                           pitches=found[:STATE_PAGE], page=page, more=len(found) > STATE_PAGE,
                           count=counts.get(state, 0), POOL_STATES=POOL_STATES)


@bp.route("/clients", methods=["GET", "POST"])
@collective_view(C, T)
def clients():
    """The collective's clients by name, CLIENTS_PAGE a page (`?page=N`); coordinators add
    new ones."""
    form = ClientForm()
    if request.method == "POST" and not g.membership.has_role(C):
        abort(403)
    if form.validate_on_submit():
        with committed(form) as done:
            client_services.create_client(g.membership, name=form.name.data,
                                          country=form.country.data or "",
                                          contact=form.contact.data or "",
                                          notes=form.notes.data or "",
                                          billing=form.billing(),
                                          is_naming_allowed=form.is_naming_allowed.data)
        if done:
            flash(f"{form.name.data} is added.", "info")
            return redirect(url_for("pool.clients", slug=g.collective.slug))
    page = page_number()
    found = client_services.clients_of(g.collective.id, limit=CLIENTS_PAGE + 1,
                                       offset=(page - 1) * CLIENTS_PAGE)
    return render_template("pool/clients.html", form=form, clients=found[:CLIENTS_PAGE],
                           page=page, more=len(found) > CLIENTS_PAGE)


@bp.get("/clients/search")
@collective_view(C, T)
def search_clients():
    """Clients whose name contains `?q=` (or `#id`), at most SEARCH_LIMIT, as JSON for the
    forms' client search boxes."""
    found = client_services.find_clients(g.collective.id, request.args.get("q", ""),
                                         limit=client_pickers.SEARCH_LIMIT)
    return jsonify(clients=suggestions(found))


@bp.route("/pitches/new", methods=["GET", "POST"])
@collective_view(C)
def new_pitch():
    """Record incoming work."""
    form = PitchForm()
    client_pickers.offer_clients(form.client_id, g.collective)
    pickers.offer_members(form.finder_id, g.collective, active_only=True)
    if request.method == "GET":
        form.value_currency.data = g.collective.base_currency
    if form.validate_on_submit() and not currency_error(form.value_currency):
        value = form.parsed_amount(form.value, form.value_currency.data)
        if value is not None:
            with committed(form) as done:
                pitch = pitches.create_pitch(
                    g.membership, client_id=form.client_id.data, title=form.title.data,
                    description=form.description.data or "",
                    required_skills=form.parsed_skills, estimated_hours=form.estimated_hours.data,
                    value_amount=value, value_currency=form.value_currency.data,
                    deadline_on=form.deadline_on.data, finder_id=form.finder_id.data or None,
                    today=g.today, at=now_utc())
            if done:
                return redirect(url_for("pool.pitch", slug=g.collective.slug, pitch_id=pitch.id))
    return render_template("pool/new_pitch.html", form=form)


def _transition_form(work, form_class=TransitionForm) -> TransitionForm:
    form = form_class(prefix="move")
    if not form.version.data:
        form.version.data = str(work.version)
    return form


@bp.get("/pitches/<int:pitch_id>")
@collective_view()
def pitch(pitch_id: int):
    """A pitch: its details, allocation, its latest PITCH_EVENTS events, and its payments
    PITCH_PAYMENTS a page (`?page=N`)."""
    return _render_pitch(pitches.get_pitch(g.collective.id, pitch_id))


def _render_pitch(work, move_form=None, *, volunteer_form=None, withdraw_form=None):
    """The pitch page; a refused form is given back so it keeps what was typed. No step is
    preselected: each legal next step is its own button, and the ends (lost, cancelled)
    lead to a page that asks for the reason first."""
    steps = pitches.next_steps(work)
    page = page_number()
    payments = queries.payments_of(g.collective.id, work.id, limit=PITCH_PAYMENTS + 1,
                                   offset=(page - 1) * PITCH_PAYMENTS)
    return render_template(
        "pool/pitch.html", pitch=work, events=pitches.pitch_events(work, latest=PITCH_EVENTS),
        event_count=pitches.count_events(work),
        volunteers=pitches.volunteers_of(work), hours=participation.logged_hours(work),
        payments=payments[:PITCH_PAYMENTS], page=page, more=len(payments) > PITCH_PAYMENTS,
        reversed_ids=queries.reversed_entry_ids(g.collective.id,
                                                [p.entry_id for p in payments]),
        move_form=move_form or _transition_form(work),
        steps=[s for s in steps if s not in REOPENABLE_STATES],
        ends=[s for s in steps if s in REOPENABLE_STATES], MOVE_NAMES=MOVE_NAMES,
        REOPENABLE_STATES=REOPENABLE_STATES,
        volunteer_form=volunteer_form or VolunteerForm(prefix="vol"),
        withdraw_form=withdraw_form or ReasonForm(prefix="withdraw"),
        POOL_STATES=POOL_STATES)


def render_reasoned_move(work, form, target: str, status: int = 200):
    """The page that confirms an end (lost, cancelled) or a reopening and asks why."""
    return render_template("pool/confirm_move.html", pitch=work, form=form,
                           target=target, MOVE_NAMES=MOVE_NAMES), status


@bp.post("/pitches/<int:pitch_id>/state")
@collective_view(C)
def move_pitch(pitch_id: int):
    """Move a pitch to its next state."""
    work = pitches.get_pitch(g.collective.id, pitch_id)
    reasoned = request.form.get("move-state") in {s.value for s in REOPENABLE_STATES}
    form = _transition_form(work, ReasonedMoveForm if reasoned else TransitionForm)
    # A pitch with no next step (paid, lost, cancelled) shows no step buttons: a hand-made
    # POST gets the service's refusal, or the form's errors, as a flash.
    offered = bool(pitches.next_steps(work))
    flashed = not offered
    status = 422
    if form.validate_on_submit():
        with committed(form if offered else None) as done:
            pitches.transition_pitch(g.membership, work, form.state.data,
                                     expected_version=form_version(form.version.data),
                                     note=form.note.data or "", at=now_utc())
        if done:
            flash(f"The pitch is now {PitchState(form.state.data).label}.", "info")
            return redirect(url_for("pool.pitch", slug=g.collective.slug, pitch_id=pitch_id))
        status = refusal_status(done, flashed=flashed)
    elif flashed:
        flash_form_errors(form)
    work = pitches.get_pitch(g.collective.id, pitch_id)
    if reasoned and offered:
        return render_reasoned_move(work, form, form.state.data, status)
    return _render_pitch(work, move_form=form), status


@bp.post("/pitches/<int:pitch_id>/volunteer")
@collective_view()
def volunteer(pitch_id: int):
    """Offer to work on an open pitch."""
    work = pitches.get_pitch(g.collective.id, pitch_id)
    form = VolunteerForm(prefix="vol")
    if form.validate_on_submit():
        with committed(form) as done:
            pitches.volunteer_for(g.membership, work, form.note.data or "")
        if done:
            flash("Thank you: the coordinators see that you volunteered.", "info")
            return redirect(url_for("pool.pitch", slug=g.collective.slug, pitch_id=pitch_id))
    return _render_pitch(work, volunteer_form=form), 422


@bp.route("/pitches/<int:pitch_id>/allocate", methods=["GET", "POST"])
@collective_view(C)
def allocate(pitch_id: int):
    """Allocate a won pitch, helped by a ranked list of suggested members."""
    work = pitches.get_pitch(g.collective.id, pitch_id)
    form = AllocationForm()
    status = 200
    if request.method == "GET":
        form.version.data = str(work.version)
        chosen = request.args.get("member", type=ascii_int)
        if chosen:
            form.membership_id.data = chosen
    pickers.offer_members(form.membership_id, g.collective, active_only=True)
    if form.validate_on_submit():
        with committed(form) as done:
            allocation.allocate_member(
                g.membership, work, membership_id=form.membership_id.data,
                role=form.role.data, weight=form.weight.data,
                weekly_hours=form.weekly_hours.data,
                expected_version=form_version(form.version.data))
        if done:
            flash("The allocation is saved.", "info")
            return redirect(url_for("pool.allocate", slug=g.collective.slug, pitch_id=pitch_id))
        status = refusal_status(done)
        work = pitches.get_pitch(g.collective.id, pitch_id)
    elif request.method == "POST":
        status = 422
    suggestions = allocation.suggest_members(work, g.today)
    return render_template("pool/allocate.html", pitch=work, form=form,
                           suggestions=suggestions.to_dict("records")), status


@bp.post("/pitches/<int:pitch_id>/allocations/<int:membership_id>/remove")
@collective_view(C)
def remove_allocation(pitch_id: int, membership_id: int):
    """Take a member off a pitch."""
    work = pitches.get_pitch(g.collective.id, pitch_id)
    return act_then_redirect(
        ReasonForm(), lambda: allocation.remove_allocation(
            g.membership, work, membership_id,
            expected_version=request.form.get("version", type=int)),
        "The member is taken off this work.",
        url_for("pool.allocate", slug=g.collective.slug, pitch_id=pitch_id))


@bp.route("/my-work", methods=["GET", "POST"])
@collective_view()
def my_work():
    """Your allocations and hours (active work first, ALLOCATIONS_PAGE a page), your latest
    time entries, and a form to log time."""
    page = page_number()
    allocations = time.allocations_of(g.membership, limit=ALLOCATIONS_PAGE + 1,
                                      offset=(page - 1) * ALLOCATIONS_PAGE)
    form = TimeForm()
    # Only work that time can be logged on (the rule of time.log_time) is offered.
    form.allocation_id.choices = [
        (a.id, f"{a.pitch.title} ({a.pitch.client.name})")
        for a, _ in time.allocations_of(g.membership, states=WORK_STATES, limit=LOGGABLE)]
    if request.method == "GET":
        form.worked_on.data = g.today
    status = 200
    if form.validate_on_submit():
        with committed(form) as done:
            time.log_time(g.membership, time.get_allocation(g.membership, form.allocation_id.data),
                          worked_on=form.worked_on.data, minutes=time.parse_hours(form.hours.data),
                          note=form.note.data or "", today=g.today)
        if done:
            flash(f"{form.hours.data} hours are logged.", "info")
            return redirect(url_for("pool.my_work", slug=g.collective.slug))
        status = 422
    elif request.method == "POST":
        status = 422
    return render_template("pool/my_work.html", allocations=allocations[:ALLOCATIONS_PAGE],
                           page=page, more=len(allocations) > ALLOCATIONS_PAGE, form=form,
                           entries=time.time_entries_of(g.membership),
                           open_pool=pitches.pitches_of(g.collective.id, POOL_STATES,
                                                        limit=BOARD_PER_STATE)), status

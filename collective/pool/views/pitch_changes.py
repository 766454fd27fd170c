"""Pages that change a pitch or a client after the fact: ending a pitch with a reason,
reopening it, and editing a pitch's or a client's details."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for

from collective.clock import now_utc
from collective.members import pickers
from collective.members.forms import format_skills
from collective.money import format_plain
from collective.pool import clients as client_services
from collective.pool import pitches
from collective.pool.forms import ClientForm, PitchEditForm, ReasonedMoveForm, ReopenForm
from collective.pool.models import REOPENABLE_STATES, PitchState
from collective.pool.views.base import C, bp, form_version, refusal_status
from collective.pool.views.work import render_reasoned_move
from collective.web.forms import currency_error
from collective.web.scoping import collective_view
from collective.web.transaction import checked, committed


def _back(pitch_id: int):
    return redirect(url_for("pool.pitch", slug=g.collective.slug, pitch_id=pitch_id))


@bp.get("/pitches/<int:pitch_id>/end/<state>")
@collective_view(C)
def end_pitch(pitch_id: int, state: str):
    """Confirm marking a pitch lost or cancelling it, and ask why."""
    work = pitches.get_pitch(g.collective.id, pitch_id)
    if state not in {s.value for s in REOPENABLE_STATES}:
        abort(404)
    with checked() as allowed:
        pitches.check_move(work, PitchState(state))
    if not allowed:
        return _back(pitch_id)
    form = ReasonedMoveForm(prefix="move", formdata=None)
    form.state.data, form.version.data = state, str(work.version)
    return render_reasoned_move(work, form, state)


@bp.route("/pitches/<int:pitch_id>/reopen", methods=["GET", "POST"])
@collective_view(C)
def reopen_pitch(pitch_id: int):
    """Reopen a lost or cancelled pitch, saying why."""
    work = pitches.get_pitch(g.collective.id, pitch_id)
    form = ReopenForm(prefix="move")
    status = 200
    if request.method == "GET":
        with checked() as allowed:
            pitches.check_reopenable(work)
        if not allowed:
            return _back(pitch_id)
        form.version.data = str(work.version)
    elif form.validate_on_submit():
        with committed(form) as done:
            pitches.reopen_pitch(g.membership, work, reason=form.note.data or "",
                                 expected_version=form_version(form.version.data),
                                 at=now_utc())
        if done:
            flash(f"The pitch is reopened: it is {work.pitch_state.label} again.", "info")
            return _back(pitch_id)
        if done.error is not None and done.error.field == "state":
            return _back(pitch_id)  # not lost or cancelled (any more): flashed already
        status = refusal_status(done)
        work = pitches.get_pitch(g.collective.id, pitch_id)
    else:
        status = 422
    return render_reasoned_move(work, form, "reopen", status)


@bp.route("/pitches/<int:pitch_id>/edit", methods=["GET", "POST"])
@collective_view(C)
def edit_pitch(pitch_id: int):
    """Change a pitch's title, value, deadline, skills and description."""
    work = pitches.get_pitch(g.collective.id, pitch_id)
    form = PitchEditForm()
    status = 200
    if request.method == "GET":
        form.process(data={
            "title": work.title, "description": work.description,
            "required_skills": format_skills(work.required_skills),
            "estimated_hours": work.estimated_hours,
            "value": format_plain(work.value_amount, work.value_currency),
            "value_currency": work.value_currency, "deadline_on": work.deadline_on,
            "finder_id": work.finder_id or 0, "version": str(work.version)})
    pickers.offer_members(form.finder_id, g.collective, active_only=True)
    if work.finder_id and form.finder_id.data == work.finder_id \
            and work.finder_id not in dict(form.finder_id.choices):
        # A finder who is paused now stays choosable, so an edit need not change them.
        form.finder_id.choices.append((work.finder_id, work.finder.user.name))
    if request.method == "POST":
        status = 422
        if form.validate_on_submit() and not currency_error(form.value_currency):
            value = form.parsed_amount(form.value, form.value_currency.data)
            if value is not None:
                with committed(form) as done:
                    changes = pitches.edit_pitch(
                        g.membership, work, title=form.title.data,
                        description=form.description.data or "",
                        required_skills=form.parsed_skills,
                        estimated_hours=form.estimated_hours.data, value_amount=value,
                        value_currency=form.value_currency.data,
                        deadline_on=form.deadline_on.data,
                        finder_id=form.finder_id.data or None,
                        expected_version=form_version(form.version.data), today=g.today,
                        at=now_utc())
                if done:
                    flash("The changes are saved in the pitch's history." if changes
                          else "Nothing was changed.", "info")
                    return _back(pitch_id)
                status = refusal_status(done)
    return render_template("pool/edit_pitch.html", pitch=work, form=form), status


@bp.route("/clients/<int:client_id>/edit", methods=["GET", "POST"])
@collective_view(C)
def edit_client(client_id: int):
    """Change a client's name and contact details."""
    client = client_services.get_client(g.collective.id, client_id)
    form = ClientForm(obj=client if request.method == "GET" else None)
    status = 200
    if form.validate_on_submit():
        with committed(form) as done:
            client_services.edit_client(g.membership, client, name=form.name.data,
                                        country=form.country.data or "",
                                        contact=form.contact.data or "",
                                        notes=form.notes.data or "",
                                        billing=form.billing(),
                                        is_naming_allowed=form.is_naming_allowed.data)
        if done:
            flash(f"{client.name} is saved.", "info")
            return redirect(url_for("pool.clients", slug=g.collective.slug))
        status = 422
    elif request.method == "POST":
        status = 422
    return render_template("pool/edit_client.html", client=client, form=form), status

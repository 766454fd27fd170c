"""Pages of standards: the checklists and the deliveries waiting for a second member,
defining and editing a checklist, delivering work against its checklist, and a delivery
with its items."""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from collective.clock import now_utc
from collective.members.forms import ConfirmForm
from collective.members.models import Role
from collective.pool.models import PitchState
from collective.pool.pitches import get_pitch
from collective.pool.views.base import form_version, refusal_status
from collective.standards import checklists, queries
from collective.standards.forms import ChecklistForm, DeliverForm
from collective.web.forms import ascii_int, flash_form_errors
from collective.web.scoping import collective_view
from collective.web.transaction import committed

bp = Blueprint("standards", __name__, url_prefix="/c/<slug>/standards")
C = Role.COORDINATOR
#: The choice of delivering without a checklist.
NONE = 0


def _to(endpoint: str, **values):
    return redirect(url_for(endpoint, slug=g.collective.slug, **values))


@bp.get("/")
@collective_view()
def index():
    """The collective's delivery checklists, and deliveries waiting for a second member."""
    return render_template("standards/index.html",
                           checklists=checklists.checklists_of(g.collective.id),
                           waiting=queries.waiting_for_second(g.collective.id),
                           SECOND_MARK=checklists.SECOND_MARK)


@bp.route("/checklists/new", methods=["GET", "POST"])
@collective_view(C)
def new_checklist():
    """Define the checklist of a kind of work."""
    form = ChecklistForm()
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            with committed(form) as done:
                checklists.create_checklist(g.membership, kind=form.kind.data,
                                            items=checklists.parse_items(form.items.data))
            if done:
                flash(f"The checklist for {form.kind.data.strip()} is saved.", "info")
                return _to("standards.index")
    return render_template("standards/checklist.html", form=form, checklist=None), status


@bp.route("/checklists/<int:checklist_id>", methods=["GET", "POST"])
@collective_view(C)
def edit_checklist(checklist_id: int):
    """Change a checklist; deliveries already made keep the items they were checked by."""
    checklist = checklists.get_checklist(g.collective.id, checklist_id)
    form = ChecklistForm()
    status = 200
    if request.method == "GET":
        form.process(data={"kind": checklist.kind, "items": checklists.items_text(checklist),
                           "is_active": checklist.is_active})
    else:
        status = 422
        if form.validate_on_submit():
            with committed(form) as done:
                checklists.edit_checklist(g.membership, checklist, kind=form.kind.data,
                                          items=checklists.parse_items(form.items.data),
                                          is_active=form.is_active.data)
            if done:
                flash(f"The checklist for {checklist.kind} is saved.", "info")
                return _to("standards.index")
    return render_template("standards/checklist.html", form=form,
                           checklist=checklist), status


@bp.route("/pitches/<int:pitch_id>/deliver", methods=["GET", "POST"])
@collective_view(C)
def deliver(pitch_id: int):
    """Mark work delivered: choose its kind (`?checklist=`), tick its checklist's items."""
    work = get_pitch(g.collective.id, pitch_id)
    offered = checklists.checklists_of(g.collective.id, active_only=True)
    form = DeliverForm()
    form.checklist_id.choices = [(c.id, c.kind) for c in offered] + [
        (NONE, "Another kind (no checklist)")]
    if request.method == "GET":
        chosen = request.args.get("checklist", NONE, type=ascii_int)
        form.checklist_id.data = chosen if chosen in {c.id for c in offered} else (
            offered[0].id if len(offered) == 1 else None)
        form.version.data = str(work.version)
    checklist = next((c for c in offered if c.id == form.checklist_id.data), None)
    form.ticked.choices = [(i.position, i.label) for i in (checklist.items if checklist else [])
                           if not i.is_second_member]
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            with committed(form) as done:
                delivery = checklists.deliver_pitch(
                    g.membership, work, checklist_id=checklist.id if checklist else None,
                    ticked=set(form.ticked.data or ()),
                    expected_version=form_version(form.version.data),
                    note=form.note.data or "", today=g.today, at=now_utc())
            if done:
                if delivery is None:
                    flash("The work is delivered (no checklist).", "info")
                    return _to("pool.pitch", pitch_id=pitch_id)
                flash("The work is delivered." + (" Its checklist is met." if delivery.is_met
                      else " Its checklist is not met yet."), "info")
                return _to("standards.delivery", delivery_id=delivery.id)
            status = refusal_status(done)
        else:
            flash_form_errors(form)
    elif work.pitch_state != PitchState.IN_PROGRESS:
        flash(f"Only work in progress can be delivered; this is {work.pitch_state.label}.",
              "error")
        return _to("pool.pitch", pitch_id=pitch_id)
    return render_template("standards/deliver.html", pitch=work, form=form,
                           checklist=checklist, offered=offered, NONE=NONE), status


@bp.get("/deliveries/<int:delivery_id>")
@collective_view()
def delivery(delivery_id: int):
    """A delivery's checklist: what was ticked, what a second member confirmed."""
    found = checklists.get_delivery(g.collective.id, delivery_id)
    return render_template("standards/delivery.html", delivery=found,
                           pitch=get_pitch(g.collective.id, found.pitch_id),
                           items=queries.delivery_items(found),
                           confirm_form=ConfirmForm(prefix="confirm"))


@bp.get("/pitches/<int:pitch_id>/delivery")
@collective_view()
def pitch_delivery(pitch_id: int):
    """The delivery of a pitch; work delivered without a checklist goes back to its page,
    saying so."""
    get_pitch(g.collective.id, pitch_id)  # another collective's pitch: 404
    found = checklists.find_delivery(g.collective.id, pitch_id)
    if found is None:
        flash("This work was delivered without a checklist.", "info")
        return _to("pool.pitch", pitch_id=pitch_id)
    return _to("standards.delivery", delivery_id=found.id)


@bp.post("/deliveries/<int:delivery_id>/items/<int:item_id>/confirm")
@collective_view()
def confirm(delivery_id: int, item_id: int):
    """A second member confirms an item of a delivery."""
    found = checklists.get_delivery(g.collective.id, delivery_id)
    form = ConfirmForm(prefix="confirm")
    if not form.validate_on_submit():
        flash_form_errors(form)
        return _to("standards.delivery", delivery_id=delivery_id)
    with committed() as done:
        checklists.confirm_item(g.membership, found, item_id, at=now_utc())
    if done:
        flash("Confirmed." + (" The delivery meets its checklist." if found.is_met else ""),
              "info")
    return _to("standards.delivery", delivery_id=delivery_id)

"""Pages where members change their own part in the work: their time entries (until a
payment has used them) and their offers to volunteer."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from collective.clock import now_utc
from collective.members.forms import ConfirmForm
from collective.pool import participation, pitches, time
from collective.pool.forms import ReasonForm, TimeEntryForm
from collective.pool.views.base import act_then_redirect, bp
from collective.pool.views.work import _render_pitch
from collective.web.scoping import collective_view
from collective.web.transaction import committed


def hours_text(minutes: int) -> str:
    """Minutes as the hours a member would type: '1.5', or '1:20' where a decimal would
    not come to whole minutes."""
    if minutes % 15 == 0:
        return f"{minutes / 60:g}"
    return f"{minutes // 60}:{minutes % 60:02d}"


def _my_work() -> str:
    return url_for("pool.my_work", slug=g.collective.slug)


@bp.route("/my-work/entries/<int:entry_id>/edit", methods=["GET", "POST"])
@collective_view()
def edit_time_entry(entry_id: int):
    """Change the day, hours or note of one of your time entries no payment has used."""
    entry = time.get_time_entry(g.membership, entry_id)  # NotFound: a 404
    paid_by = time.paid_by(entry)
    form = TimeEntryForm()
    status = 200
    if request.method == "GET":
        form.worked_on.data = entry.worked_on
        form.hours.data = hours_text(entry.minutes)
        form.note.data = entry.note
    elif form.validate_on_submit():
        with committed(form) as done:
            time.edit_time_entry(g.membership, entry, worked_on=form.worked_on.data,
                                 minutes=time.parse_hours(form.hours.data),
                                 note=form.note.data or "", today=g.today)
        if done:
            flash("The time entry is changed.", "info")
            return redirect(_my_work())
        status = 409 if time.paid_by(entry) else 422
    else:
        status = 422
    return render_template("pool/time_entry.html", entry=entry, form=form, paid_by=paid_by,
                           deleting=False), status


@bp.route("/my-work/entries/<int:entry_id>/delete", methods=["GET", "POST"])
@collective_view()
def delete_time_entry(entry_id: int):
    """Ask, then delete one of your time entries no payment has used."""
    entry = time.get_time_entry(g.membership, entry_id)  # NotFound: a 404
    form = ConfirmForm()
    if request.method == "POST":
        return act_then_redirect(form, lambda: time.delete_time_entry(g.membership, entry),
                                 "The time entry is deleted.", _my_work())
    return render_template("pool/time_entry.html", entry=entry, form=form,
                           paid_by=time.paid_by(entry), deleting=True)


@bp.post("/pitches/<int:pitch_id>/withdraw")
@collective_view()
def withdraw_volunteering(pitch_id: int):
    """Take back your offer to work on an open pitch."""
    work = pitches.get_pitch(g.collective.id, pitch_id)
    form = ReasonForm(prefix="withdraw")
    if form.validate_on_submit():
        with committed(form) as done:
            participation.withdraw_volunteering(g.membership, work, form.memo.data or "",
                                                at=now_utc())
        if done:
            flash("Your offer to volunteer is withdrawn.", "info")
            return redirect(url_for("pool.pitch", slug=g.collective.slug, pitch_id=pitch_id))
    # The pitch page again, the reason as typed (the refusal beside it, or flashed).
    return _render_pitch(pitches.get_pitch(g.collective.id, pitch_id), withdraw_form=form), 422

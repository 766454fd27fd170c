"""The notification pages: a member's list in one collective with mark read (one and all),
their preferences, and the signed one-click unsubscribe (RFC 8058)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from collective.clock import now_utc
from collective.extensions import csrf
from collective.notifications import mailing, service
from collective.notifications.kinds import CHANNEL_LABELS, KINDS
from collective.web.scoping import collective_view
from collective.web.transaction import committed

bp = Blueprint("notifications", __name__)


def unread_for_menu() -> int:
    """The menu's unread count for the signed-in member here (one COUNT per page)."""
    if "unread_notifications" not in g:
        membership = g.get("membership")
        g.unread_notifications = (service.unread_count(membership.user_id,
                                                       membership.collective_id)
                                  if membership is not None else 0)
    return g.unread_notifications


@bp.get("/c/<slug>/notifications")
@collective_view()
def notifications():
    """The caller's own notifications in this collective, newest first."""
    return render_template("notifications/list.html", form=FlaskForm(),
                           notifications=service.notifications_of(current_user.id,
                                                                  g.collective.id))


@bp.post("/c/<slug>/notifications/<int:notification_id>/read")
@collective_view()
def mark_read(notification_id: int):
    """Mark one notification read, then open its page (`go`) or go back to the list."""
    form = FlaskForm()
    if form.validate_on_submit():
        with committed() as done:
            notification = service.mark_read(current_user.id, g.collective.id,
                                             notification_id, now_utc())
        if done.error is not None:
            abort(done.error.status, str(done.error))  # someone else's: not found
        if request.form.get("go") and notification.link.startswith("/"):
            return redirect(notification.link)
    return redirect(url_for("notifications.notifications", slug=g.collective.slug))


@bp.post("/c/<slug>/notifications/read")
@collective_view()
def mark_all_read():
    form = FlaskForm()
    if form.validate_on_submit():
        with committed() as done:
            count = service.mark_all_read(current_user.id, g.collective.id, now_utc())
        if done:
            flash(f"{count} notification{'' if count == 1 else 's'} marked read.", "info")
    return redirect(url_for("notifications.notifications", slug=g.collective.slug))


@bp.route("/c/<slug>/notifications/settings", methods=["GET", "POST"])
@collective_view()
def preferences():
    """How each kind reaches the caller (their account's choice, in every collective)."""
    form = FlaskForm()
    chosen = service.preferences(current_user.id)
    if form.validate_on_submit():
        wanted = {kind: request.form.get(kind.value, chosen[kind]) for kind in KINDS}
        with committed(form) as done:
            for kind, channel in wanted.items():
                if channel != chosen[kind]:
                    service.set_preference(current_user.id, kind, channel)
        if done:
            flash("Your notification choices are saved.", "info")
            return redirect(url_for("notifications.preferences", slug=g.collective.slug))
        chosen = {kind: wanted[kind] for kind in KINDS}
    return render_template("notifications/preferences.html", form=form, chosen=chosen,
                           kinds=KINDS, channels=CHANNEL_LABELS)


def _token_or_404(token: str) -> tuple[int, str]:
    found = mailing.read_unsubscribe_token(token)
    if found is None:
        abort(404, "This unsubscribe link is not valid: it may have been changed or cut "
                   "short. Sign in to choose your notifications.")
    return found


@bp.get("/notifications/unsubscribe/<token>")
def unsubscribe_page(token: str):
    """Say what the link stops, with a button; a GET changes nothing."""
    _, kind = _token_or_404(token)
    what = ("the daily digest" if kind == mailing.DIGEST
            else f"e-mail about: {KINDS[kind][0].lower()}")
    return render_template("notifications/unsubscribe.html", what=what, done=False)


@bp.post("/notifications/unsubscribe/<token>")
@csrf.exempt  # RFC 8058: the mail client posts 'List-Unsubscribe=One-Click', no session
def unsubscribe(token: str):
    """Stop e-mail for the token's kind (it stays in the app): the signature is the proof."""
    user_id, kind = _token_or_404(token)
    with committed() as done:
        service.unsubscribe(user_id, kind)
    if not done:
        abort(400)
    what = "the daily digest" if kind == mailing.DIGEST else KINDS[kind][0].lower()
    return render_template("notifications/unsubscribe.html", what=what, done=True)


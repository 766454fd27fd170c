"""/me: a signed-in person's home across all their collectives."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from collective.clock import now_utc, today_in
from collective.home import queries
from collective.home.forms import WeekSettingsForm
from collective.members import accounts
from collective.members.services import memberships_of
from collective.web.forms import currency_error
from collective.web.transaction import committed

bp = Blueprint("home", __name__)


@bp.get("/me")
@login_required
def me():
    """Your week, earnings, votes waiting and open claims across all your collectives."""
    user = current_user._get_current_object()
    form = WeekSettingsForm(obj=user)
    return _render(form)


@bp.post("/me/settings")
@login_required
def settings():
    """Save your week, your currency and how coordinators see your other work."""
    form = WeekSettingsForm()
    valid = form.validate_on_submit()
    # Checked whatever the rest says, so that every wrong field is named at once.
    bad_currency = bool(form.display_currency.data) and currency_error(form.display_currency)
    if valid and not bad_currency:
        with committed(form) as done:
            accounts.update_week_settings(
                current_user, weekly_capacity_hours=form.weekly_capacity_hours.data,
                display_currency=form.display_currency.data or None,
                is_other_work_private=form.is_other_work_private.data)
        if done:
            flash("Your settings are saved.", "info")
            return redirect(url_for("home.me"))
    return _render(form, 422)


def _render(form: WeekSettingsForm, status: int = 200):
    user = current_user._get_current_object()
    memberships = memberships_of(user)
    today = today_in(user.timezone)
    week = queries.week(user, memberships, today)
    earnings = queries.earnings(user, memberships, today)
    slugs = {m.id: m.collective for m in memberships}
    return render_template(
        "home/me.html", form=form, memberships=memberships, week=week, earnings=earnings,
        collective_of=slugs, today=today,
        votes=queries.votes_waiting(memberships, now_utc()),
        claims=queries.open_claims(memberships, today),
        WORK_SHOWN=queries.WORK_SHOWN, VOTES_SHOWN=queries.VOTES_SHOWN,
        CLAIMS_SHOWN=queries.CLAIMS_SHOWN, is_post=request.method == "POST"), status

"""The profile's tokens page: make, name and revoke personal access tokens for the API. A
new token's secret is shown on the page that made it, once (never flashed: a flash rides
in the session cookie)."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from collective.api import tokens
from collective.clock import now_utc, zone
from collective.extensions import limiter
from collective.members.forms import ConfirmForm
from collective.members.services import memberships_of
from collective.web.limits import rate, signed_in_account
from collective.web.transaction import committed

bp = Blueprint("api_tokens", __name__)


class TokenForm(FlaskForm):
    """A new token: its name, and what it may reach."""

    name = StringField("Name", validators=[DataRequired(), Length(max=tokens.NAME_LENGTH)],
                       description="What it is for, e.g. “bookkeeping sync”.")
    collective = SelectField("Collective", choices=[], default="",
                             description="Limit it to one collective, or let it reach all of "
                                         "yours.")
    read_only = BooleanField("Read-only (it may read, never change anything)")
    expires_on = DateField("Expires after", validators=[Optional()],
                           description="Leave empty for a token that does not expire.")


def _expiry(day, timezone: str) -> datetime | None:
    """The end of `day` in the person's timezone."""
    if day is None:
        return None
    try:
        return datetime.combine(day + timedelta(days=1), time(), zone(timezone))
    except OverflowError:
        return datetime.max.replace(tzinfo=zone("UTC"))


def _token_form(**kwargs) -> TokenForm:
    """The form, offering the person's collectives."""
    form = TokenForm(**kwargs)
    form.collective.choices = [("", "All my collectives")] + [
        (m.collective.slug, m.collective.name) for m in memberships_of(current_user)]
    return form


def _page(form: TokenForm, secret: str | None = None, status: int = 200):
    return render_template("api/tokens.html", form=form, secret=secret,
                           tokens=tokens.tokens_of(current_user), now=now_utc(),
                           revoke_form=ConfirmForm()), status


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
@limiter.limit(rate("token_create_per_account"), key_func=signed_in_account, methods=["POST"])
@limiter.limit(rate("token_create_per_ip"), methods=["POST"])
def tokens_page():
    """Your API tokens: make one (its secret shown once), see and revoke the others."""
    form = _token_form()
    if form.validate_on_submit():
        with committed(form, aliases={"expires_at": "expires_on"}) as done:
            _token, secret = tokens.create_token(
                current_user, name=form.name.data, collective_slug=form.collective.data or None,
                is_read_only=form.read_only.data,
                expires_at=_expiry(form.expires_on.data, current_user.timezone), now=now_utc())
        if done:
            return _page(_token_form(formdata=None), secret=secret, status=201)
    return _page(form, status=422 if form.errors else 200)


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke(token_id: int):
    """Revoke one of your tokens: requests with it are refused from now on."""
    form = ConfirmForm()
    if form.validate_on_submit():
        with committed() as done:
            token = tokens.revoke_token(current_user, token_id, now=now_utc())
        if done:
            flash(f"The token “{token.name}” is revoked.", "info")
    return redirect(url_for("api_tokens.tokens_page"))

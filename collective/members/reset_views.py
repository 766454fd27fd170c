"""Pages for a forgotten password: ask for a link, check your mail, set a new password.

The answer to a request is the same whether or not the address has an account; only a
client that asks too often is told to try again later."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import login_user

from collective.clock import now_utc
from collective.extensions import limiter
from collective.members import resets
from collective.members.forms import ForgotPasswordForm, ResetPasswordForm
from collective.web.limits import link_token, rate
from collective.web.transaction import checked, committed

bp = Blueprint("password", __name__)


def _reset_link(token: str) -> str:
    return url_for("password.reset", token=token, _external=True)


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(rate("forgot_per_ip"), methods=["POST"])
def forgot():
    """Ask for a link to set a new password."""
    form = ForgotPasswordForm(email=request.args.get("email", ""))
    if form.validate_on_submit():
        with committed() as done:
            resets.request_password_reset(form.email.data, request.remote_addr or "",
                                          now_utc(), _reset_link)
        if not done:  # the only refusal: too many requests from this client
            return render_template("members/forgot.html", form=form), 429
        return redirect(url_for("password.sent"))
    status = 422 if request.method == "POST" else 200
    return render_template("members/forgot.html", form=form), status


@bp.get("/password/sent")
def sent():
    """What happens next: the same words whether or not an account exists."""
    return render_template("members/reset_sent.html")


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit(rate("token_link_per_ip"))
@limiter.limit(rate("token_link_per_token"), key_func=link_token, methods=["POST"])
def reset(token: str):
    """Set a new password through a mailed link; other sessions are signed out."""
    form = ResetPasswordForm()
    now = now_utc()
    with checked() as usable:
        resets.user_for_token(token, now)
    if not usable:
        # The reason (expired, used, not ours) is flashed by `checked`.
        return render_template("members/reset_invalid.html"), usable.error.status
    if form.validate_on_submit():
        with committed(form) as done:
            user = resets.reset_password(token, form.password.data, now)
        if done:
            session.clear()
            login_user(user)
            flash("Your new password is set, and you are signed in. Every other device "
                  "was signed out.", "info")
            return redirect(url_for("members.collectives"))
    status = 422 if request.method == "POST" else 200
    return render_template("members/reset.html", form=form), status

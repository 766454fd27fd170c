"""Pages for confirming an e-mail address: follow a mailed link, ask for it again, change the
address (a link to the new one; the old one is told), and the pages that say what happens.

Following a link shows a page with a button: the address is confirmed (or changed) by that
POST, since no GET writes."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from collective.clock import now_utc
from collective.extensions import limiter
from collective.members import accounts, confirmations
from collective.members.forms import ConfirmForm, EmailChangeForm, ProfileForm, format_skills
from collective.web.limits import link_token, rate
from collective.web.transaction import checked, committed

bp = Blueprint("email", __name__)


def confirmation_link(token: str) -> str:
    """The absolute URL of a confirmation link (mailed)."""
    return url_for("email.confirm", token=token, _external=True)


@bp.route("/email/confirm/<token>", methods=["GET", "POST"])
@limiter.limit(rate("token_link_per_ip"))
@limiter.limit(rate("token_link_per_token"), key_func=link_token, methods=["POST"])
def confirm(token: str):
    """A mailed link: see the address, and confirm it (a change applies now)."""
    form = ConfirmForm()
    now = now_utc()
    with checked() as usable:  # the reason (expired, used, not ours) is flashed
        user, address = confirmations.check_token(token, now)
    if not usable:
        return render_template("members/email_invalid.html"), usable.error.status
    if form.validate_on_submit():
        with committed() as done:
            user = confirmations.confirm_address(token, now)
        if done:
            session.pop("email_change_to", None)
            flash(f"Thank you: {user.email} is confirmed as the address of your account.",
                  "info")
            if current_user.is_authenticated:
                return redirect(url_for("members.collectives"))
            return redirect(url_for("members.login"))
        return render_template("members/email_invalid.html"), 409
    return render_template("members/email_confirm.html", form=form, user=user,
                           address=address, change=address != user.email)


@bp.post("/account/email/resend")
@login_required
def resend():
    """Send the confirmation link again (the same answer whether or not one was sent)."""
    form = ConfirmForm()
    if accounts.email_confirmed(current_user):
        flash(f"{current_user.email} is confirmed already.", "info")
    elif form.validate_on_submit():
        with committed() as done:
            confirmations.resend_confirmation(current_user, request.remote_addr or "",
                                              now_utc(), confirmation_link)
        if not done:  # too many requests from this client: flashed by `committed`
            return _profile_page(EmailChangeForm(), 429)
        flash(confirmations.RESENT.format(email=current_user.email), "info")
    return redirect(url_for("members.profile")), 303


@bp.post("/account/email")
@login_required
def change():
    """Ask to change your address: a link goes to the new one, a notice to the old one."""
    email_form = EmailChangeForm()
    if email_form.validate_on_submit():
        with committed(email_form) as done:
            address = confirmations.request_email_change(
                current_user, email_form.email.data, email_form.current_password.data,
                request.remote_addr or "", now_utc(), confirmation_link)
        if done:
            session["email_change_to"] = address
            return redirect(url_for("email.change_sent"))
    return _profile_page(email_form, 422)


def _profile_page(email_form: EmailChangeForm, status: int):
    form = ProfileForm(formdata=None, obj=current_user)  # not the posted e-mail form's data
    form.skills.data = format_skills(current_user.skills)
    return render_template("members/profile.html", form=form, email_form=email_form), status


@bp.get("/account/email/sent")
@login_required
def change_sent():
    """Check your new address: the change applies when its link is followed."""
    return render_template("members/email_sent.html", address=session.get("email_change_to"))

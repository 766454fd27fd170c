"""The mail pages: /dev/mail (development only: the .eml files the delivery job wrote),
the treasurers' list of failed messages, and the banner that tells treasurers mail is not
going out."""
from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    url_for,
)
from flask_login import login_required
from flask_wtf import FlaskForm

from collective.clock import now_utc
from collective.mail import mail_is_configured, outbox
from collective.mail.transports import EML_NAME, mail_folder
from collective.roles import Role
from collective.web.scoping import collective_view
from collective.web.transaction import committed

bp = Blueprint("mail", __name__)

#: The newest messages /dev/mail lists.
DEV_LIST_LIMIT = 200


def _development_only() -> Path:
    if current_app.config["COLLECTIVE_ENV"] != "development":
        abort(404)
    return mail_folder(current_app.config, current_app.instance_path)


def _read(path: Path) -> EmailMessage:
    with path.open("rb") as handle:
        return BytesParser(policy=policy.default).parse(handle)


@bp.get("/dev/mail")
@login_required
def dev_mail():
    """Development: the messages written to instance/mail/, newest first."""
    folder = _development_only()
    paths = sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True) \
        if folder.is_dir() else []
    messages = [(path.name, _read(path)) for path in paths[:DEV_LIST_LIMIT]]
    return render_template("mail/dev_list.html", messages=messages, folder=folder,
                           total=len(paths))


@bp.get("/dev/mail/<name>")
@login_required
def dev_message(name: str):
    """Development: one written message, its text with clickable links and its HTML."""
    folder = _development_only()
    path = folder / name
    if not EML_NAME.fullmatch(name) or not path.is_file():
        abort(404)
    message = _read(path)
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    return render_template("mail/dev_message.html", name=name, message=message,
                           text=text.get_content() if text else "",
                           html=html.get_content() if html else "")


@bp.get("/c/<slug>/mail")
@collective_view(Role.TREASURER)
def failed_mail():
    """Treasurers: the collective's messages that could not be delivered."""
    return render_template("mail/failed.html", failed=outbox.failed_messages(g.collective.id),
                           form=FlaskForm())


@bp.post("/c/<slug>/mail/<int:message_id>/retry")
@collective_view(Role.TREASURER)
def retry_mail(message_id: int):
    """Treasurers: put a failed message back in the queue (same Message-ID)."""
    form = FlaskForm()
    if form.validate_on_submit():
        with committed() as done:
            message = outbox.retry_failed(g.collective.id, message_id, now_utc())
        if done:
            flash(f"The message to {message.recipient} will be sent again within a minute.",
                  "info")
    return redirect(url_for("mail.failed_mail", slug=g.collective.slug))


def mail_banner_context() -> dict:
    """For a treasurer on one of their collective's pages: whether mail is not configured
    (production) and how many of the collective's messages failed."""
    membership = g.get("membership")
    if membership is None or not membership.has_role(Role.TREASURER):
        return {}
    unconfigured = (current_app.config["COLLECTIVE_ENV"] == "production"
                    and not mail_is_configured(current_app.config))
    return {"mail_banner": {"unconfigured": unconfigured,
                            "waiting": outbox.pending_count(g.collective.id)
                            if unconfigured else 0,
                            "failed": outbox.failed_count(g.collective.id)}}

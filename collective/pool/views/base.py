"""What the pool's pages share: the blueprint, form field aliases and the one-button form."""
from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, redirect
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from collective.members.models import Role
from collective.web.forms import flash_form_errors
from collective.web.transaction import Outcome, committed

bp = Blueprint("pool", __name__, url_prefix="/c/<slug>/pool")
C, T = Role.COORDINATOR, Role.TREASURER

#: Service field names that a form calls otherwise.
FIELD_ALIASES = {"common_fund_bp": "common_fund", "finder_fee_bp": "finder_fee"}


def form_version(value: str | None) -> int:
    """The pitch version a form was made from; a damaged one never matches (a conflict)."""
    if not (value or "").isascii():
        return -1
    try:
        return int(value or "")
    except ValueError:
        return -1


def refusal_status(outcome: Outcome, *, flashed: bool = False) -> int:
    """409 when the form was made from a stale pitch (said in a flash, as its version field
    is hidden, unless the refusal was `flashed` already), else 422."""
    if outcome.error is not None and outcome.error.field == "version":
        if not flashed:
            flash(outcome.error.message, "error")
        return 409
    return 422


def act_then_redirect(form: FlaskForm, act: Callable[[], object], message: str,
                      back: str) -> Response:
    """A one-button form: run `act` in the request transaction when the form is valid,
    flash `message` once it is committed (or the refusal, or why the form was refused), and
    go back to `back`."""
    if not form.validate_on_submit():
        flash_form_errors(form)
        return redirect(back)
    with committed() as done:
        act()
    if done:
        flash(message, "info")
    return redirect(back)


"""The web edge shared by every blueprint: collective scoping, role checks, form errors."""
from __future__ import annotations

import functools
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import abort, flash, g
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from collective.errors import DomainError
from collective.members.models import Role
from collective.members.services import membership_in

#: The largest id a URL or form may name (a PostgreSQL integer).
MAX_ID = 2**31 - 1


def valid_id(value: object) -> bool:
    """True for an int that can be a row id."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def collective_view(*roles: Role) -> Callable:
    """Decorate a view under /c/<slug>/: sign-in required, 404 unless a member, 403 without role.

    Sets g.collective and g.membership for the view and its templates.
    """

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        @login_required
        def wrapped(slug: str, **kwargs):
            membership = membership_in(current_user.id, slug)
            if membership is None:
                abort(404)
            g.membership = membership
            g.collective = membership.collective
            if roles and not membership.has_role(*roles):
                abort(403)
            return view(**kwargs)

        wrapped.required_roles = roles  # read by the route-coverage tests
        return wrapped

    return decorator


def show_domain_error(form: FlaskForm | None, exc: DomainError,
                      aliases: dict[str, str] | None = None) -> None:
    """Attach a domain error to the form field it names (or its alias), or flash it."""
    name = (aliases or {}).get(exc.field, exc.field)
    field = getattr(form, name, None) if form is not None and name else None
    if field is not None:
        field.errors = [*field.errors, exc.message]
    else:
        flash(exc.message, "error")


def is_safe_next(target: str | None) -> bool:
    """True for a local path such as '/c/demo/'; False for other hosts or odd schemes."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


#: kind -> function(proposal) returning (template, context) for the kind's own details.
PROPOSAL_DETAILS: dict[str, Callable] = {}


def register_proposal_details(kind: str, details: Callable) -> None:
    """Let the package that owns a kind of proposal show what it would change."""
    PROPOSAL_DETAILS[kind] = details

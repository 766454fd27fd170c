"""`collective_view`: every page under /c/<slug>/ is one collective's, for its members only.

The lookup of the caller's membership belongs to the members package, which registers it
with `register_membership_lookup` from the app factory, so this module imports no domain.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import abort, g
from flask_login import current_user, login_required

from collective.clock import month_start, today_in

#: (user_id, slug) -> the caller's membership there, or None.
_lookup: Callable[[int, str], Any] | None = None


def register_membership_lookup(lookup: Callable[[int, str], Any]) -> None:
    """Say how to find a signed-in user's membership in the collective with a slug."""
    global _lookup
    _lookup = lookup


def collective_view(*roles: str) -> Callable:
    """Decorate a view under /c/<slug>/: sign-in required, 404 unless a member, 403 without
    one of `roles`.

    Sets g.membership and g.collective, and g.today and g.this_month in the collective's
    own timezone, for the view and its templates.
    """

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        @login_required
        def wrapped(slug: str, **kwargs):
            if _lookup is None:
                raise RuntimeError("no membership lookup is registered")
            membership = _lookup(current_user.id, slug)
            if membership is None:
                abort(404)
            g.membership = membership
            g.collective = membership.collective
            g.today = today_in(g.collective.timezone)
            g.this_month = month_start(g.today)
            if roles and not membership.has_role(*roles):
                abort(403)
            return view(**kwargs)

        wrapped.required_roles = roles  # read by the route-coverage tests
        return wrapped

    return decorator

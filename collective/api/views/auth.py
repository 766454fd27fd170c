"""Who is calling the API, and in which collective.

A request carries `Authorization: Bearer col_...` (a personal access token), or the session
cookie of a signed-in person (the browsable docs). A token request needs no CSRF token: it
sends no cookie a browser would attach on its own. A session request that writes must carry
the page's CSRF token (X-CSRFToken), as every form does. An unknown, revoked or expired
token is a 401; a read-only token that writes is a 403.

`scoped(*roles)` then finds the caller's membership in the collective of the URL's slug: none
(or a token limited to another collective) is a 404, a missing role a 403."""
from __future__ import annotations

import functools
from collections.abc import Callable

from flask import g, request
from flask_login import current_user

from collective import audit
from collective.api import tokens
from collective.api.errors import ApiProblem
from collective.clock import month_start, now_utc, today_in
from collective.database import READ_METHODS
from collective.extensions import csrf, db
from collective.members.models import User
from collective.members.services import membership_in
from collective.transactions import transaction

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="collective"'}


def bearer_secret() -> str | None:
    """The token a request's Authorization header carries, or None without the header."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, secret = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise ApiProblem(401, "send the token as 'Authorization: Bearer col_...'",
                         headers=CHALLENGE)
    return secret.strip()


def authenticate() -> None:
    """Set g.api_user and g.api_token (None for a session) for an /api/v1 request, or
    refuse it."""
    secret = bearer_secret()
    if secret is not None:
        now = now_utc()
        token = tokens.find_token(secret)
        if token is None or not token.is_usable(now):
            what = "expired" if token is not None and token.revoked_at is None else \
                "revoked" if token is not None else "not known"
            raise ApiProblem(401, f"this token is {what}", headers=CHALLENGE)
        g.api_token, g.api_user = token, token.user
        audit.act_as(token.user_id)  # what the request records is the token user's doing
        if tokens.use_is_due(token, now):
            token_id = token.id
            # Let the read go first: on SQLite a read that turns into a write fails when
            # another write committed since it began; a transaction that starts with the
            # write waits its turn instead.
            db.session.rollback()
            with transaction():
                tokens.record_use(token_id, now)
        return
    if not current_user.is_authenticated:
        raise ApiProblem(401, "send a token: 'Authorization: Bearer col_...'",
                         headers=CHALLENGE)
    if request.method not in READ_METHODS:
        csrf.protect()  # a CSRFError is a 400 naming the missing CSRF token
    g.api_token, g.api_user = None, current_user._get_current_object()


def caller() -> User:
    """The person the request acts for."""
    return g.api_user


def scoped(*roles: str) -> Callable:
    """Decorate a view under /api/v1/collectives/<slug>/: 404 unless the caller is a member
    there (and the token may reach it), 403 without one of `roles`, and 403 for a read-only
    token that writes. Sets g.membership, g.collective, g.today and g.this_month."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args, slug: str, **kwargs):
            membership = membership_in(caller().id, slug)
            token = g.api_token
            if membership is None or (token is not None and token.collective_id is not None
                                      and token.collective_id != membership.collective_id):
                raise ApiProblem(404, "no such collective of yours")
            if roles and not membership.has_role(*roles):
                raise ApiProblem(403, f"this needs the role of {' or '.join(roles)}")
            if token is not None and token.is_read_only and request.method not in READ_METHODS:
                raise ApiProblem(403, "this token is read-only")
            g.membership, g.collective = membership, membership.collective
            g.today = today_in(g.collective.timezone)
            g.this_month = month_start(g.today)
            return view(*args, **kwargs)

        wrapped.required_roles = roles  # read by the route-coverage tests
        return wrapped

    return decorator

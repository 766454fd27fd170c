"""Password reset: a signed, single-use link that lasts an hour, mailed through the outbox.

The link carries the user's id, when it expires, and a digest of the current password
hash, signed with the app's secret key (itsdangerous). Setting a new password changes the
hash, so a used link stops working, and so does every other session (User.get_id carries a
digest of the hash too). Requests are limited per address and per IP, counted in the
database so every process sees them, and the answer never says whether an account exists.
Flush, never commit; `now` comes from the caller.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from collective import audit
from collective.errors import DomainError
from collective.extensions import db
from collective.mail.outbox import queue_mail
from collective.members.accounts import check_new_password, normalise_email, password_method
from collective.members.limits import TooManyRequests, let_through
from collective.members.models import PasswordResetRequest, User

__all__ = ["InvalidResetLink", "TooManyRequests", "make_reset_token", "request_password_reset",
           "reset_password", "user_for_token"]

LINK_LIFETIME = timedelta(hours=1)
_SALT = "password-reset"


class InvalidResetLink(DomainError):
    """A reset link that is expired, already used (or the password changed since), or not
    one we made."""

    status = 400


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def _password_digest(user: User) -> str:
    return hashlib.sha256(f"reset:{user.password_hash}".encode()).hexdigest()[:24]


def make_reset_token(user: User, now: datetime) -> str:
    """A signed token for `user`, valid for LINK_LIFETIME from `now` and until the password
    changes."""
    expires = int((now + LINK_LIFETIME).timestamp())
    return _serializer().dumps({"u": user.id, "p": _password_digest(user), "e": expires})


def user_for_token(token: str, now: datetime) -> User:
    """The user a reset token is for, if it can still be used at `now`; else
    InvalidResetLink saying why."""
    try:
        data = _serializer().loads(token or "")
    except BadSignature:
        data = None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), t) for k, t in
                                             (("u", int), ("p", str), ("e", int))):
        raise InvalidResetLink("this link is not one we sent, or it was cut short; "
                               "ask for a new one")
    user = db.session.get(User, data["u"])
    if user is None or data["p"] != _password_digest(user):
        raise InvalidResetLink("this link has been used already (or the password was changed "
                               "since it was sent); ask for a new one if you need it")
    if now.timestamp() >= data["e"]:
        raise InvalidResetLink("this link has expired: a link works for one hour; "
                               "ask for a new one")
    return user


def request_password_reset(email: str, ip: str, now: datetime,
                           link_for: Callable[[str], str]) -> PasswordResetRequest | None:
    """Note the request and, when the address has an account and has not asked too often,
    queue the mail with the link (`link_for(token)` makes the URL). The request if it was let
    through, None if the address had asked too often: the caller answers the same either way.
    Too many requests from one IP raise TooManyRequests. A request for an account is in its
    audit log (with no actor: whoever asked is not signed in as it)."""
    request = let_through(PasswordResetRequest, email, ip, now)
    if request is None:
        return None
    user = db.session.scalar(sa.select(User).filter_by(email=normalise_email(email)))
    if user is not None:
        queue_mail(event_key=f"password-reset:{request.id}", to=user.email, user_id=user.id,
                   subject="Set a new password for Collective", template="password_reset",
                   context={"name": user.name, "email": user.email,
                            "link": link_for(make_reset_token(user, now))}, now=now)
        audit.record("account.password_reset_requested", subject=user, actor=None)
    return request


def reset_password(token: str, password: str, now: datetime) -> User:
    """Set a new password through a reset link; the link then stops working, and every
    session of the user ends (the caller may sign this one in again)."""
    user = user_for_token(token, now)
    check_new_password(password)
    user.set_password(password, password_method())
    db.session.flush()
    audit.record("account.password_reset", subject=user, actor=user)
    return user

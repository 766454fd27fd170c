"""Confirming an account's e-mail address, and changing it, by a signed link that lasts 48
hours, mailed through the outbox.

A link carries the account's id, the address it confirms, when it expires, and a digest of
the account's address and confirmation state when it was made, signed with the app's secret
key (itsdangerous); the digest covers the password hash too, so a new password stops every
link made before. Following it sets the address (for a change, the new one) and marks it
confirmed, which changes that state, so the link works once. A new account is mailed its link
at registration; more can be asked for (sent again, or a change of address), limited per
address and per IP like password resets, counted in the database. Flush, never commit; `now`
comes from the caller.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from collective import audit
from collective.errors import Conflict, DomainError
from collective.extensions import db
from collective.mail.outbox import check_address, queue_mail
from collective.members.accounts import email_confirmed
from collective.members.limits import let_through
from collective.members.models import EmailConfirmationRequest, User

LINK_LIFETIME = timedelta(hours=48)
_SALT = "email-confirmation"

#: The signed-in person may ask for a link to be sent again: what they are told, whatever
#: happened (sent, or held back because the address asked too often).
RESENT = ("A new link is on its way to {email}. It can take a few minutes; if nothing "
          "arrives, look in the spam folder (at most 3 links an hour are sent).")


class InvalidConfirmationLink(DomainError):
    """A confirmation link that is expired, already used, or not one we made."""

    status = 400


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def _state_digest(user: User) -> str:
    """A digest of the account's address, whether (and when) it was confirmed, and its
    password hash: confirming or changing the address changes it, so each link works once,
    and a new password stops every link made before (a change someone else asked for)."""
    confirmed = user.email_confirmed_at
    stamp = int(confirmed.timestamp()) if confirmed is not None else ""
    state = f"confirm:{user.email}:{stamp}:{user.password_hash}"
    return hashlib.sha256(state.encode()).hexdigest()[:24]


def make_confirmation_token(user: User, address: str, now: datetime) -> str:
    """A signed token that confirms `address` for `user`, valid for LINK_LIFETIME from `now`
    and until the account's address or its confirmation changes."""
    expires = int((now + LINK_LIFETIME).timestamp())
    return _serializer().dumps({"u": user.id, "a": address, "s": _state_digest(user),
                                "e": expires})


def check_token(token: str, now: datetime) -> tuple[User, str]:
    """The account and the address a token confirms, if it can still be used at `now`;
    else InvalidConfirmationLink saying why."""
    try:
        data = _serializer().loads(token or "")
    except BadSignature:
        data = None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), t) for k, t in
                                             (("u", int), ("a", str), ("s", str), ("e", int))):
        raise InvalidConfirmationLink("this link is not one we sent, or it was cut short; "
                                      "ask for a new one")
    user = db.session.get(User, data["u"])
    if user is None or data["s"] != _state_digest(user):
        if user is not None and user.email == data["a"] and email_confirmed(user):
            raise InvalidConfirmationLink(f"this link has been used already: {user.email} "
                                          "is confirmed")
        raise InvalidConfirmationLink("this link has been used already (or the address or "
                                      "the password was changed since it was sent); ask for "
                                      "a new one if you need it")
    if now.timestamp() >= data["e"]:
        raise InvalidConfirmationLink("this link has expired: a link works for 48 hours; "
                                      "ask for a new one")
    return user, data["a"]


def _taken_by_another(user: User, address: str) -> bool:
    return db.session.scalar(
        sa.select(User.id).where(User.email == address, User.id != user.id)) is not None


def confirm_address(token: str, now: datetime) -> User:
    """Follow a link: the account's address becomes the one it confirms (a change applies
    only now), confirmed at `now`. The link then stops working."""
    user, address = check_token(token, now)
    if _taken_by_another(user, address):
        raise Conflict(f"{address} belongs to another account now, so it cannot become "
                       "yours; change your address to another one")
    before = user.email
    user.email = address
    user.email_confirmed_at = now
    db.session.flush()
    if before != address:
        audit.record("account.email_changed", subject=user, actor=user, before=before,
                     after=address)
    return user


def _queue_link(user: User, address: str, event_key: str, now: datetime,
                link_for: Callable[[str], str], *, change: bool) -> None:
    link = link_for(make_confirmation_token(user, address, now))
    queue_mail(event_key=event_key, to=address, user_id=user.id, now=now,
               subject=("Confirm your new e-mail address for Collective" if change
                        else "Confirm your e-mail address for Collective"),
               template="email_confirm",
               context={"name": user.name, "email": address, "link": link, "change": change})


def send_confirmation(user: User, now: datetime, link_for: Callable[[str], str]) -> None:
    """Queue the link that confirms a new account's address (at registration)."""
    _queue_link(user, user.email, f"email-confirm:registered:{user.id}", now, link_for,
                change=False)


def resend_confirmation(user: User, ip: str, now: datetime,
                        link_for: Callable[[str], str]) -> bool:
    """Queue a new link for an unconfirmed address, unless it has asked too often: True if
    one was queued (the caller says the same either way). Too many requests from one IP
    raise TooManyRequests."""
    if email_confirmed(user):
        return False
    request = let_through(EmailConfirmationRequest, user.email, ip, now)
    if request is None:
        return False
    _queue_link(user, user.email, f"email-confirm:{request.id}", now, link_for, change=False)
    return True


def request_email_change(user: User, new_email: str, password: str, ip: str, now: datetime,
                         link_for: Callable[[str], str]) -> str:
    """Ask to change the account's address: after checking the password and the new address,
    queue a link to the new address (the change applies when it is followed) and, when the
    current address is confirmed, tell it that a change was asked for. The new address."""
    if not user.check_password(password or ""):
        raise DomainError("the current password is not right", field="current_password")
    address = check_address(new_email)
    if address == user.email:
        raise DomainError("this is your address already", field="email")
    if _taken_by_another(user, address):
        # What the registration form says too: no more, no less.
        raise Conflict("an account with this e-mail already exists", field="email")
    request = let_through(EmailConfirmationRequest, address, ip, now)
    if request is None:
        raise DomainError("this address has been sent 3 links in the last hour; wait a "
                          "while, then ask again", field="email")
    _queue_link(user, address, f"email-change:{request.id}", now, link_for, change=True)
    if email_confirmed(user):
        queue_mail(event_key=f"email-change-notice:{request.id}", to=user.email,
                   user_id=user.id, now=now, template="email_change_notice",
                   subject="Your Collective account's e-mail address is being changed",
                   context={"name": user.name, "email": user.email, "new": address})
    return address


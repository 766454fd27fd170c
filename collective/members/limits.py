"""How often an address, or a client, may ask for a mailed link (a password reset, a
confirmation): one rule for both, counted in their own request tables so it holds across
processes. Flush, never commit; `now` comes from the caller."""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import sqlalchemy as sa

from collective.errors import DomainError
from collective.extensions import db
from collective.members.accounts import normalise_email

#: Requests let through per address, and per IP, within WINDOW.
PER_ADDRESS = 3
PER_IP = 20
WINDOW = timedelta(hours=1)
#: Rows older than this are deleted as new requests come in.
KEPT = 24 * WINDOW


class TooManyRequests(DomainError):
    """Too many requests from one client: try again later."""

    status = 429


def email_hash(email: str) -> str:
    """SHA-256 of the address as typed, trimmed and lower-cased (kept instead of it)."""
    return hashlib.sha256(normalise_email(email).encode()).hexdigest()


def let_through(model, address: str, ip: str, now: datetime):
    """Note a request for a link to `address` from `ip` in `model`'s table: the new row, or
    None when the address has had PER_ADDRESS within WINDOW (the caller answers the same
    either way). Too many from one IP raise TooManyRequests."""
    ip = (ip or "unknown")[:45]
    recent = sa.select(sa.func.count(model.id)).where(model.requested_at > now - WINDOW)
    if db.session.scalar(recent.where(model.ip == ip)) >= PER_IP:
        raise TooManyRequests("too many requests from your connection; try again later")
    hashed = email_hash(address)
    if db.session.scalar(recent.where(model.email_hash == hashed)) >= PER_ADDRESS:
        return None
    db.session.execute(sa.delete(model).where(model.requested_at <= now - KEPT))
    request = model(email_hash=hashed, ip=ip, requested_at=now)
    db.session.add(request)
    db.session.flush()
    return request

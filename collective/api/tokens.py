"""Personal access tokens: made, listed, revoked, and checked on each API request.

A token is `col_` and 43 URL-safe characters (32 random bytes). Only its sha256 is kept:
the secret is shown once, when it is made. It acts with its user's roles, in one collective
when it is limited to one, and only reads when it is read-only."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective import audit
from collective.api.models import ApiToken
from collective.errors import DomainError, NotFound
from collective.extensions import db
from collective.members.models import User
from collective.members.services import membership_in

#: What every token begins with, so a leaked one is recognisable (and greppable).
PREFIX = "col_"
#: Characters of the secret kept to tell tokens apart ("col_AbC1").
SHOWN = len(PREFIX) + 4
NAME_LENGTH = 80
#: A user's tokens that stand at once.
MAX_TOKENS = 50
#: The last use is written at most this often per token.
USE_RESOLUTION = timedelta(minutes=1)
#: The longest expiry a token may be given.
LONGEST = timedelta(days=366 * 5)


def hash_secret(secret: str) -> str:
    """The stored form of a token: sha256 hex of the whole secret."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def create_token(user: User, *, name: str, collective_slug: str | None = None,
                 is_read_only: bool = False, expires_at: datetime | None = None,
                 now: datetime) -> tuple[ApiToken, str]:
    """Make a token for `user`; return it and its secret, which is never shown again."""
    name = " ".join((name or "").split())
    if not name:
        raise DomainError("give the token a name, to know it by later", field="name")
    if len(name) > NAME_LENGTH:
        raise DomainError(f"a name is at most {NAME_LENGTH} characters", field="name")
    collective = None
    if collective_slug:
        membership = membership_in(user.id, collective_slug.strip().lower())
        if membership is None:
            raise DomainError("you are not a member of that collective", field="collective")
        collective = membership.collective
    if expires_at is not None and not now < expires_at <= now + LONGEST:
        raise DomainError("the expiry must be in the future, and within five years",
                          field="expires_at")
    standing = db.session.scalar(
        sa.select(sa.func.count()).select_from(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)))
    if standing >= MAX_TOKENS:
        raise DomainError(f"you have {MAX_TOKENS} tokens; revoke one first", field="name")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, collective_id=collective.id if collective else None,
                     name=name, token_hash=hash_secret(secret), prefix=secret[:SHOWN],
                     is_read_only=bool(is_read_only), expires_at=expires_at, created_at=now)
    db.session.add(token)
    db.session.flush()
    audit.record("account.api_token_created", collective=token.collective_id, subject=token,
                 actor=user.id, name=name, shown_as=token.prefix,
                 read_only=token.is_read_only, expires_at=expires_at)
    return token, secret


def revoke_token(user: User, token_id: int, *, now: datetime) -> ApiToken:
    """Revoke one of the user's tokens (again is harmless); another user's is NotFound."""
    token = get_token(user, token_id)
    if token.revoked_at is None:
        token.revoked_at = now
        db.session.flush()
        audit.record("account.api_token_revoked", collective=token.collective_id,
                     subject=token, actor=user.id, name=token.name, shown_as=token.prefix)
    return token


def get_token(user: User, token_id: int) -> ApiToken:
    """One of the user's tokens, or NotFound."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound("no such token of yours")
    return token


def tokens_of(user: User) -> list[ApiToken]:
    """The user's tokens, newest first (revoked ones too, marked)."""
    return list(db.session.scalars(
        sa.select(ApiToken).where(ApiToken.user_id == user.id)
        .options(so.joinedload(ApiToken.collective))
        .order_by(ApiToken.id.desc()).limit(MAX_TOKENS * 2)))


def find_token(secret: str) -> ApiToken | None:
    """The token whose secret this is, usable or not; None for an unknown secret."""
    if not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    return db.session.scalar(sa.select(ApiToken).filter_by(token_hash=hash_secret(secret)))


def use_is_due(token: ApiToken, now: datetime) -> bool:
    """Whether the token's last use is older than a minute (or was never recorded)."""
    return token.last_used_at is None or token.last_used_at <= now - USE_RESOLUTION


def record_use(token_id: int, now: datetime) -> bool:
    """Note that the token was used at `now`, unless that was noted within the last minute.

    A conditional UPDATE sent straight to the database: it is the one write a read request
    (a GET with a token) makes, so it does not go through the session's unit of work, which
    refuses writes in reads. The caller runs it in a transaction of its own, committed at
    once. True when it wrote."""
    result = db.session.execute(
        sa.update(ApiToken).where(
            ApiToken.id == token_id,
            sa.or_(ApiToken.last_used_at.is_(None),
                   ApiToken.last_used_at <= now - USE_RESOLUTION))
        .values(last_used_at=now).execution_options(synchronize_session=False))
    return result.rowcount == 1

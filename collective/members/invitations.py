"""Invitations: single-use links that bring a person into a collective with chosen roles.
Only a hash of each token is stored. Flush, never commit; `now` comes from the caller."""
from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

import sqlalchemy as sa

from collective.errors import Conflict, DomainError, NotAllowed, NotFound
from collective.extensions import db
from collective.members.accounts import normalise_email
from collective.members.models import Invitation, Membership, Role, User
from collective.members.services import MANAGERS, add_member, check_roles, require_role


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_invitation(
    actor: Membership, *, email: str, roles: Iterable[Role | str], ttl: timedelta,
    now: datetime,
) -> tuple[Invitation, str]:
    """Make a single-use invitation link valid for `ttl` from `now`; returns it and the token
    (shown once)."""
    require_role(actor, *MANAGERS, action="invite people")
    wanted = check_roles(roles)
    if Role.TREASURER in wanted and not actor.has_role(Role.TREASURER):
        raise NotAllowed(Role.TREASURER.value, "invite a treasurer")
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        collective_id=actor.collective_id,
        token_hash=_token_hash(token),
        email=normalise_email(email),
        roles=",".join(sorted(r.value for r in wanted)),
        created_by_id=actor.user_id,
        expires_at=now + ttl,
    )
    db.session.add(invitation)
    db.session.flush()
    return invitation, token


def find_invitation(token: str, now: datetime) -> Invitation:
    """The invitation behind a token, if it can still be accepted at `now`."""
    invitation = db.session.scalar(
        sa.select(Invitation).filter_by(token_hash=_token_hash(token or ""))
    )
    if invitation is None or invitation.collective.archived_at is not None:
        raise NotFound("this invitation link is not valid")
    if invitation.accepted_at is not None:
        raise Conflict("this invitation has already been used")
    if invitation.expires_at <= now:
        raise DomainError("this invitation has expired; ask for a new one")
    return invitation


def accept_invitation(token: str, user: User, now: datetime) -> Membership:
    """Join the invitation's collective at `now`; each link works once."""
    invitation = find_invitation(token, now)
    claimed = db.session.execute(
        sa.update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None))
        .values(accepted_at=now, accepted_by_id=user.id)
    )
    if claimed.rowcount != 1:
        raise Conflict("this invitation has already been used")
    return add_member(invitation.collective, user, invitation.role_set)


def open_invitations(collective_id: int, now: datetime) -> list[Invitation]:
    """Invitations not yet accepted nor expired at `now`, newest first."""
    return list(
        db.session.scalars(
            sa.select(Invitation)
            .where(
                Invitation.collective_id == collective_id,
                Invitation.accepted_at.is_(None),
                Invitation.expires_at > now,
            )
            .order_by(Invitation.id.desc())
        )
    )

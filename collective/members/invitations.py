"""Invitations: single-use links that bring a person into a collective with chosen roles.
Only a hash of each token is stored, so a link is shown once: when it is made, and again
when it is renewed (a new token and a new expiry; the old link stops working). A link can
be revoked. One that names an e-mail address can be accepted only by the account with that
address. Flush, never commit; `now` comes from the caller."""
from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective import audit
from collective.clock import local_time
from collective.errors import Conflict, DomainError, NotAllowed, NotFound
from collective.extensions import db
from collective.mail.outbox import queue_mail
from collective.members.accounts import email_confirmed, normalise_email
from collective.members.models import Invitation, Membership, Role, User
from collective.members.services import MANAGERS, add_member, check_roles, require_role


class NotTheRecipient(DomainError):
    """The invitation names another e-mail address than the signed-in account's, or the
    account's address is not confirmed yet."""

    status = 403


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
    _check_may_invite(actor, wanted)
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
    audit.record("invitation.sent", collective=actor.collective_id, subject=invitation,
                 actor=actor.user_id, email=invitation.email, roles=invitation.roles,
                 expires_at=invitation.expires_at)
    return invitation, token


def mail_invitation(invitation: Invitation, link: str, *, now: datetime) -> None:
    """Queue the link to the address the invitation names (none without one), in the
    caller's transaction. Each link is mailed once; a renewed one is a new link, mailed
    again."""
    if not invitation.email:
        return
    collective = invitation.collective
    inviter = invitation.created_by.name
    queue_mail(event_key=f"invitation:{invitation.id}:{invitation.token_hash[:16]}",
               to=invitation.email, collective_id=collective.id,
               subject=f"{inviter} invites you to join {collective.name}",
               template="invitation", now=now,
               context={"inviter": inviter, "collective": collective.name, "link": link,
                        "email": invitation.email,
                        "roles": ", ".join(sorted(r.value for r in invitation.role_set)),
                        "expires": local_time(invitation.expires_at, collective.timezone)})


def _check_may_invite(actor: Membership, roles: Iterable[Role]) -> None:
    """Only a treasurer invites (or revokes or renews an invitation of) a treasurer."""
    if Role.TREASURER in roles and not actor.has_role(Role.TREASURER):
        raise NotAllowed(Role.TREASURER.value, "invite a treasurer")


def find_invitation(token: str, now: datetime) -> Invitation:
    """The invitation behind a token, if it can still be accepted at `now`."""
    invitation = db.session.scalar(
        sa.select(Invitation).filter_by(token_hash=_token_hash(token or ""))
    )
    if invitation is None or invitation.collective.archived_at is not None:
        raise NotFound("this invitation link is not valid")
    if invitation.accepted_at is not None:
        raise Conflict("this invitation has already been used")
    if invitation.revoked_at is not None:
        raise Conflict("this invitation was revoked; ask for a new one")
    if invitation.expires_at <= now:
        raise DomainError("this invitation has expired; ask for a new one")
    return invitation


def _masked(email: str) -> str:
    """An address with most of its name hidden: 'priya@demo.coop' to 'p****@demo.coop'."""
    name, _, domain = email.partition("@")
    return f"{name[:1]}{'*' * max(len(name) - 1, 1)}@{domain}"


def check_recipient(invitation: Invitation, user: User) -> None:
    """An invitation that names an e-mail address is for the account with that address, once
    the account has confirmed it (an invitation without an address is for anyone)."""
    if invitation.email and normalise_email(user.email) != invitation.email:
        raise NotTheRecipient(
            f"this invitation is for {_masked(invitation.email)}, and you are signed in as "
            f"{user.email}: sign in with that account to accept it, or ask for an "
            "invitation to your own address")
    if invitation.email and not email_confirmed(user):
        raise NotTheRecipient(
            f"this invitation is for {invitation.email}: confirm that this address is yours "
            "first, with the link we mailed to it (the banner above can send it again), "
            "then open this invitation again")


def accept_invitation(token: str, user: User, now: datetime) -> Membership:
    """Join the invitation's collective at `now`; each link works once, and only for the
    account it names, if it names one."""
    invitation = find_invitation(token, now)
    check_recipient(invitation, user)
    claimed = db.session.execute(
        sa.update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None),
               Invitation.revoked_at.is_(None))
        .values(accepted_at=now, accepted_by_id=user.id)
    )
    if claimed.rowcount != 1:
        raise Conflict("this invitation has already been used")
    membership = add_member(invitation.collective, user, invitation.role_set)
    audit.record("invitation.accepted", collective=invitation.collective_id,
                 subject=invitation, actor=user.id, member=user.name, roles=invitation.roles,
                 membership_id=membership.id)
    return membership


def _pending(actor: Membership, invitation_id: int) -> Invitation:
    """An invitation of the actor's collective that is neither accepted nor revoked, locked
    against a concurrent acceptance, and that the actor may manage."""
    require_role(actor, *MANAGERS, action="manage invitations")
    invitation = db.session.scalar(
        sa.select(Invitation).filter_by(id=invitation_id, collective_id=actor.collective_id)
        .with_for_update(of=Invitation))
    if invitation is None:
        raise NotFound("no such invitation in this collective")
    if invitation.accepted_at is not None:
        raise Conflict("this invitation has already been used")
    if invitation.revoked_at is not None:
        raise Conflict("this invitation was revoked already")
    _check_may_invite(actor, invitation.role_set)
    return invitation


def revoke_invitation(actor: Membership, invitation_id: int, *, now: datetime) -> Invitation:
    """Stop an invitation link from working; it is kept, marked with who revoked it."""
    invitation = _pending(actor, invitation_id)
    invitation.revoked_at = now
    invitation.revoked_by_id = actor.user_id
    db.session.flush()
    audit.record("invitation.revoked", collective=actor.collective_id, subject=invitation,
                 actor=actor.user_id, email=invitation.email, roles=invitation.roles)
    return invitation


def renew_invitation(actor: Membership, invitation_id: int, *, ttl: timedelta, now: datetime
                     ) -> tuple[Invitation, str]:
    """Resend an invitation: a new link valid for `ttl` from `now` (the old link stops
    working); returns it and the token (shown once)."""
    invitation = _pending(actor, invitation_id)
    token = secrets.token_urlsafe(32)
    invitation.token_hash = _token_hash(token)
    invitation.expires_at = now + ttl
    db.session.flush()
    audit.record("invitation.renewed", collective=actor.collective_id, subject=invitation,
                 actor=actor.user_id, email=invitation.email, expires_at=invitation.expires_at)
    return invitation, token


def pending_invitations(collective_id: int, *, limit: int | None = None,
                        offset: int = 0) -> list[Invitation]:
    """Invitations neither accepted nor revoked, expired ones too (they can be renewed),
    newest first, with who sent them; `limit` and `offset` page through them."""
    return list(
        db.session.scalars(
            sa.select(Invitation)
            .where(Invitation.collective_id == collective_id,
                   Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None))
            .options(so.joinedload(Invitation.created_by))
            .order_by(Invitation.id.desc()).offset(offset).limit(limit)
        )
    )


def open_invitations(collective_id: int, now: datetime) -> list[Invitation]:
    """Invitations not yet accepted nor expired at `now`, newest first."""
    return list(
        db.session.scalars(
            sa.select(Invitation)
            .where(
                Invitation.collective_id == collective_id,
                Invitation.accepted_at.is_(None),
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > now,
            )
            .order_by(Invitation.id.desc())
        )
    )

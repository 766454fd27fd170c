"""Federations: two collectives become partners when each agrees by its own vote, and
either may leave at any time.

A coordinator or treasurer of collective A proposes to federate with B (found by its slug):
that opens a 'federation' proposal in A. When A's vote passes, B's coordinators see the
request and put it to B's own vote; when that passes too the federation is active. A vote
that fails declines it. Leaving needs no vote: a coordinator of either side ends it at once
(an explicit, confirmed POST), which is recorded and stops the sharing. Flush, never commit.
"""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa

from collective import audit
from collective.errors import Conflict, DomainError, NotFound
from collective.extensions import db
from collective.federation.models import (
    LIVE_FEDERATION,
    LIVE_SHARE,
    Federation,
    FederationStatus,
    SharedPitch,
    ShareStatus,
)
from collective.members.models import (
    Collective,
    Membership,
    MembershipRole,
    MembershipStatus,
    Proposal,
    ProposalKind,
    ProposalStatus,
    Role,
)
from collective.members.proposals import open_proposal
from collective.members.services import require_role
from collective.notifications.kinds import Kind
from collective.notifications.service import notify
from collective.notifications.wording import page

FEDERATION = ProposalKind.FEDERATION
#: How many federations a page lists at most (a collective has a handful of partners).
MAX_LISTED = 100


def find_partner(actor: Membership, slug: str) -> Collective:
    """The collective with this slug, other than the actor's own; NotFound otherwise."""
    slug = (slug or "").strip().lower()
    partner = db.session.scalar(sa.select(Collective).where(
        Collective.slug == slug, Collective.archived_at.is_(None))) if slug else None
    if partner is None:
        raise NotFound(f"no collective has the address {slug!r}", field="partner")
    if partner.id == actor.collective_id:
        raise DomainError("a collective cannot federate with itself", field="partner")
    return partner


def _pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def live_federation(a: int, b: int) -> Federation | None:
    """The pair's federation that is proposed or active, if any."""
    low, high = _pair(a, b)
    return db.session.scalar(sa.select(Federation).where(
        Federation.low_collective_id == low, Federation.high_collective_id == high,
        Federation.status.in_([s.value for s in LIVE_FEDERATION])))


def active_federation(a: int, b: int) -> Federation | None:
    """The pair's active federation, if both voted for it and neither has left."""
    federation = live_federation(a, b)
    return federation if federation is not None and federation.is_active else None


def partner_ids(collective_id: int) -> list[int]:
    """The ids of the collectives the collective is actively federated with (both voted,
    neither has left), in id order: what is shared with "partners" reaches these."""
    active = [Federation.status == FederationStatus.ACTIVE.value]
    return sorted(db.session.scalars(sa.union(
        sa.select(Federation.high_collective_id)
        .where(Federation.low_collective_id == collective_id, *active),
        sa.select(Federation.low_collective_id)
        .where(Federation.high_collective_id == collective_id, *active))))


def get_federation(collective_id: int, federation_id: int) -> Federation:
    """A federation the collective is a side of, or NotFound."""
    federation = db.session.get(Federation, federation_id)
    if federation is None or not federation.has(collective_id):
        raise NotFound("no such partnership of this collective")
    return federation


def get_active_federation(collective_id: int, federation_id: int) -> Federation:
    """An active federation of the collective; NotFound for any other (a partner that left
    shares nothing any more)."""
    federation = get_federation(collective_id, federation_id)
    if not federation.is_active:
        raise NotFound("no such partnership of this collective")
    return federation


def federations_of(collective_id: int) -> list[Federation]:
    """The collective's federations, live ones first, newest first (bounded), with both
    collectives loaded."""
    from sqlalchemy import orm as so

    live_first = sa.case((Federation.status.in_([s.value for s in LIVE_FEDERATION]), 0),
                         else_=1)
    return list(db.session.scalars(
        sa.select(Federation)
        .where(sa.or_(Federation.low_collective_id == collective_id,
                      Federation.high_collective_id == collective_id))
        .options(so.joinedload(Federation.low_collective),
                 so.joinedload(Federation.high_collective))
        .order_by(live_first, Federation.id.desc()).limit(MAX_LISTED)))


def _put_to_vote(actor: Membership, federation: Federation, description: str,
                 now: datetime) -> Proposal:
    partner = federation.other(actor.collective_id)
    proposal = open_proposal(
        actor, kind=FEDERATION, title=f"Become partners with {partner.name}",
        payload={"federation_id": federation.id, "partner_slug": partner.slug,
                 "partner_name": partner.name},
        description=description, now=now)
    federation.set_proposal(actor.collective_id, proposal.id)
    db.session.flush()
    return proposal


def propose_federation(actor: Membership, partner_slug: str, *, description: str = "",
                       now: datetime) -> Federation:
    """Ask another collective to become partners: opens the federation and the actor's
    collective's vote on it."""
    require_role(actor, Role.COORDINATOR, Role.TREASURER, action="propose a partnership")
    if actor.status != MembershipStatus.ACTIVE:
        raise DomainError("only an active member can propose a partnership")
    partner = find_partner(actor, partner_slug)
    if live_federation(actor.collective_id, partner.id) is not None:
        raise Conflict(f"{partner.name} is already a partner, or a partnership with it is "
                       "being voted on", field="partner")
    low, high = _pair(actor.collective_id, partner.id)
    federation = Federation(low_collective_id=low, high_collective_id=high,
                            requested_by_collective_id=actor.collective_id,
                            status=FederationStatus.PROPOSED.value, created_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(federation)
            db.session.flush()
    except sa.exc.IntegrityError as exc:  # the other side asked at the same moment
        raise Conflict(f"a partnership with {partner.name} is already being voted on",
                       field="partner") from exc
    _put_to_vote(actor, federation, description, now)
    audit.record("federation.proposed", collective=actor.collective_id, subject=federation,
                 actor=actor.user_id, partner=partner.slug)
    return federation


def put_request_to_vote(actor: Membership, federation: Federation, *, description: str = "",
                        now: datetime) -> Proposal:
    """Put a partnership to the actor's collective's vote: the side that was asked answers
    a request, or either side tries again after its vote was withdrawn."""
    require_role(actor, Role.COORDINATOR, Role.TREASURER, action="put a partnership to a vote")
    if not federation.has(actor.collective_id):
        raise NotFound("no such partnership of this collective")
    if federation.status != FederationStatus.PROPOSED:
        raise DomainError("this partnership is no longer waiting for a vote")
    if federation.agreed_at(actor.collective_id) is not None:
        raise DomainError("your collective has agreed already; the other side votes now")
    current = federation.proposal_id(actor.collective_id)
    if current is not None and db.session.get(Proposal, current).status == ProposalStatus.OPEN:
        raise Conflict("your collective is voting on it already")
    return _put_to_vote(actor, federation, description, now)


def _current(proposal: Proposal) -> Federation | None:
    """The federation a proposal decides, when it is still the live question."""
    federation = db.session.scalar(
        sa.select(Federation).where(Federation.id == int(proposal.payload["federation_id"]))
        .with_for_update())
    if (federation is None or federation.status != FederationStatus.PROPOSED
            or federation.proposal_id(proposal.collective_id) != proposal.id):
        return None
    return federation


def adopt_federation(proposal: Proposal, decided_on: date) -> None:
    """A collective's vote to federate passed: its side agrees; once both have, the
    federation is active. The other side's coordinators are told either way."""
    federation = _current(proposal)
    if federation is None:
        return
    at = proposal.decided_at
    federation.set_agreed(proposal.collective_id, at)
    other_id = federation.other_id(proposal.collective_id)
    own = db.session.get(Collective, proposal.collective_id)
    if federation.agreed_at(other_id) is not None:
        federation.status = FederationStatus.ACTIVE.value
        federation.active_since = at
        title = f"You are now partners with {own.name}"
    else:
        title = f"{own.name} asks to become partners: put it to your vote"
    db.session.flush()
    audit.record("federation.agreed", collective=proposal.collective_id, subject=federation,
                 actor=None, is_active=federation.is_active)
    _tell_coordinators(db.session.get(Collective, other_id), title, federation, at)


def decline_federation(proposal: Proposal) -> None:
    """A collective's vote to federate failed: the partnership is declined."""
    federation = _current(proposal)
    if federation is None:
        return
    federation.status = FederationStatus.DECLINED.value
    federation.declined_at = proposal.decided_at
    db.session.flush()
    audit.record("federation.declined", collective=proposal.collective_id,
                 subject=federation, actor=None)


def leave_federation(actor: Membership, federation: Federation, *, reason: str = "",
                     now: datetime) -> Federation:
    """End a partnership (proposed or active) at once: recorded with who and why. Sharing
    stops: no search, no new shared pitches, no new allocations or hours on shared ones.
    Votes still open on it are withdrawn, and sharings not yet answered too (members'
    requests to hire the partner with them). What one side
    owes the other stays owed, and can still be settled."""
    require_role(actor, Role.COORDINATOR, action="end a partnership")
    if not federation.has(actor.collective_id):
        raise NotFound("no such partnership of this collective")
    if federation.status not in LIVE_FEDERATION:
        raise DomainError("this partnership has ended already")
    federation.status = FederationStatus.LEFT.value
    federation.left_at = now
    federation.left_by_id = actor.user_id
    federation.left_by_collective_id = actor.collective_id
    federation.leave_reason = (reason or "").strip()[:500]
    open_votes = [pid for pid in (federation.low_proposal_id, federation.high_proposal_id)
                  if pid is not None]
    if open_votes:
        db.session.execute(
            sa.update(Proposal)
            .where(Proposal.id.in_(open_votes), Proposal.status == ProposalStatus.OPEN.value)
            .values(status=ProposalStatus.WITHDRAWN.value, decided_at=now,
                    outcome="Withdrawn: the partnership was ended before the vote closed.")
            .execution_options(synchronize_session="fetch"))
    db.session.execute(
        sa.update(SharedPitch)
        .where(SharedPitch.federation_id == federation.id,
               SharedPitch.status.in_([ShareStatus.REQUESTED.value,
                                       ShareStatus.PROPOSED.value]))
        .values(status=ShareStatus.WITHDRAWN.value, answered_at=now)
        .execution_options(synchronize_session="fetch"))
    db.session.flush()
    audit.record("federation.left", collective=actor.collective_id, subject=federation,
                 actor=actor.user_id, reason=federation.leave_reason)
    other = federation.other(actor.collective_id)
    _tell_coordinators(other, f"{actor.collective.name} ended the partnership", federation,
                       now)
    return federation


def live_shares(federation: Federation, collective_id: int) -> int:
    """How many of the federation's pitch sharings still count, of those the collective
    sees (for the leave page)."""
    return db.session.scalar(sa.select(sa.func.count(SharedPitch.id)).where(
        SharedPitch.federation_id == federation.id,
        SharedPitch.status.in_([s.value for s in LIVE_SHARE]),
        SharedPitch.seen_by(collective_id)))


def coordinators_of(collective_id: int) -> list[Membership]:
    """The collective's coordinators who are not removed."""
    return list(db.session.scalars(
        sa.select(Membership).join(MembershipRole)
        .where(Membership.collective_id == collective_id,
               Membership.status != MembershipStatus.REMOVED.value,
               MembershipRole.role == Role.COORDINATOR.value)
        .order_by(Membership.id)))


def _tell_coordinators(collective: Collective, title: str, federation: Federation,
                       now: datetime) -> None:
    for member in coordinators_of(collective.id):
        notify(member, kind=Kind.PROPOSAL_DECIDED,
               event_key=f"federation:{federation.id}:{federation.status}:"
                         f"{int(now.timestamp())}",
               title=title, now=now,
               link=page("federation.partners", slug=collective.slug))

"""Telling members about proposals: opened (to those who may vote), closing within a day (to
those who may vote and have not) and decided (to every member, and to the collective's
webhooks). Called by proposals.py in its transaction; flush, never commit."""
from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective.extensions import db
from collective.members.models import Membership, MembershipStatus, Proposal
from collective.notifications.kinds import Kind
from collective.notifications.service import notify
from collective.notifications.wording import page, when
from collective.webhooks.events import EventType
from collective.webhooks.outbox import emit

OUTCOMES = {"adopted": "adopted", "rejected": "not adopted", "blocked": "blocked",
            "withdrawn": "withdrawn"}


def members_of(collective_id: int, excluding: Collection[int] = ()) -> list[Membership]:
    """Everyone not removed (paused members keep their say), less `excluding`."""
    query = (sa.select(Membership).options(so.joinedload(Membership.user))
             .where(Membership.collective_id == collective_id,
                    Membership.status != MembershipStatus.REMOVED.value)
             .order_by(Membership.id))
    if excluding:
        query = query.where(Membership.id.not_in(list(excluding)))
    return list(db.session.scalars(query))


def _link(proposal: Proposal) -> str:
    return page("members.proposal", slug=proposal.collective.slug, proposal_id=proposal.id)


def proposal_opened(proposal: Proposal, excluded: Collection[int], now: datetime) -> None:
    """Tell each member who may vote on the proposal."""
    for member in members_of(proposal.collective_id, excluded):
        notify(member, kind=Kind.PROPOSAL_OPENED, event_key=f"proposal-opened:{proposal.id}",
               title=f"Vote open: {proposal.title}", now=now, link=_link(proposal),
               body=f"Voting closes {when(proposal.deadline_at, member.user.timezone)}.")


def proposal_decided(proposal: Proposal, now: datetime) -> None:
    """Tell every member how a proposal ended, with the count; and the webhooks."""
    outcome = OUTCOMES.get(str(proposal.status), str(proposal.status))
    emit(proposal.collective, EventType.PROPOSAL_DECIDED, key=str(proposal.id), now=now,
         data={"proposal_id": proposal.id, "kind": str(proposal.kind),
               "title": proposal.title, "status": str(proposal.status),
               "outcome": proposal.outcome or "",
               "decided_at": proposal.decided_at.isoformat() if proposal.decided_at else None},
         link=_link(proposal))
    for member in members_of(proposal.collective_id):
        notify(member, kind=Kind.PROPOSAL_DECIDED,
               event_key=f"proposal-decided:{proposal.id}", now=now, link=_link(proposal),
               title=f"Decided: {proposal.title} was {outcome}",
               body=proposal.outcome or "")


def proposal_closing(proposal: Proposal, not_asked: Collection[int], now: datetime) -> None:
    """Remind each member who may vote and has not (`not_asked`: who voted, or may not)."""
    for member in members_of(proposal.collective_id, not_asked):
        notify(member, kind=Kind.PROPOSAL_CLOSING,
               event_key=f"proposal-closing:{proposal.id}", now=now, link=_link(proposal),
               title=f"Your vote is missing: {proposal.title}",
               body=f"Voting closes {when(proposal.deadline_at, member.user.timezone)}.")

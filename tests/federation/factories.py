"""Partner collectives built through the real services: federations voted on both sides,
pitches shared and accepted."""
from __future__ import annotations

from datetime import timedelta

from collective.federation import partners, sharing
from collective.federation.models import Federation, SharedPitch
from collective.members import proposals
from collective.members.models import Membership, Proposal
from tests.pool.factories import NOW


def pass_vote(voter: Membership, proposal: Proposal, choice: str = "agree",
              *others: Membership) -> Proposal:
    """`voter` (and `others`, all alike) vote, and the proposal is decided at its
    deadline."""
    for member in (voter, *others):
        proposals.cast_vote(member, proposal, choice, now=NOW)
    proposals.decide_proposal(proposal, proposal.deadline_at + timedelta(seconds=1))
    return proposal


def own_proposal(federation: Federation, membership: Membership) -> Proposal:
    from collective.extensions import db
    return db.session.get(Proposal, federation.proposal_id(membership.collective_id))


def federate(asker: Membership, asked: Membership) -> Federation:
    """`asker`'s collective proposes, both vote for it: an active federation."""
    federation = partners.propose_federation(asker, asked.collective.slug, now=NOW)
    pass_vote(asker, own_proposal(federation, asker))
    partners.put_request_to_vote(asked, federation, now=NOW)
    pass_vote(asked, own_proposal(federation, asked))
    assert federation.is_active
    return federation


def share(host: Membership, partner: Membership, federation: Federation, pitch,
          partner_bp: int = 3333, role: str = "partner") -> SharedPitch:
    """The host shares the pitch, the partner's coordinator accepts."""
    shared = sharing.propose_sharing(host, pitch, federation_id=federation.id,
                                     partner_bp=partner_bp, role=role, now=NOW)
    return sharing.answer_sharing(partner, shared, accept=True, now=NOW)

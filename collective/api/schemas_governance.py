"""What the API reads and writes about governance: share rule versions, proposals and their
votes (the OpenAPI document is made from these schemas). Shares are basis points (1000 is
10%); instants are UTC."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from collective.api.paging import DatedPageArgs
from collective.api.schemas import text
from collective.members.models import ProposalKind, ProposalStatus, VoteChoice
from collective.pool.kinds import SplitMethod

PROPOSAL_STATES = [status.value for status in ProposalStatus]
PROPOSAL_KINDS = [kind.value for kind in ProposalKind]
CHOICES = [choice.value for choice in VoteChoice]
METHODS = [method.value for method in SplitMethod]


def basis_points(**kwargs) -> fields.Integer:
    """A share in basis points, 0 to 10,000 (100%)."""
    return fields.Integer(strict=True, validate=validate.Range(0, 10_000), **kwargs)


# --- Share rules -------------------------------------------------------------------------

class ShareRuleOut(ma.Schema):
    """A version of the collective's share rule: how a client payment is divided."""

    id = fields.Integer(required=True)
    version = fields.Integer(required=True)
    effective_on = fields.Date(required=True, metadata={
        "description": "Payments received from this day on are split by it."})
    common_fund_bp = fields.Integer(required=True, metadata={
        "description": "The common fund's share, in basis points."})
    finder_fee_bp = fields.Integer(required=True, metadata={
        "description": "The finder's fee, in basis points."})
    method = fields.String(required=True, validate=validate.OneOf(METHODS), metadata={
        "description": "How the members' part is divided: by logged hours, equally, or by "
                       "allocation weights."})
    proposal_id = fields.Integer(required=True, allow_none=True, metadata={
        "description": "The proposal whose vote adopted it; null for the founding rule."})
    is_in_force = fields.Boolean(required=True, metadata={
        "description": "It governs the payments received today."})
    created_at = fields.DateTime(required=True)


class ProposalWriteIn(ma.Schema):
    """What every proposal has besides what it changes."""

    title = text(200, load_default="", metadata={
        "description": "Made from the proposal when left out."})
    description = text(10_000, load_default="")
    deadline_at = fields.AwareDateTime(load_default=None, allow_none=True, metadata={
        "description": "When voting closes (at most 90 days away); the collective's usual "
                       "number of days when left out."})


class ShareRuleProposalIn(ProposalWriteIn):
    """A new share rule, put to the members' vote."""

    common_fund_bp = basis_points(required=True)
    finder_fee_bp = basis_points(required=True)
    method = fields.String(required=True, validate=validate.OneOf(METHODS))
    effective_on = fields.Date(required=True, metadata={
        "description": "From this day, or the day the vote passes if that is later."})


# --- Proposals and votes -----------------------------------------------------------------

class ProposalArgs(DatedPageArgs):
    """Filters of the proposals list: the status, the kind, and the day each was opened."""

    status = fields.String(load_default=None, validate=validate.OneOf(PROPOSAL_STATES))
    kind = fields.String(load_default=None, validate=validate.OneOf(PROPOSAL_KINDS))


class ProposalOut(ma.Schema):
    """A change the members decide by vote."""

    id = fields.Integer(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(PROPOSAL_KINDS))
    title = fields.String(required=True)
    description = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(PROPOSAL_STATES))
    payload = fields.Dict(required=True, metadata={
        "description": "What it would change: a share rule's or a plan's terms and "
                       "`effective_on`, or the `claim_id` a vote decides."})
    created_by_id = fields.Integer(required=True, metadata={"description": "A membership."})
    created_at = fields.DateTime(required=True)
    deadline_at = fields.DateTime(required=True)
    decided_at = fields.DateTime(required=True, allow_none=True)
    outcome = fields.String(required=True, metadata={"description": "Why it ended as it "
                                                                    "did, once decided."})
    quorum_bp = fields.Integer(required=True)
    threshold_bp = fields.Integer(required=True)
    is_voting_open = fields.Boolean(required=True)


class TallyOut(ma.Schema):
    """The votes so far, as they would count if voting closed now."""

    agree = fields.Integer(required=True)
    abstain = fields.Integer(required=True)
    disagree = fields.Integer(required=True)
    block = fields.Integer(required=True)
    eligible = fields.Integer(required=True)
    quorum_met = fields.Boolean(required=True)
    threshold_met = fields.Boolean(required=True)
    would_be = fields.String(required=True, validate=validate.OneOf(PROPOSAL_STATES))


class VoteOut(ma.Schema):
    """One member's vote."""

    id = fields.Integer(required=True)
    proposal_id = fields.Integer(required=True)
    membership_id = fields.Integer(required=True)
    name = fields.String(required=True)
    choice = fields.String(required=True, validate=validate.OneOf(CHOICES))
    reason = fields.String(required=True)
    cast_at = fields.DateTime(required=True)


class ProposalDetailOut(ProposalOut):
    """A proposal with its tally and the caller's own vote."""

    tally = fields.Nested(TallyOut, required=True)
    my_vote = fields.Nested(VoteOut, required=True, allow_none=True)
    may_vote = fields.Boolean(required=True, metadata={
        "description": "False when the proposal decides something of the caller's own."})


class VoteArgs(DatedPageArgs):
    """Filters of a proposal's votes: the choice, and the day each was cast."""

    choice = fields.String(load_default=None, validate=validate.OneOf(CHOICES))


class VoteIn(ma.Schema):
    """The caller's vote: cast, or changed while voting is open."""

    choice = fields.String(required=True, validate=validate.OneOf(CHOICES))
    reason = text(1000, load_default="")


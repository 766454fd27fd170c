"""What the API reads and writes about the benefits fund: plan versions, claims, and the
contribution and payout runs with their lines (the OpenAPI document is made from these
schemas). Money is integer minor units of the collective's base currency; a period is the
first day of its month."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from collective.api.paging import DatedPageArgs, PageArgs
from collective.api.schemas import amount as money_amount
from collective.api.schemas import text
from collective.api.schemas_governance import ProposalWriteIn
from collective.benefits.kinds import BenefitKind, ClaimStatus, RunKind, RunLineKind

BENEFIT_KINDS = [kind.value for kind in BenefitKind]
CLAIM_STATES = [status.value for status in ClaimStatus]
RUN_KINDS = [kind.value for kind in RunKind]
LINE_KINDS = [kind.value for kind in RunLineKind]


# --- Plans -------------------------------------------------------------------------------

class PlanOut(ma.Schema):
    """A version of the fund's plan: contributions, benefits, reserve cap."""

    id = fields.Integer(required=True)
    version = fields.Integer(required=True)
    effective_on = fields.Date(required=True, metadata={
        "description": "The first month it governs."})
    terms = fields.Dict(required=True, metadata={
        "description": "`contribution` (levels, earnings_pct or flat), `benefits` by kind, "
                       "`reserve_cap_months`, `min_fund_balance`, `level_change_months`, "
                       "`eligibility_months`, `relapse_weeks`, `gift_shortfall`."})
    proposal_id = fields.Integer(required=True, allow_none=True, metadata={
        "description": "The proposal whose vote adopted it; null for the founding plan."})
    is_in_force = fields.Boolean(required=True, metadata={
        "description": "It governs this month."})
    created_at = fields.DateTime(required=True)


class PlanProposalIn(ProposalWriteIn):
    """A new version of the plan, put to the members' vote (treasurers)."""

    terms = fields.Dict(required=True, metadata={
        "description": "The whole plan, in the shape `terms` has on a plan version."})
    effective_on = fields.Date(required=True, metadata={
        "description": "Its first month, or the month after the vote if that is later."})


# --- Claims ------------------------------------------------------------------------------

class ClaimArgs(DatedPageArgs):
    """Filters of the claims list: the status, the kind, and the day each was filed."""

    status = fields.String(load_default=None, validate=validate.OneOf(CLAIM_STATES))
    kind = fields.String(load_default=None, validate=validate.OneOf(BENEFIT_KINDS))


class ClaimEventOut(ma.Schema):
    """One change of a claim's status."""

    status = fields.String(required=True, validate=validate.OneOf(CLAIM_STATES))
    actor_id = fields.Integer(required=True, allow_none=True, metadata={
        "description": "The membership that made it; null for a vote or a run."})
    note = fields.String(required=True)
    at = fields.DateTime(required=True)


class ClaimOut(ma.Schema):
    """A member's claim on the fund."""

    id = fields.Integer(required=True)
    membership_id = fields.Integer(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(BENEFIT_KINDS))
    status = fields.String(required=True, validate=validate.OneOf(CLAIM_STATES))
    start_period = fields.Date(required=True)
    months = fields.Integer(required=True, metadata={
        "description": "Months covered, waiting months included (1 for a one-off)."})
    amount = fields.Integer(required=True, metadata={
        "description": "A one-off benefit's amount; 0 for a monthly one (the level pays)."})
    invoice_amount = fields.Integer(required=True)
    currency = fields.String(required=True, metadata={"description": "The base currency."})
    note = fields.String(required=True)
    decision_reason = fields.String(required=True)
    decided_by_id = fields.Integer(required=True, allow_none=True)
    proposal_id = fields.Integer(required=True, allow_none=True, metadata={
        "description": "Set when the members decide it by vote."})
    ended_on = fields.Date(required=True, allow_none=True)
    continues_id = fields.Integer(required=True, allow_none=True)
    created_at = fields.DateTime(required=True)


class ClaimDetailOut(ClaimOut):
    """A claim with its history."""

    events = fields.List(fields.Nested(ClaimEventOut), required=True)


class ClaimIn(ma.Schema):
    """A claim the caller files; the plan's rules are checked at once."""

    kind = fields.String(required=True, validate=validate.OneOf(BENEFIT_KINDS))
    start_period = fields.Date(required=True, metadata={
        "description": "The day the need began (its month is the first one covered)."})
    months = fields.Integer(strict=True, load_default=1, validate=validate.Range(1, 120),
                            metadata={"description": "Sick and parental leave only."})
    amount = money_amount(0, load_default=0, metadata={"description": "Hardship only."})
    invoice_amount = money_amount(0, load_default=0, metadata={
        "description": "An unpaid invoice only: the invoice's amount."})
    note = text(2000, load_default="")


class ClaimDecisionIn(ma.Schema):
    """A treasurer's decision on a pending claim (never their own)."""

    decision = fields.String(required=True, validate=validate.OneOf(["approve", "reject"]))
    reason = text(1000, required=True, metadata={
        "description": "The claimant reads it."})


# --- Runs --------------------------------------------------------------------------------

class RunArgs(DatedPageArgs):
    """Filters of the runs list: the kind, and the period (`since` and `until` days)."""

    kind = fields.String(load_default=None, validate=validate.OneOf(RUN_KINDS))


class RunOut(ma.Schema):
    """A finished contribution or payout run of one month."""

    id = fields.Integer(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(RUN_KINDS))
    period = fields.Date(required=True)
    plan_id = fields.Integer(required=True)
    total_amount = fields.Integer(required=True, metadata={"description": "Money moved."})
    shortfall_amount = fields.Integer(required=True, metadata={
        "description": "Contributions left owed, or benefits cut because the fund was "
                       "short."})
    entry_count = fields.Integer(required=True)
    currency = fields.String(required=True, metadata={"description": "The base currency."})
    triggered_by = fields.String(required=True)
    finished_at = fields.DateTime(required=True)


class RunLineArgs(PageArgs):
    """Filters of a run's lines: their kind."""

    kind = fields.String(load_default=None, validate=validate.OneOf(LINE_KINDS))


class RunLineOut(ma.Schema):
    """A run's number for one member."""

    id = fields.Integer(required=True)
    membership_id = fields.Integer(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(LINE_KINDS))
    amount = fields.Integer(required=True)
    shortfall = fields.Integer(required=True)
    claim_id = fields.Integer(required=True, allow_none=True)
    for_period = fields.Date(required=True, allow_none=True)
    entry_id = fields.Integer(required=True, allow_none=True)


class RunIn(ma.Schema):
    """Run a month's contributions or payouts now (a month that has ended; it posts once)."""

    kind = fields.String(required=True, validate=validate.OneOf(RUN_KINDS))
    period = fields.Date(required=True, metadata={"description": "Any day of the month."})


class RunStartedOut(ma.Schema):
    """What asking for a run did."""

    kind = fields.String(required=True, validate=validate.OneOf(RUN_KINDS))
    period = fields.Date(required=True)
    outcome = fields.String(required=True, validate=validate.OneOf(
        ["posted", "already_done", "skipped"]))
    skipped = fields.String(required=True, metadata={"description": "Why, when skipped."})
    total_amount = fields.Integer(required=True)
    shortfall_amount = fields.Integer(required=True)
    entry_count = fields.Integer(required=True)
    run = fields.Nested(RunOut, required=True, allow_none=True)

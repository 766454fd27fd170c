"""The benefits fund: plan versions (changed by a proposal), claims (filed by members,
decided by treasurers), and the contribution and payout runs with their lines, through the
fund's own services and with the pages' roles: claims are private to their claimant and the
treasurers, and runs are the treasurers' business."""
from __future__ import annotations

import sqlalchemy as sa
from flask import g

from collective.api.idempotency import PARAMETER
from collective.api.paging import DatedPageArgs, day_range, page_body, page_of, page_schema
from collective.api.schemas_benefits import (
    ClaimArgs,
    ClaimDecisionIn,
    ClaimDetailOut,
    ClaimIn,
    ClaimOut,
    PlanOut,
    PlanProposalIn,
    RunArgs,
    RunIn,
    RunLineArgs,
    RunLineOut,
    RunOut,
    RunStartedOut,
)
from collective.api.schemas_governance import ProposalDetailOut
from collective.api.views import api_blueprint, one_of_ours, written
from collective.api.views.auth import scoped
from collective.api.views.governance import (
    proposal_detail,
    proposal_with_votes,
    stamp_now,
    terms_versions,
)
from collective.benefits import claims, plans, runs
from collective.benefits.models import BenefitPlan, BenefitRun, Claim, RunKind, RunLine
from collective.errors import NotFound
from collective.members.models import Role

T = Role.TREASURER
blp = api_blueprint("api_benefits", "The benefits fund: plans, claims, and the monthly "
                    "contribution and payout runs.", "Benefits fund")
blp.before_request(stamp_now)

PlanPage = page_schema(PlanOut, "PlanPage")
ClaimPage = page_schema(ClaimOut, "ClaimPage")
RunPage = page_schema(RunOut, "RunPage")
RunLinePage = page_schema(RunLineOut, "RunLinePage")


# --- Plans -------------------------------------------------------------------------------

def _plan_body(in_force_id: int | None):
    def body(plan: BenefitPlan) -> dict:
        return {"id": plan.id, "version": plan.version, "effective_on": plan.effective_on,
                "terms": plan.terms, "proposal_id": plan.proposal_id,
                "is_in_force": plan.id == in_force_id, "created_at": plan.created_at}
    return body


def _plan_in_force_id() -> int | None:
    plan = plans.plan_in_force(g.collective.id, g.this_month)
    return plan.id if plan else None


@blp.route("/collectives/<slug>/benefit-plans")
@scoped()
@blp.arguments(DatedPageArgs, location="query")
@blp.response(200, PlanPage)
def plan_list(args: dict):
    """Every version of the fund's plan, oldest first; `since` and `until` filter by the
    day each took effect. A plan changes only by a proposal (POST
    .../benefit-plans/proposals)."""
    return terms_versions(BenefitPlan, "benefit-plans", args, _plan_body(_plan_in_force_id()))


@blp.route("/collectives/<slug>/benefit-plans/<int:plan_id>")
@scoped()
@blp.response(200, PlanOut)
def plan(plan_id: int):
    """One version of the fund's plan."""
    return _plan_body(_plan_in_force_id())(one_of_ours(BenefitPlan, plan_id, "plan"))


@blp.route("/collectives/<slug>/benefit-plans/proposals", methods=["POST"])
@scoped(T)
@blp.arguments(PlanProposalIn)
@blp.response(201, ProposalDetailOut)
def propose_plan(data: dict):
    """Put a new version of the plan to the members' vote (treasurers)."""

    def propose():
        made = plans.propose_plan(
            g.membership, plans.check_terms(data["terms"]), effective_on=data["effective_on"],
            title=data["title"], description=data["description"],
            deadline_at=data["deadline_at"], today=g.today, now=g.api_now)
        return ProposalDetailOut().dump(proposal_detail(proposal_with_votes(made.id))), 201

    return written(propose)


# --- Claims ------------------------------------------------------------------------------

def _claim_body(claim: Claim) -> dict:
    return {"id": claim.id, "membership_id": claim.membership_id, "kind": str(claim.kind),
            "status": str(claim.status), "start_period": claim.start_period,
            "months": claim.months, "amount": claim.amount,
            "invoice_amount": claim.invoice_amount, "currency": g.collective.base_currency,
            "note": claim.note, "decision_reason": claim.decision_reason,
            "decided_by_id": claim.decided_by_id, "proposal_id": claim.proposal_id,
            "ended_on": claim.ended_on, "continues_id": claim.continues_id,
            "created_at": claim.created_at}


def _claim_detail(claim: Claim) -> dict:
    return {**_claim_body(claim),
            "events": [{"status": str(event.status), "actor_id": event.actor_id,
                        "note": event.note, "at": event.at} for event in claim.events]}


def _claim_for_caller(claim_id: int) -> Claim:
    """The claim, if the caller filed it or is a treasurer; a 404 otherwise, as on the
    pages (a claim can be about someone's health)."""
    claim = claims.get_claim(g.collective.id, claim_id)
    if claim.membership_id != g.membership.id and not g.membership.has_role(T):
        raise NotFound("no such claim in this collective")
    return claim


@blp.route("/collectives/<slug>/claims")
@scoped()
@blp.arguments(ClaimArgs, location="query")
@blp.response(200, ClaimPage)
def claim_list(args: dict):
    """Claims on the fund (treasurers see everyone's, others their own); filter by
    `status`, `kind`, and the day each was filed."""
    query = sa.select(Claim).where(
        Claim.collective_id == g.collective.id,
        *day_range(Claim.created_at, args, g.collective.timezone))
    if not g.membership.has_role(T):
        query = query.where(Claim.membership_id == g.membership.id)
    if args.get("status"):
        query = query.where(Claim.status == args["status"])
    if args.get("kind"):
        query = query.where(Claim.kind == args["kind"])
    return page_body(page_of(query, Claim.id, "claims", args, convert=_claim_body))


@blp.route("/collectives/<slug>/claims/<int:claim_id>")
@scoped()
@blp.response(200, ClaimDetailOut)
def claim(claim_id: int):
    """One claim, with its history (its claimant's, or any for a treasurer)."""
    return _claim_detail(_claim_for_caller(claim_id))


@blp.route("/collectives/<slug>/claims", methods=["POST"])
@scoped()
@blp.arguments(ClaimIn)
@blp.response(201, ClaimDetailOut)
@blp.doc(parameters=[PARAMETER])
def file_claim(data: dict):
    """File a claim as the caller; the plan's rules are checked at once (a hardship claim
    goes to the members' vote). Send an Idempotency-Key so a retry files it once."""

    def file():
        made = claims.file_claim(g.membership, **data, today=g.today, now=g.api_now)
        return ClaimDetailOut().dump(_claim_detail(made)), 201

    return written(file)


@blp.route("/collectives/<slug>/claims/<int:claim_id>/decision", methods=["POST"])
@scoped(T)
@blp.arguments(ClaimDecisionIn)
@blp.response(200, ClaimDetailOut)
@blp.doc(parameters=[PARAMETER])
def decide_claim(data: dict, claim_id: int):
    """Approve or reject a pending claim, with a reason the claimant reads (treasurers,
    never on their own claim). A claim decided meanwhile is a 409. Send an
    Idempotency-Key: the same request again returns the first answer."""

    def decide():
        item = _claim_for_caller(claim_id)
        claims.decide_claim(g.membership, item, approve=data["decision"] == "approve",
                            reason=data["reason"], now=g.api_now)
        return ClaimDetailOut().dump(_claim_detail(item)), 200

    return written(decide)


# --- Runs --------------------------------------------------------------------------------

def _run_body(run: BenefitRun) -> dict:
    return {"id": run.id, "kind": str(run.kind), "period": run.period,
            "plan_id": run.plan_id, "total_amount": run.total_amount,
            "shortfall_amount": run.shortfall_amount, "entry_count": run.entry_count,
            "currency": g.collective.base_currency, "triggered_by": run.triggered_by,
            "finished_at": run.finished_at}


def _run(run_id: int) -> BenefitRun:
    return one_of_ours(BenefitRun, run_id, "run")


@blp.route("/collectives/<slug>/runs")
@scoped(T)
@blp.arguments(RunArgs, location="query")
@blp.response(200, RunPage)
def run_list(args: dict):
    """The fund's finished runs (treasurers), oldest first; filter by `kind`, and by the
    month run for (`since` and `until`)."""
    query = sa.select(BenefitRun).where(BenefitRun.collective_id == g.collective.id,
                                        *day_range(BenefitRun.period, args))
    if args.get("kind"):
        query = query.where(BenefitRun.kind == args["kind"])
    return page_body(page_of(query, BenefitRun.id, "runs", args, convert=_run_body))


@blp.route("/collectives/<slug>/runs/<int:run_id>")
@scoped(T)
@blp.response(200, RunOut)
def run(run_id: int):
    """One finished run (treasurers); its lines are at .../lines."""
    return _run_body(_run(run_id))


@blp.route("/collectives/<slug>/runs/<int:run_id>/lines")
@scoped(T)
@blp.arguments(RunLineArgs, location="query")
@blp.response(200, RunLinePage)
def run_lines(args: dict, run_id: int):
    """A run's lines, one per member and kind (treasurers); filter by `kind`."""
    found = _run(run_id)
    query = sa.select(RunLine).where(RunLine.run_id == found.id)
    if args.get("kind"):
        query = query.where(RunLine.kind == args["kind"])
    return page_body(page_of(query, RunLine.id, f"runs/{found.id}/lines", args,
                             convert=_line_body))


def _line_body(line: RunLine) -> dict:
    return {"id": line.id, "membership_id": line.membership_id, "kind": str(line.kind),
            "amount": line.amount, "shortfall": line.shortfall, "claim_id": line.claim_id,
            "for_period": line.for_period, "entry_id": line.entry_id}


@blp.route("/collectives/<slug>/runs", methods=["POST"])
@scoped(T)
@blp.arguments(RunIn)
@blp.response(200, RunStartedOut)
@blp.doc(parameters=[PARAMETER])
def start_run(data: dict):
    """Run a month's contributions or payouts now, as the treasurer's page does (the
    service refuses a month that has not ended, and payouts before the month's
    contributions). A run posts once per month however often it is asked."""

    def start():
        kind = RunKind(data["kind"])
        result = runs.run(g.collective.id, kind, data["period"], today=g.today,
                          triggered_by=g.membership.user.email)
        outcome = ("skipped" if result.skipped else
                   "already_done" if result.already_done else "posted")
        return RunStartedOut().dump({
            "kind": kind.value, "period": result.period, "outcome": outcome,
            "skipped": result.skipped, "total_amount": result.total,
            "shortfall_amount": result.shortfall, "entry_count": result.entries,
            "run": _run_body(result.run) if result.run is not None else None}), 200

    return written(start)

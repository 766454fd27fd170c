"""Claims on the fund: filed by a member, decided by a treasurer (never their own) or by the
members' vote, withdrawn by the claimant. Every status change is an event.

Services flush and never commit; "today" and "now" come from the caller.
"""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective import audit
from collective.benefits import notices, recovery
from collective.benefits.compute import add_months, month_start
from collective.benefits.models import (
    BenefitKind,
    BenefitRun,
    Claim,
    ClaimEvent,
    ClaimStatus,
    RunLine,
    RunLineKind,
)
from collective.benefits.plans import TREASURER, plan_in_force, plan_terms
from collective.errors import Conflict, DomainError, NotFound
from collective.extensions import db
from collective.members.models import (
    Membership,
    MembershipStatus,
    Proposal,
    ProposalKind,
    ProposalStatus,
)
from collective.members.proposals import open_proposal, withdraw_proposal
from collective.members.services import require_role
from collective.money import MAX_MINOR_UNITS, format_money

BENEFIT_CLAIM = ProposalKind.BENEFIT_CLAIM


def _contributed_months(membership_id: int, before: date) -> int:
    """How many months the member contributed to (or settled) before `before`."""
    return db.session.scalar(
        sa.select(sa.func.count(sa.distinct(BenefitRun.period)))
        .join(RunLine, RunLine.run_id == BenefitRun.id)
        .where(RunLine.membership_id == membership_id,
               RunLine.kind.in_([RunLineKind.CONTRIBUTION, RunLineKind.SETTLED]),
               BenefitRun.period < before)) or 0


def _open_claims(membership_id: int, kind: BenefitKind) -> list[Claim]:
    """The member's pending and approved claims of one kind."""
    return list(db.session.scalars(sa.select(Claim).where(
        Claim.membership_id == membership_id, Claim.kind == kind.value,
        Claim.status.in_([ClaimStatus.PENDING.value, ClaimStatus.APPROVED.value]))))


def file_claim(
    actor: Membership,
    *,
    kind: BenefitKind | str,
    start_period: date,
    today: date,
    now: datetime,
    months: int = 1,
    amount: int = 0,
    invoice_amount: int = 0,
    note: str = "",
) -> Claim:
    """File a claim; the plan's rules are checked now, with a message for each refusal."""
    if actor.status == MembershipStatus.REMOVED:
        raise NotFound("no such member")
    try:
        kind = BenefitKind(kind)
    except ValueError as exc:
        raise DomainError(f"{kind!r} is not a kind of benefit", field="kind") from exc
    ill_from, start_period = start_period, month_start(start_period)
    plan = plan_in_force(actor.collective_id, start_period)
    if plan is None:
        raise DomainError("the fund has no plan for that month", field="start_period")
    terms = plan_terms(plan)
    rule = terms.rule(kind.value)
    if rule is None:
        raise DomainError(f"the plan does not cover {kind.label}", field="kind")
    this_month = month_start(today)
    if start_period < add_months(this_month, -3):
        raise DomainError("a claim can start at most three months back", field="start_period")
    if start_period > add_months(this_month, 12):
        raise DomainError("a claim can start at most a year ahead", field="start_period")
    continues = (recovery.relapsed_claim(actor.id, kind, ill_from, terms.relapse_weeks)
                 if rule.is_monthly else None)
    contributed = _contributed_months(actor.id, start_period)
    if continues is None and contributed < terms.eligibility_months:
        raise DomainError(f"claims need {terms.eligibility_months} month(s) of contributions "
                          f"before they start; you have {contributed}", field="start_period")
    if rule.is_monthly:
        if isinstance(months, bool) or not isinstance(months, int) or months < 1:
            raise DomainError("a claim covers at least one month", field="months")
        waiting, left = rule.waiting_months, rule.max_months
        if continues is not None:
            # A relapse: no new waiting months, only what is left of the maximum, from the
            # month after the last one the earlier claim covers.
            earlier = recovery.chain(continues)
            waiting = 0
            left = rule.max_months - recovery.months_paid_on(earlier, rule.waiting_months)
            start_period = max(start_period, recovery.covered_until(continues))
        if months - waiting > left:
            more = "" if continues is None else f"; {max(left, 0)} are left on this illness"
            raise DomainError(f"{kind.label} is paid for at most {rule.max_months} months, "
                              f"waiting months not counted{more}", field="months")
        if months <= waiting:
            raise DomainError(f"the first {rule.waiting_months} month(s) of {kind.label} are "
                              "a waiting period, so this claim would pay nothing",
                              field="months")
        end = add_months(start_period, months)
        for other in _open_claims(actor.id, kind):
            if other.start_period < end and start_period < recovery.covered_until(other):
                raise DomainError(f"you already have a {kind.label} claim for those months",
                                  field="start_period")
        amount = 0
    else:
        months = 1
        start_period = max(start_period, this_month)
        if kind == BenefitKind.UNPAID_INVOICE:
            if not isinstance(invoice_amount, int) or not 0 < invoice_amount <= MAX_MINOR_UNITS:
                raise DomainError("give the unpaid invoice's amount", field="invoice_amount")
            amount = min(invoice_amount * rule.invoice_bp // 10_000, int(rule.amount))
        elif not isinstance(amount, int) or not 0 < amount <= int(rule.amount):
            cap = format_money(int(rule.amount), actor.collective.base_currency)
            raise DomainError(f"{kind.label} pays at most {cap}",
                              field="amount")
        if rule.per_year:
            year = start_period.year
            used = sum(1 for c in _open_claims(actor.id, kind)
                       if c.start_period.year == year)
            if used >= rule.per_year:
                raise DomainError(f"{kind.label} can be claimed {rule.per_year} time(s) a "
                                  "year", field="kind")
    claim = Claim(collective_id=actor.collective_id, membership_id=actor.id, kind=kind.value,
                  start_period=start_period, months=months, amount=amount,
                  invoice_amount=invoice_amount or 0, note=(note or "")[:2000],
                  status=ClaimStatus.PENDING.value, created_at=now)
    if continues is not None:
        # The same illness, already decided: it goes on under that decision.
        claim.continues_id, claim.status = continues.id, ClaimStatus.APPROVED.value
        claim.decision_reason = (f"continues claim {continues.id}: ill again on "
                                 f"{ill_from:%Y-%m-%d}, within {terms.relapse_weeks} weeks "
                                 "of recovering")
    db.session.add(claim)
    db.session.flush()
    db.session.add(ClaimEvent(claim_id=claim.id, status=claim.status, actor_id=actor.id,
                              note=claim.decision_reason or "filed", at=now))
    if rule.approval == "vote" and continues is None:
        proposal = open_proposal(
            actor, kind=BENEFIT_CLAIM, title=f"{kind.label.capitalize()} for "
            f"{actor.user.name}: {format_money(amount, actor.collective.base_currency)}",
            payload={"claim_id": claim.id},
            description=note or "", now=now)
        claim.proposal_id = proposal.id
    db.session.flush()
    notices.claim_filed(claim, now)
    return claim


def get_claim(collective_id: int, claim_id: int) -> Claim:
    """A claim of this collective, or NotFound."""
    claim = db.session.get(Claim, claim_id)
    if claim is None or claim.collective_id != collective_id:
        raise NotFound("no such claim in this collective")
    return claim


def _claims(collective_id: int, membership_id: int | None, status: ClaimStatus | None
            ) -> sa.Select:
    query = sa.select(Claim).filter_by(collective_id=collective_id)
    if membership_id is not None:
        query = query.filter_by(membership_id=membership_id)
    if status is not None:
        query = query.filter_by(status=status.value)
    return query


def claims_of(collective_id: int, membership_id: int | None = None,
              status: ClaimStatus | None = None, *, pending_first: bool = False,
              limit: int | None = None, offset: int = 0) -> list[Claim]:
    """Claims (one member's, or of one status), newest first (`pending_first`: the pending
    ones before the rest), with the claimant's name loaded; `limit` and `offset` page
    through them."""
    order = [Claim.id.desc()]
    if pending_first:
        order.insert(0, sa.case((Claim.status == ClaimStatus.PENDING.value, 0), else_=1))
    query = (_claims(collective_id, membership_id, status)
             .options(so.joinedload(Claim.membership).joinedload(Membership.user))
             .order_by(*order).offset(offset).limit(limit))
    return list(db.session.scalars(query))


def count_claims(collective_id: int, status: ClaimStatus | None = None) -> int:
    """How many claims the collective has (of one status)."""
    return db.session.scalar(
        _claims(collective_id, None, status).with_only_columns(sa.func.count(Claim.id)))


def _set_status(claim: Claim, status: ClaimStatus, actor_id: int | None, reason: str,
                now: datetime) -> None:
    """Move a pending claim to `status`, by a conditional UPDATE: of two treasurers
    deciding at once, or a decision racing a withdrawal, exactly one wins."""
    moved = db.session.execute(
        sa.update(Claim)
        .where(Claim.id == claim.id, Claim.status == ClaimStatus.PENDING.value)
        .values(status=status.value, decision_reason=reason[:1000], decided_by_id=actor_id)
        .execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        db.session.expire(claim)
        raise Conflict("this claim was decided by someone else meanwhile; reload the page",
                       field="reason")
    db.session.add(ClaimEvent(claim_id=claim.id, status=status.value, actor_id=actor_id,
                              note=reason[:1000], at=now))
    db.session.flush()
    db.session.expire(claim)
    if status in (ClaimStatus.APPROVED, ClaimStatus.REJECTED):
        notices.claim_decided(claim, now)


def decide_claim(actor: Membership, claim: Claim, *, approve: bool, reason: str,
                 now: datetime) -> Claim:
    """A treasurer (never the claimant) approves or rejects a pending claim, with a reason."""
    require_role(actor, TREASURER, action="decide claims")
    if claim.collective_id != actor.collective_id:
        raise NotFound("no such claim in this collective")
    if claim.membership_id == actor.id:
        raise DomainError("you cannot decide your own claim; another treasurer must",
                          field="reason")
    if claim.proposal_id is not None:
        raise DomainError("this claim is decided by the members' vote", field="reason")
    if claim.status != ClaimStatus.PENDING:
        raise Conflict(f"this claim is already {claim.status}", field="reason")
    if not (reason or "").strip():
        raise DomainError("give a reason the claimant will read", field="reason")
    status = ClaimStatus.APPROVED if approve else ClaimStatus.REJECTED
    _set_status(claim, status, actor.id, reason.strip(), now)
    _audit_decision(claim, status, actor.user_id, reason.strip())
    return claim


def _audit_decision(claim: Claim, status: ClaimStatus, actor_user_id: int | None,
                    reason: str, **details) -> None:
    audit.record(f"claim.{status.value}", collective=claim.collective_id, subject=claim,
                 actor=actor_user_id, membership_id=claim.membership_id,
                 kind=str(claim.kind), reason=reason, **details)


def withdraw_claim(actor: Membership, claim: Claim, *, now: datetime) -> Claim:
    """The claimant takes back a pending claim."""
    if claim.membership_id != actor.id:
        raise NotFound("no such claim of yours")
    if claim.status != ClaimStatus.PENDING:
        raise DomainError("only a pending claim can be withdrawn")
    _set_status(claim, ClaimStatus.WITHDRAWN, actor.id, "withdrawn by the claimant", now)
    if claim.proposal_id is not None:
        proposal = db.session.get(Proposal, claim.proposal_id)
        if proposal.status == ProposalStatus.OPEN:
            withdraw_proposal(actor, proposal, now=now)
    return claim


def _decide_by_vote(proposal: Proposal, status: ClaimStatus, words: str) -> None:
    """Apply a vote's outcome to its claim, if the claim is still waiting for it."""
    claim = db.session.get(Claim, proposal.payload["claim_id"])
    if claim is not None and claim.status == ClaimStatus.PENDING:
        reason = f"{words} by vote: {proposal.outcome}"
        _set_status(claim, status, None, reason, proposal.decided_at)
        _audit_decision(claim, status, None, reason, proposal_id=proposal.id)


def claimant_of(proposal: Proposal) -> set[int]:
    """Who may not vote on a claim's proposal: its claimant (a conflict of interest)."""
    claimant = db.session.scalar(sa.select(Claim.membership_id).where(
        Claim.id == (proposal.payload or {}).get("claim_id")))
    return {claimant} if claimant is not None else set()


def approve_by_vote(proposal: Proposal, _decided_on: date) -> None:
    """Adopter for claim proposals: the vote approves the claim."""
    _decide_by_vote(proposal, ClaimStatus.APPROVED, "approved")


def reject_by_vote(proposal: Proposal) -> None:
    """Rejecter for claim proposals: the vote turns the claim down."""
    _decide_by_vote(proposal, ClaimStatus.REJECTED, "not approved")

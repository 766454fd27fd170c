"""How long a monthly claim lasts: ended early when the member recovers, continued after a
relapse within the plan's relapse window, and at most the plan's months paid.

A claim covers whole months. Ended on a day (the member's first day well), it still pays the
month of the day before, when the member was ill, and no month after it. Ill again within
`relapse_weeks` of that day, the member continues the same claim: a continuation row that
points at it, approved with it, with no waiting months, and with only the months left of the
maximum. Services flush and never commit; "today" and "now" come from the caller.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective.benefits.compute import MONTHLY_KINDS, add_months, last_ill_month, paid_months
from collective.benefits.models import (
    BenefitKind,
    Claim,
    ClaimEvent,
    ClaimStatus,
    RunLine,
    RunLineKind,
)
from collective.benefits.plans import TREASURER
from collective.errors import DomainError, NotFound
from collective.extensions import db
from collective.ledger import services as ledger
from collective.members.models import Membership
from collective.members.services import require_role

#: Claims that can still end early (a rejected or withdrawn one never ran).
_RUNNING = (ClaimStatus.PENDING.value, ClaimStatus.APPROVED.value)


def covered_until(claim: Claim) -> date:
    """The first month after the claim: its last month asked for, or earlier if it ended."""
    end = add_months(claim.start_period, claim.months)
    last = last_ill_month(claim.ended_on)
    return end if last is None else min(end, add_months(last, 1))


def chain(claim: Claim) -> list[Claim]:
    """The claim and the claims it continues, first claim first."""
    claims = [claim]
    while claims[0].continues_id is not None:
        claims.insert(0, db.session.get(Claim, claims[0].continues_id))
    return claims


def months_paid_on(claims: list[Claim], waiting_months: int) -> int:
    """How many months a chain of claims pays (or will pay): the waiting months of its first
    claim do not count, and a continuation has none."""
    return sum(len(paid_months(c.start_period, c.months, 0 if i else waiting_months,
                               c.ended_on)) for i, c in enumerate(claims))


def relapsed_claim(membership_id: int, kind: BenefitKind, ill_from: date,
                   relapse_weeks: int) -> Claim | None:
    """The member's approved claim of this kind that ended early at most `relapse_weeks`
    before `ill_from` (and is not continued yet): being ill again continues it."""
    window = timedelta(weeks=relapse_weeks)
    continued = so.aliased(Claim)
    return db.session.scalars(sa.select(Claim).where(
        Claim.membership_id == membership_id, Claim.kind == kind.value,
        Claim.status == ClaimStatus.APPROVED.value, Claim.ended_on.is_not(None),
        Claim.ended_on <= ill_from, Claim.ended_on >= ill_from - window,
        ~sa.exists().where(continued.continues_id == Claim.id))
        .order_by(Claim.ended_on.desc(), Claim.id.desc()).limit(1)).first()


def end_claim(actor: Membership, claim: Claim, *, recovered_on: date, today: date,
              now: datetime) -> Claim:
    """The claimant, or a treasurer, ends a sick or parental claim early: `recovered_on` is
    the member's first day well. The month before that day is the last one paid."""
    if claim.collective_id != actor.collective_id:
        raise NotFound("no such claim in this collective")
    if claim.membership_id != actor.id:
        require_role(actor, TREASURER, action="end another member's claim")
    if claim.kind not in MONTHLY_KINDS:
        raise DomainError("only sick or parental leave runs for months and can end early",
                          field="recovered_on")
    if claim.status not in _RUNNING:
        raise DomainError(f"this claim is {claim.status}; there is nothing to end",
                          field="recovered_on")
    if claim.ended_on is not None:
        raise DomainError(f"this claim already ended on {claim.ended_on:%Y-%m-%d}",
                          field="recovered_on")
    if recovered_on > today:
        raise DomainError("give the day of recovery once it has come", field="recovered_on")
    if recovered_on <= claim.start_period:
        raise DomainError(f"the claim starts on {claim.start_period:%Y-%m-%d}; recovery comes "
                          "after that (withdraw a claim that never began)",
                          field="recovered_on")
    last = last_ill_month(recovered_on)
    if last >= add_months(claim.start_period, claim.months - 1):
        raise DomainError(f"the claim ends by itself after {last:%B %Y}; there is nothing "
                          "to end early", field="recovered_on")
    # The same lock as the runs: a payout run never reads the claim while it ends.
    ledger.lock_balances(claim.collective_id)
    paid_after = db.session.scalars(sa.select(RunLine.for_period).where(
        RunLine.claim_id == claim.id, RunLine.kind == RunLineKind.BENEFIT,
        RunLine.amount > 0, RunLine.for_period > last).order_by(RunLine.for_period)).all()
    if paid_after:
        raise DomainError(f"{paid_after[0]:%B %Y} was paid already; give the first day well "
                          "after it, or ask a treasurer to settle the difference",
                          field="recovered_on")
    claim.ended_on = recovered_on
    who = "the claimant" if actor.id == claim.membership_id else "a treasurer"
    db.session.add(ClaimEvent(claim_id=claim.id, status=claim.status, actor_id=actor.id,
                              note=f"ended by {who}: well again on {recovered_on:%Y-%m-%d}; "
                                   f"{last:%B %Y} is the last month paid", at=now))
    db.session.flush()
    return claim

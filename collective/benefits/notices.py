"""Telling people about claims: one filed (to the collective's treasurers, never the
claimant) and one decided (to the claimant alone, with the reason). Flush, never commit."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective.benefits.kinds import BenefitKind
from collective.benefits.models import Claim, ClaimStatus
from collective.extensions import db
from collective.members.models import Membership, MembershipRole, MembershipStatus, Role
from collective.notifications.kinds import Kind
from collective.notifications.service import notify
from collective.notifications.wording import format_money, page


def _what(claim: Claim, currency: str) -> str:
    return f"{BenefitKind(claim.kind).label} of {format_money(claim.amount, currency)}"


def _link(claim: Claim, slug: str) -> str:
    return page("fund.claim", slug=slug, claim_id=claim.id)


def claim_filed(claim: Claim, now: datetime) -> None:
    """Tell each treasurer (other than the claimant) that a claim waits."""
    claimant = db.session.get(Membership, claim.membership_id)
    collective = claimant.collective
    treasurers = db.session.scalars(
        sa.select(Membership).join(MembershipRole).options(so.joinedload(Membership.user))
        .where(Membership.collective_id == claim.collective_id,
               Membership.status != MembershipStatus.REMOVED.value,
               MembershipRole.role == Role.TREASURER.value,
               Membership.id != claim.membership_id).order_by(Membership.id))
    status = ("it continues an earlier claim, already approved"
              if claim.status == ClaimStatus.APPROVED else "it waits for a decision")
    for treasurer in treasurers:
        notify(treasurer, kind=Kind.CLAIM_FILED, event_key=f"claim-filed:{claim.id}",
               title=f"{claimant.user.name} filed a claim: "
                     f"{_what(claim, collective.base_currency)}",
               body=f"Claim {claim.id}: {status}.", link=_link(claim, collective.slug),
               now=now)


def claim_decided(claim: Claim, now: datetime) -> None:
    """Tell the claimant, and only them, how their claim was decided and why."""
    claimant = db.session.get(Membership, claim.membership_id)
    collective = claimant.collective
    verdict = "approved" if claim.status == ClaimStatus.APPROVED else "not approved"
    notify(claimant, kind=Kind.CLAIM_DECIDED, event_key=f"claim-decided:{claim.id}",
           title=f"Your claim was {verdict}: {_what(claim, collective.base_currency)}",
           body=f"Reason: {claim.decision_reason}", link=_link(claim, collective.slug),
           now=now)

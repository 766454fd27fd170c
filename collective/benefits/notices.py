"""Telling people about claims: one filed (to the collective's treasurers, never the
claimant) and one decided (to the claimant alone, with the reason); about fund runs, done
or failed (to the treasurers); and a contribution owed or settled (to its member alone).
Claims decided and runs finished are told to the collective's webhooks too. Flush, never
commit."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective.benefits.kinds import BenefitKind
from collective.benefits.models import BenefitRun, Claim, ClaimStatus, RunLine, RunLineKind
from collective.extensions import db
from collective.members.models import (
    Collective,
    Membership,
    MembershipRole,
    MembershipStatus,
    Role,
)
from collective.notifications.kinds import Kind
from collective.notifications.service import notify
from collective.notifications.wording import format_money, page
from collective.web.formatting import month_label
from collective.webhooks.events import EventType
from collective.webhooks.outbox import emit


def _what(claim: Claim, currency: str) -> str:
    return f"{BenefitKind(claim.kind).label} of {format_money(claim.amount, currency)}"


def _link(claim: Claim, slug: str) -> str:
    return page("fund.claim", slug=slug, claim_id=claim.id)


def _treasurers(collective_id: int, but: int | None = None) -> list[Membership]:
    query = (sa.select(Membership).join(MembershipRole)
             .options(so.joinedload(Membership.user))
             .where(Membership.collective_id == collective_id,
                    Membership.status != MembershipStatus.REMOVED.value,
                    MembershipRole.role == Role.TREASURER.value).order_by(Membership.id))
    if but is not None:
        query = query.where(Membership.id != but)
    return list(db.session.scalars(query))


def claim_filed(claim: Claim, now: datetime) -> None:
    """Tell each treasurer (other than the claimant) that a claim waits."""
    claimant = db.session.get(Membership, claim.membership_id)
    collective = claimant.collective
    treasurers = _treasurers(claim.collective_id, but=claim.membership_id)
    status = ("it continues an earlier claim, already approved"
              if claim.status == ClaimStatus.APPROVED else "it waits for a decision")
    for treasurer in treasurers:
        notify(treasurer, kind=Kind.CLAIM_FILED, event_key=f"claim-filed:{claim.id}",
               title=f"{claimant.user.name} filed a claim: "
                     f"{_what(claim, collective.base_currency)}",
               body=f"Claim {claim.id}: {status}.", link=_link(claim, collective.slug),
               now=now)


def claim_decided(claim: Claim, now: datetime) -> None:
    """Tell the claimant, and only them, how their claim was decided and why; and the
    collective's webhooks that it was decided (the reason stays in the app)."""
    claimant = db.session.get(Membership, claim.membership_id)
    collective = claimant.collective
    emit(collective, EventType.CLAIM_DECIDED, key=str(claim.id), now=now, data={
        "claim_id": claim.id, "membership_id": claim.membership_id,
        "kind": str(claim.kind), "status": str(claim.status),
        "amount": claim.amount, "currency": collective.base_currency},
        link=_link(claim, collective.slug))
    verdict = "approved" if claim.status == ClaimStatus.APPROVED else "not approved"
    notify(claimant, kind=Kind.CLAIM_DECIDED, event_key=f"claim-decided:{claim.id}",
           title=f"Your claim was {verdict}: {_what(claim, collective.base_currency)}",
           body=f"Reason: {claim.decision_reason}", link=_link(claim, collective.slug),
           now=now)


def fund_run_done(run: BenefitRun, total: int, shortfall: int) -> None:
    """Tell the treasurers, and the collective's webhooks, that a fund run posted (the
    scheduler's, or one started by hand)."""
    collective_id, kind, period = run.collective_id, str(run.kind), run.period
    collective = db.session.get(Collective, collective_id)
    base = collective.base_currency
    emit(collective, EventType.RUN_FINISHED, key=f"{kind}:{period:%Y-%m}", data={
        "run_id": run.id, "kind": kind, "period": f"{period:%Y-%m}", "total_amount": total,
        "shortfall_amount": shortfall, "currency": base, "entries": run.entry_count},
        link=page("fund.treasurer", slug=collective.slug))
    treasurers = _treasurers(collective_id)
    if not treasurers:
        return
    body = f"Total {format_money(total, base)}."
    if shortfall:
        body += f" Shortfall {format_money(shortfall, base)}."
    for treasurer in treasurers:
        notify(treasurer, kind=Kind.FUND_RUN,
               event_key=f"fund-run:{collective_id}:{kind}:{period.isoformat()}",
               title=f"Fund run done: {kind} for {month_label(period)}", body=body,
               link=page("fund.treasurer", slug=collective.slug))


def fund_runs_failed(collective_id: int, today: date, error: str) -> None:
    """Tell the treasurers the scheduler's fund runs failed today (once a day)."""
    treasurers = _treasurers(collective_id)
    for treasurer in treasurers:
        notify(treasurer, kind=Kind.FUND_RUN,
               event_key=f"fund-run-failed:{collective_id}:{today.isoformat()}",
               title="The fund's scheduled runs failed today",
               body=f"Nothing of the failed run was posted; it is tried again tomorrow. "
                    f"Error: {error[:300]}",
               link=page("fund.treasurer", slug=treasurer.collective.slug))


def contributions_owed_or_settled(run: BenefitRun) -> None:
    """After a contributions run: tell each member whose contribution could not be paid
    (owed) or whose earlier arrears were paid (settled) their own amounts, and nobody else's.
    """
    rows = db.session.execute(
        sa.select(RunLine.membership_id, RunLine.kind, sa.func.sum(RunLine.amount))
        .where(RunLine.run_id == run.id,
               RunLine.kind.in_([RunLineKind.OWED.value, RunLineKind.SETTLED.value]))
        .group_by(RunLine.membership_id, RunLine.kind)).all()
    amounts: dict[int, dict[str, int]] = {}
    for membership_id, kind, amount in rows:
        if amount:
            amounts.setdefault(membership_id, {})[str(kind)] = int(amount)
    month = month_label(run.period)
    for member_id, by_kind in sorted(amounts.items()):
        member = db.session.get(Membership, member_id)
        base, slug = member.collective.base_currency, member.collective.slug
        parts = []
        if by_kind.get(RunLineKind.OWED.value):
            parts.append(f"{format_money(by_kind[RunLineKind.OWED.value], base)} of your "
                         f"{month} contribution could not be paid from what you are owed; "
                         "it is settled from your next shares")
        if by_kind.get(RunLineKind.SETTLED.value):
            parts.append(f"{format_money(by_kind[RunLineKind.SETTLED.value], base)} you "
                         "owed the fund from earlier months was settled")
        title = ("Your fund contribution is owed" if RunLineKind.OWED.value in by_kind
                 else "Your owed fund contribution was settled")
        notify(member, kind=Kind.CONTRIBUTION, event_key=f"contribution:{run.id}:{member_id}",
               title=f"{title} ({month})", body="; ".join(parts) + ".",
               link=page("fund.my_fund", slug=slug))

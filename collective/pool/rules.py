"""Share rules: the founding rule, proposals to change it, adoption by vote, and the
preview of what a proposed rule would have paid."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa

from collective.errors import DomainError, NotAllowed
from collective.extensions import db
from collective.members.models import (
    Membership,
    MembershipStatus,
    Proposal,
    ProposalKind,
    Role,
    User,
)
from collective.members.terms import TermsKind
from collective.pool import compute
from collective.pool.checks import FAIRNESS_WINDOW, OLDEST
from collective.pool.kinds import describe_terms
from collective.pool.models import ClientPayment, Pitch, ShareRule, SplitMethod
from collective.pool.participation import counted, participants_of
from collective.pool.queries import frame, split_seeds_column

if TYPE_CHECKING:
    import pandas as pd

#: The proposal kind of a share rule.
SHARE_RULE = ProposalKind.SHARE_RULE
#: How far ahead a share rule may start.
LATEST_START = timedelta(days=730)


def terms_from(common_fund_bp: int, finder_fee_bp: int, method: str) -> compute.RuleTerms:
    """Checked share rule numbers."""
    for name, value in (("common_fund_bp", common_fund_bp), ("finder_fee_bp", finder_fee_bp)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10_000:
            raise DomainError("shares are 0% to 100%", field=name)
    if common_fund_bp + finder_fee_bp > 10_000:
        raise DomainError("the common fund and finder's fee together exceed 100%",
                          field="finder_fee_bp")
    try:
        method = SplitMethod(method).value
    except ValueError as exc:
        raise DomainError(f"{method!r} is not a way to split", field="method") from exc
    return compute.RuleTerms(common_fund_bp, finder_fee_bp, method)


def rule_terms(rule: ShareRule) -> compute.RuleTerms:
    """The numbers of a stored rule."""
    return compute.RuleTerms(rule.common_fund_bp, rule.finder_fee_bp, rule.method)


def _rule_start(effective_on: date, today: date) -> date:
    """A rule starts at most three years back (books caught up) or two years ahead."""
    if not today - OLDEST <= effective_on <= today + LATEST_START:
        raise DomainError("the rule starts at most three years back or two years ahead",
                          field="effective_on")
    return effective_on


def _default_title(terms: compute.RuleTerms) -> str:
    """A share-rule proposal's title in words."""
    return f"Share rule: {describe_terms(terms)}"


def _columns(terms: compute.RuleTerms) -> dict:
    """A rule's numbers as its columns, and as a proposal's payload."""
    return {"common_fund_bp": terms.common_fund_bp, "finder_fee_bp": terms.finder_fee_bp,
            "method": str(terms.method)}


def may_propose_rule(actor: Membership) -> bool:
    """Whether the member may propose a share-rule change: any active member when the
    collective leaves it open to every member (its default), else coordinators and
    treasurers only."""
    if actor.status != MembershipStatus.ACTIVE:
        return False
    if actor.collective.is_rule_proposing_open:
        return True
    return actor.has_role(Role.COORDINATOR, Role.TREASURER)


def check_rule_proposer(actor: Membership) -> None:
    """NotAllowed unless the member may propose a share-rule change (may_propose_rule)."""
    if may_propose_rule(actor):
        return
    if actor.status != MembershipStatus.ACTIVE:
        raise NotAllowed("active member", "propose a share rule")
    raise NotAllowed("coordinator or treasurer", "propose a share rule in this collective")


#: Share rules are terms: versioned, in force from a day, changed by a vote that applies
#: from the proposed day or the day it is decided.
SHARE_RULES: TermsKind[compute.RuleTerms] = TermsKind(
    proposal_kind=SHARE_RULE, model=ShareRule, noun="share rule", columns=_columns,
    to_payload=_columns,
    from_payload=lambda p: terms_from(p["common_fund_bp"], p["finder_fee_bp"], p["method"]),
    check_start=_rule_start, start_after_vote=lambda decided_on: decided_on,
    default_title=_default_title, check_proposer=check_rule_proposer)


def rule_in_force(collective_id: int, on: date) -> ShareRule | None:
    """The share rule that governs payments received on `on`."""
    return SHARE_RULES.in_force(collective_id, on)


def rules_of(collective_id: int, *, limit: int | None = None) -> list[ShareRule]:
    """Every version of the collective's share rule (the latest `limit`), newest first."""
    return SHARE_RULES.versions(collective_id, limit)


def set_founding_rule(actor: Membership, terms: compute.RuleTerms, effective_on: date, *,
                      today: date) -> ShareRule:
    """The rule a collective starts with (its founding agreement); later ones are voted."""
    return SHARE_RULES.set_founding(actor, terms, effective_on, today=today)


def propose_share_rule(actor: Membership, terms: compute.RuleTerms, *, effective_on: date,
                       title: str = "", description: str = "",
                       deadline_at: datetime | None = None, today: date,
                       now: datetime) -> Proposal:
    """Put a new share rule to the members' vote."""
    return SHARE_RULES.propose(actor, terms, effective_on=effective_on, today=today, now=now,
                               title=title, description=description, deadline_at=deadline_at)


#: The share rule a proposal would adopt.
proposal_terms = SHARE_RULES.proposed


def preview_rule(collective_id: int, proposed: compute.RuleTerms, today: date
                 ) -> pd.DataFrame:
    """How the last 90 days of payments would have split under `proposed` and under the
    rule in force today: one row per member, and the common fund as membership 0.

    Each payment is split over the hours it used when it was recorded (its links), so the
    preview under the rule in force is what the payments paid. A fixed number of queries,
    however many payments the window holds.
    """
    current_rule = rule_in_force(collective_id, today)
    current = rule_terms(current_rule) if current_rule else proposed
    in_window = (ClientPayment.collective_id == collective_id,
                 ClientPayment.received_on > today - FAIRNESS_WINDOW,
                 ClientPayment.received_on <= today, counted())
    payments = frame(
        sa.select(ClientPayment.id, ClientPayment.pitch_id, ClientPayment.received_on,
                  ClientPayment.split_amount, Pitch.finder_id, split_seeds_column())
        .join(Pitch, Pitch.id == ClientPayment.pitch_id).where(*in_window),
        ["payment_id", "pitch_id", "received_on", "base_amount", "finder_id", "seed"])
    participants = participants_of(payments)
    table = compute.preview_payments(payments, participants, current, proposed)
    names = dict(db.session.execute(
        sa.select(Membership.id, User.name).join(User, User.id == Membership.user_id)
        .where(Membership.collective_id == collective_id)).all())
    table["name"] = [names.get(m, "Common fund") if m else "Common fund"
                     for m in table["membership_id"]]
    return table.sort_values("membership_id").reset_index(drop=True)

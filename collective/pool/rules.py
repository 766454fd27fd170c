"""Share rules: the founding rule, proposals to change it, adoption by vote, and the
preview of what a proposed rule would have paid."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd
import sqlalchemy as sa

from collective.errors import Conflict, DomainError
from collective.extensions import db
from collective.members.models import Membership, Proposal, User
from collective.members.proposals import open_proposal
from collective.members.services import require_role
from collective.pool import compute
from collective.pool.checks import FAIRNESS_WINDOW, OLDEST, TREASURER
from collective.pool.models import ClientPayment, Pitch, ShareRule, SplitMethod
from collective.pool.participation import counted, participants_of
from collective.pool.queries import frame

#: The proposal kind of a share rule.
SHARE_RULE = "share_rule"
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


def rule_in_force(collective_id: int, on: date) -> ShareRule | None:
    """The share rule that governs payments received on `on`."""
    return db.session.scalar(
        sa.select(ShareRule).where(ShareRule.collective_id == collective_id,
                                   ShareRule.effective_on <= on)
        .order_by(ShareRule.effective_on.desc(), ShareRule.version.desc()).limit(1))


def rules_of(collective_id: int) -> list[ShareRule]:
    """Every version of the collective's share rule, newest first."""
    return list(db.session.scalars(
        sa.select(ShareRule).filter_by(collective_id=collective_id)
        .order_by(ShareRule.version.desc())))


def _add_rule(collective_id: int, terms: compute.RuleTerms, effective_on: date,
              proposal_id: int | None) -> ShareRule:
    version = (db.session.scalar(sa.select(sa.func.max(ShareRule.version))
                                 .filter_by(collective_id=collective_id)) or 0) + 1
    rule = ShareRule(collective_id=collective_id, version=version,
                     common_fund_bp=terms.common_fund_bp, finder_fee_bp=terms.finder_fee_bp,
                     method=terms.method, effective_on=effective_on, proposal_id=proposal_id)
    db.session.add(rule)
    db.session.flush()
    return rule


def set_founding_rule(actor: Membership, terms: compute.RuleTerms, effective_on: date, *,
                      today: date) -> ShareRule:
    """The rule a collective starts with (its founding agreement); later ones are voted."""
    require_role(actor, TREASURER, action="set the founding share rule")
    if rules_of(actor.collective_id):
        raise Conflict("the collective already has a share rule; propose a change instead")
    if not today - OLDEST <= effective_on <= today + LATEST_START:
        raise DomainError("the rule starts at most three years back or two years ahead",
                          field="effective_on")
    return _add_rule(actor.collective_id, terms, effective_on, None)


def propose_share_rule(actor: Membership, terms: compute.RuleTerms, *, effective_on: date,
                       title: str = "", description: str = "",
                       deadline_at: datetime | None = None, today: date,
                       now: datetime) -> Proposal:
    """Put a new share rule to the members' vote."""
    require_role(actor, TREASURER, action="propose share rules")
    if not today - OLDEST <= effective_on <= today + LATEST_START:
        raise DomainError("the rule must take effect within two years", field="effective_on")
    payload = {"common_fund_bp": terms.common_fund_bp, "finder_fee_bp": terms.finder_fee_bp,
               "method": terms.method, "effective_on": effective_on.isoformat()}
    method = {"hours": "by logged hours", "equal": "equally",
              "weights": "by allocation weights"}[terms.method]
    default_title = (f"Share rule: {terms.common_fund_bp / 100:g}% common fund, "
                     f"{terms.finder_fee_bp / 100:g}% finder's fee, the rest {method}")
    return open_proposal(actor, kind=SHARE_RULE, title=title or default_title, payload=payload,
                         description=description, deadline_at=deadline_at, now=now)


def adopt_share_rule(proposal: Proposal, decided_on: date) -> None:
    """Adopter for share-rule proposals: the new rule applies from its date or the decision."""
    payload = proposal.payload
    terms = terms_from(payload["common_fund_bp"], payload["finder_fee_bp"], payload["method"])
    effective_on = max(date.fromisoformat(payload["effective_on"]), decided_on)
    _add_rule(proposal.collective_id, terms, effective_on, proposal.id)


def proposal_terms(proposal: Proposal) -> compute.RuleTerms:
    """The share rule a proposal would adopt."""
    p = proposal.payload
    return compute.RuleTerms(p["common_fund_bp"], p["finder_fee_bp"], p["method"])


def preview_rule(collective_id: int, proposed: compute.RuleTerms, today: date
                 ) -> pd.DataFrame:
    """How the last 90 days of payments would have split under `proposed` and under the
    rule in force today: one row per member, and the common fund as membership 0.

    A fixed number of queries, however many payments the window holds.
    """
    current_rule = rule_in_force(collective_id, today)
    current = rule_terms(current_rule) if current_rule else proposed
    in_window = (ClientPayment.collective_id == collective_id,
                 ClientPayment.received_on > today - FAIRNESS_WINDOW,
                 ClientPayment.received_on <= today, counted())
    payments = frame(
        sa.select(ClientPayment.id, ClientPayment.pitch_id, ClientPayment.received_on,
                  ClientPayment.base_amount, Pitch.finder_id)
        .join(Pitch, Pitch.id == ClientPayment.pitch_id).where(*in_window),
        ["payment_id", "pitch_id", "received_on", "base_amount", "finder_id"])
    participants = participants_of(
        payments, sa.select(ClientPayment.pitch_id).where(*in_window), today)
    table = compute.preview_payments(payments, participants, current, proposed)
    names = dict(db.session.execute(
        sa.select(Membership.id, User.name).join(User, User.id == Membership.user_id)
        .where(Membership.collective_id == collective_id)).all())
    table["name"] = [names.get(m, "Common fund") if m else "Common fund"
                     for m in table["membership_id"]]
    return table.sort_values("membership_id").reset_index(drop=True)

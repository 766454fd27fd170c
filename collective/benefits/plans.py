"""The fund's plans (versioned, changed by the members' vote) and members' benefit levels.

Services flush and never commit; "today" and "now" come from the caller.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime

import sqlalchemy as sa

from collective.benefits import compute
from collective.benefits.compute import PlanError, PlanTerms, add_months, month_start
from collective.benefits.models import BenefitPlan, MemberLevel
from collective.errors import DomainError
from collective.extensions import db
from collective.members.models import Collective, Membership, Proposal, ProposalKind, Role
from collective.members.terms import TermsKind

BENEFIT_PLAN = ProposalKind.BENEFIT_PLAN
TREASURER = Role.TREASURER


# --- Plans --------------------------------------------------------------------------------


def plan_terms(plan: BenefitPlan) -> PlanTerms:
    """The checked terms of a stored plan."""
    return PlanTerms.from_json(plan.terms)


def plan_in_force(collective_id: int, on: date) -> BenefitPlan | None:
    """The plan that governs the month of `on`."""
    return BENEFIT_PLANS.in_force(collective_id, on)


def plans_of(collective_id: int, *, limit: int | None = None) -> list[BenefitPlan]:
    """Every plan version (the latest `limit`), newest first."""
    return BENEFIT_PLANS.versions(collective_id, limit)


def first_period(collective_id: int) -> date | None:
    """The first month the fund had a plan."""
    start = db.session.scalar(sa.select(sa.func.min(BenefitPlan.effective_on))
                              .filter_by(collective_id=collective_id))
    return month_start(start) if start else None


def collectives_with_plans() -> list[tuple[int, str, str]]:
    """(id, slug, timezone) of every live collective that has a benefit plan."""
    return [tuple(row) for row in db.session.execute(
        sa.select(Collective.id, Collective.slug, Collective.timezone)
        .where(Collective.archived_at.is_(None),
               Collective.id.in_(sa.select(BenefitPlan.collective_id)))
        .order_by(Collective.id)).all()]


def check_terms(data: Mapping | None) -> PlanTerms:
    """Plan terms from JSON, or a DomainError naming the part at fault."""
    if not isinstance(data, Mapping):
        raise DomainError("the plan's terms are missing", field="terms")
    try:
        return PlanTerms.from_json(data)
    except PlanError as exc:
        raise DomainError(str(exc), field=exc.field) from exc
    except (AttributeError, TypeError, ValueError) as exc:
        # A part of another shape than the plan's (a list for an object, say), as JSON
        # from the API can be: a refusal naming the terms, never a crash.
        raise DomainError("the plan's terms are not in a plan's shape", field="terms") from exc


def _check_plan_month(effective_on: date, today: date) -> date:
    """A plan starts within a year back (a fund catching up its books) or two years ahead."""
    this_month = month_start(today)
    month = month_start(effective_on)
    if not add_months(this_month, -12) <= month <= add_months(this_month, 24):
        raise DomainError("a plan starts at most a year back or two years ahead",
                          field="effective_on")
    return month


#: Benefit plans are terms: versioned by month, changed by a vote that applies from the
#: proposed month or the month after the vote, whichever is later.
BENEFIT_PLANS: TermsKind[PlanTerms] = TermsKind(
    proposal_kind=BENEFIT_PLAN, model=BenefitPlan, noun="benefit plan",
    columns=lambda terms: {"terms": terms.to_json()},
    to_payload=lambda terms: {"terms": terms.to_json()},
    from_payload=lambda payload: check_terms(payload.get("terms")),
    check_start=_check_plan_month,
    start_after_vote=lambda decided_on: add_months(month_start(decided_on), 1),
    default_title=lambda terms: "A new benefit plan")


def set_founding_plan(actor: Membership, terms: PlanTerms, effective_on: date, *,
                      today: date) -> BenefitPlan:
    """The plan the fund starts with; every later change goes to a vote."""
    return BENEFIT_PLANS.set_founding(actor, terms, effective_on, today=today)


def propose_plan(actor: Membership, terms: PlanTerms, *, effective_on: date,
                 title: str = "", description: str = "",
                 deadline_at: datetime | None = None, today: date,
                 now: datetime) -> Proposal:
    """Put a new benefit plan to the members' vote; `today` is the collective's own date,
    which the plan's start is checked against."""
    return BENEFIT_PLANS.propose(actor, terms, effective_on=effective_on, today=today, now=now,
                                 title=title, description=description, deadline_at=deadline_at)


# --- Levels -------------------------------------------------------------------------------


def level_of(membership_id: int, period: date) -> int:
    """The monthly benefit level a member chose for `period` (0 if never chosen)."""
    return db.session.scalar(
        sa.select(MemberLevel.benefit_amount)
        .where(MemberLevel.membership_id == membership_id, MemberLevel.from_period <= period)
        .order_by(MemberLevel.from_period.desc()).limit(1)) or 0


def levels_for(collective_id: int, period: date) -> dict[int, int]:
    """Every member's level for `period` in one query."""
    latest = (sa.select(MemberLevel.membership_id,
                        sa.func.max(MemberLevel.from_period).label("from_period"))
              .join(Membership, Membership.id == MemberLevel.membership_id)
              .where(Membership.collective_id == collective_id,
                     MemberLevel.from_period <= period)
              .group_by(MemberLevel.membership_id).subquery())
    rows = db.session.execute(
        sa.select(MemberLevel.membership_id, MemberLevel.benefit_amount)
        .join(latest, sa.and_(latest.c.membership_id == MemberLevel.membership_id,
                              latest.c.from_period == MemberLevel.from_period))).all()
    return dict(rows)


def levels_at(wanted: Iterable[tuple[int, date]]) -> dict[tuple[int, date], int]:
    """The level of each (membership_id, period) asked for (0 if never chosen), in one
    query: a claim's level is its claimant's level in the month the illness began."""
    wanted = set(wanted)
    history: defaultdict[int, list[tuple[date, int]]] = defaultdict(list)
    if wanted:
        for membership_id, from_period, amount in db.session.execute(
                sa.select(MemberLevel.membership_id, MemberLevel.from_period,
                          MemberLevel.benefit_amount)
                .where(MemberLevel.membership_id.in_({m for m, _ in wanted}))
                .order_by(MemberLevel.from_period)):
            history[membership_id].append((from_period, amount))
    return {(member, period): next((amount for start, amount in reversed(history[member])
                                    if start <= period), 0)
            for member, period in wanted}


def choose_level(actor: Membership, benefit_amount: int, *, today: date) -> MemberLevel:
    """Choose one's monthly benefit level, from next month; at most once per allowed period."""
    next_period = add_months(month_start(today), 1)
    plan = plan_in_force(actor.collective_id, next_period)
    if plan is None:
        raise DomainError("the fund has no plan yet", field="level")
    terms = plan_terms(plan)
    if terms.contribution_kind != compute.LEVELS:
        raise DomainError("this plan has no levels to choose from", field="level")
    if benefit_amount not in dict(terms.levels):
        raise DomainError("choose one of the plan's levels", field="level")
    last = db.session.scalar(
        sa.select(MemberLevel).filter_by(membership_id=actor.id)
        .order_by(MemberLevel.from_period.desc()).limit(1))
    if last is not None and last.from_period >= next_period:
        last.benefit_amount = benefit_amount  # a change of mind before it starts
        db.session.flush()
        return last
    if last is not None and terms.level_change_months:
        earliest = add_months(last.from_period, terms.level_change_months)
        if next_period < earliest:
            raise DomainError(f"levels can change once every {terms.level_change_months} "
                              f"months; your next change can start {earliest:%B %Y}",
                              field="level")
    level = MemberLevel(membership_id=actor.id, benefit_amount=benefit_amount,
                        from_period=next_period)
    db.session.add(level)
    db.session.flush()
    return level

"""The work pool's operations: clients, pitches, allocation, time, payments, shares, rules.

Every function takes the acting membership and checks its role; it flushes and never
commits. Money goes to the ledger through collective.ledger.services.post_entry only.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, DecimalException

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import orm as so

from collective.errors import Conflict, DomainError, NotFound
from collective.extensions import db, utcnow
from collective.ledger import services as ledger
from collective.ledger.models import Account, JournalEntry, Posting
from collective.members.models import (
    Membership,
    MembershipStatus,
    Proposal,
    Role,
    Skill,
    User,
)
from collective.members.proposals import open_proposal, register_adopter
from collective.members.services import require_role
from collective.money import (
    MAX_MINOR_UNITS,
    MoneyError,
    check_currency,
    format_money,
    format_plain,
    minor_digits,
)
from collective.pool import compute
from collective.pool.models import (
    ACTIVE_STATES,
    PAYABLE_STATES,
    POOL_STATES,
    TRANSITIONS,
    Allocation,
    Client,
    ClientPayment,
    Pitch,
    PitchEvent,
    PitchSkill,
    PitchState,
    ShareRule,
    SplitMethod,
    TimeEntry,
    Volunteer,
)

COORDINATOR = Role.COORDINATOR
TREASURER = Role.TREASURER
SHARE_RULE = "share_rule"
#: How far ahead a date may be (the member's day may already be tomorrow in UTC+14).
DATE_SLACK = timedelta(days=1)
#: Oldest date a payment or time entry may carry.
OLDEST = timedelta(days=3 * 365)
FAIRNESS_WINDOW = timedelta(days=90)
MINUTES_PER_DAY = 24 * 60


class InsufficientFunds(DomainError):
    """A payout larger than what the collective owes the member."""


def _check_date(value: date, today: date, field: str, what: str) -> date:
    if value > today + DATE_SLACK:
        raise DomainError(f"the {what} cannot be in the future", field=field)
    if value < today - OLDEST:
        raise DomainError(f"the {what} is more than three years ago", field=field)
    return value


def _get(model, collective_id: int, object_id: int, what: str):
    obj = db.session.get(model, object_id)
    if obj is None or obj.collective_id != collective_id:
        raise NotFound(f"no such {what} in this collective")
    return obj


# --- Clients ----------------------------------------------------------------------------


def create_client(actor: Membership, *, name: str, country: str = "", contact: str = "",
                  notes: str = "") -> Client:
    """Record a client of the collective."""
    require_role(actor, COORDINATOR, action="record clients")
    name = " ".join((name or "").split())
    if not name:
        raise DomainError("a client needs a name", field="name")
    exists = db.session.scalar(
        sa.select(Client.id).filter_by(collective_id=actor.collective_id, name=name))
    if exists is not None:
        raise Conflict(f"there is already a client called {name!r}", field="name")
    client = Client(collective_id=actor.collective_id, name=name[:120],
                    country=(country or "").upper()[:2], contact=(contact or "")[:200],
                    notes=notes or "")
    db.session.add(client)
    db.session.flush()
    return client


def clients_of(collective_id: int) -> list[Client]:
    """The collective's clients by name."""
    return list(db.session.scalars(
        sa.select(Client).filter_by(collective_id=collective_id).order_by(Client.name)))


def get_client(collective_id: int, client_id: int) -> Client:
    """A client of this collective, or NotFound."""
    return _get(Client, collective_id, client_id, "client")


# --- Pitches ----------------------------------------------------------------------------


def create_pitch(
    actor: Membership,
    *,
    client_id: int,
    title: str,
    value_amount: int,
    value_currency: str,
    description: str = "",
    required_skills: Mapping[str, int] | None = None,
    estimated_hours: int = 0,
    deadline_on: date | None = None,
    finder_id: int | None = None,
    today: date | None = None,
    at: datetime | None = None,
) -> Pitch:
    """Record a piece of incoming work as an open pitch."""
    require_role(actor, COORDINATOR, action="record pitches")
    today = today or date.today()
    client = get_client(actor.collective_id, client_id)
    if not (title or "").strip():
        raise DomainError("a pitch needs a title", field="title")
    try:
        currency = check_currency(value_currency)
    except MoneyError as exc:
        raise DomainError(str(exc), field="value_currency") from exc
    if not 0 <= value_amount <= MAX_MINOR_UNITS:
        raise DomainError("the value must be between 0 and 10^15 minor units",
                          field="value_amount")
    if not 0 <= estimated_hours <= 100_000:
        raise DomainError("estimated hours must be 0 to 100,000", field="estimated_hours")
    latest = today + timedelta(days=5 * 365)
    if deadline_on is not None and not today - OLDEST <= deadline_on <= latest:
        raise DomainError("the deadline must be within five years", field="deadline_on")
    if finder_id is not None:
        finder = _get(Membership, actor.collective_id, finder_id, "member")
        if finder.status == MembershipStatus.REMOVED:
            raise DomainError("the finder is no longer a member", field="finder_id")
    skills = _clean_required_skills(required_skills or {})
    pitch = Pitch(collective_id=actor.collective_id, client_id=client.id,
                  title=title.strip()[:200],
                  description=description or "", estimated_hours=estimated_hours,
                  value_amount=value_amount, value_currency=currency, deadline_on=deadline_on,
                  finder_id=finder_id, state=PitchState.OPEN.value, version=1,
                  required_skills=[PitchSkill(name=n, level=lv) for n, lv in skills.items()])
    db.session.add(pitch)
    db.session.flush()
    db.session.add(PitchEvent(pitch_id=pitch.id, from_state="", to_state=pitch.state,
                              actor_id=actor.id, note="recorded", at=at or utcnow()))
    db.session.flush()
    return pitch


def _clean_required_skills(skills: Mapping[str, int]) -> dict[str, int]:
    cleaned = {}
    for name, level in skills.items():
        name = " ".join((name or "").lower().split())
        if not name:
            continue
        if not isinstance(level, int) or not 1 <= level <= 5:
            raise DomainError(f"the level of {name!r} must be 1 to 5", field="required_skills")
        cleaned[name[:60]] = level
    return cleaned


def get_pitch(collective_id: int, pitch_id: int) -> Pitch:
    """A pitch of this collective, or NotFound."""
    return _get(Pitch, collective_id, pitch_id, "pitch")


def _stale(pitch: Pitch, expected_version: int | None) -> None:
    """Conflict when the actor's form was made from an older version of the pitch."""
    if expected_version is not None and pitch.version != expected_version:
        raise Conflict("this pitch was changed by someone else meanwhile; "
                       "reload the page and try again", field="version")


def _claim(pitch: Pitch, expected_version: int | None) -> None:
    """Bump the pitch's version if it is still the one the actor saw, else Conflict.

    A conditional UPDATE: on PostgreSQL a second writer waits for the first to commit and
    then finds the version changed.
    """
    seen = pitch.version if expected_version is None else expected_version
    result = db.session.execute(
        sa.update(Pitch).where(Pitch.id == pitch.id, Pitch.version == seen)
        .values(version=Pitch.version + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.expire(pitch)
        raise Conflict("this pitch was changed by someone else meanwhile; "
                       "reload the page and try again", field="version")
    db.session.expire(pitch, ["version"])


def transition_pitch(actor: Membership, pitch: Pitch, to_state: PitchState | str, *,
                     expected_version: int | None = None, note: str = "",
                     at: datetime | None = None) -> Pitch:
    """Move a pitch along its lifecycle; illegal moves are refused, every move is recorded."""
    require_role(actor, COORDINATOR, action="move pitches along")
    _same(actor, pitch)
    _stale(pitch, expected_version)
    try:
        target = PitchState(to_state)
    except ValueError as exc:
        raise DomainError(f"{to_state!r} is not a state", field="state") from exc
    current = pitch.pitch_state
    allowed = TRANSITIONS[current]
    if target not in allowed:
        options = ", ".join(s.label for s in sorted(allowed)) or "nowhere (it is final)"
        raise DomainError(f"a pitch that is {current.label} cannot become {target.label}; "
                          f"it can go to: {options}", field="state")
    if target == PitchState.IN_PROGRESS and not pitch.allocations:
        raise DomainError("allocate the work to at least one member before starting it",
                          field="state")
    _claim(pitch, expected_version)
    db.session.execute(sa.update(Pitch).where(Pitch.id == pitch.id).values(state=target.value)
                       .execution_options(synchronize_session=False))
    db.session.add(PitchEvent(pitch_id=pitch.id, from_state=current.value,
                              to_state=target.value, actor_id=actor.id, note=note[:500],
                              at=at or utcnow()))
    db.session.flush()
    db.session.expire(pitch)
    return pitch


def _same(actor: Membership, pitch: Pitch) -> None:
    if pitch.collective_id != actor.collective_id:
        raise NotFound("no such pitch in this collective")


def allocate_member(
    actor: Membership,
    pitch: Pitch,
    *,
    membership_id: int,
    role: str = "contributor",
    weight: int = 1,
    weekly_hours: int = 0,
    expected_version: int | None = None,
) -> Allocation:
    """Give a member a part in a won pitch (or change it); one lead at most."""
    require_role(actor, COORDINATOR, action="allocate work")
    _same(actor, pitch)
    _stale(pitch, expected_version)
    if pitch.pitch_state not in (*ACTIVE_STATES, PitchState.DELIVERED):
        raise DomainError(f"only won work can be allocated; this pitch is "
                          f"{pitch.pitch_state.label}", field="membership_id")
    member = _get(Membership, actor.collective_id, membership_id, "member")
    if member.status != MembershipStatus.ACTIVE:
        raise DomainError(f"{member.user.name} is {member.status} and cannot take work",
                          field="membership_id")
    if role not in ("lead", "contributor"):
        raise DomainError("the role is lead or contributor", field="role")
    if isinstance(weight, bool) or not isinstance(weight, int) or not 1 <= weight <= 10_000:
        raise DomainError("the weight is a whole number from 1 to 10,000", field="weight")
    if not isinstance(weekly_hours, int) or not 0 <= weekly_hours <= 168:
        raise DomainError("weekly hours are 0 to 168", field="weekly_hours")
    _claim(pitch, expected_version)
    allocation = db.session.scalar(
        sa.select(Allocation).filter_by(pitch_id=pitch.id, membership_id=member.id))
    if allocation is None:
        allocation = Allocation(pitch_id=pitch.id, membership_id=member.id)
        db.session.add(allocation)
    if role == "lead":
        for other in pitch.allocations:
            if other.role == "lead" and other.membership_id != member.id:
                other.role = "contributor"
    allocation.role, allocation.weight, allocation.weekly_hours = role, weight, weekly_hours
    db.session.flush()
    db.session.expire(pitch)
    return allocation


def remove_allocation(actor: Membership, pitch: Pitch, membership_id: int, *,
                      expected_version: int | None = None) -> None:
    """Take a member off a pitch, if they have logged no time on it."""
    require_role(actor, COORDINATOR, action="allocate work")
    _same(actor, pitch)
    _stale(pitch, expected_version)
    allocation = db.session.scalar(
        sa.select(Allocation).filter_by(pitch_id=pitch.id, membership_id=membership_id))
    if allocation is None:
        raise NotFound("that member is not allocated to this pitch")
    logged = db.session.scalar(
        sa.select(sa.func.count(TimeEntry.id)).filter_by(allocation_id=allocation.id))
    if logged:
        raise DomainError("this member has logged time on the pitch, so they stay on it "
                          "(set their weekly hours to 0 instead)", field="membership_id")
    _claim(pitch, expected_version)
    db.session.delete(allocation)
    db.session.flush()
    db.session.expire(pitch)


def volunteer_for(actor: Membership, pitch: Pitch, note: str = "") -> Volunteer:
    """Offer to work on an open pitch."""
    _same(actor, pitch)
    if actor.status != MembershipStatus.ACTIVE:
        raise DomainError("paused members cannot volunteer for work")
    if pitch.pitch_state not in POOL_STATES:
        raise DomainError("this pitch is no longer looking for people")
    existing = db.session.scalar(
        sa.select(Volunteer).filter_by(pitch_id=pitch.id, membership_id=actor.id))
    if existing is not None:
        existing.note = (note or "")[:500] or existing.note
        db.session.flush()
        return existing
    volunteer = Volunteer(pitch_id=pitch.id, membership_id=actor.id, note=(note or "")[:500])
    db.session.add(volunteer)
    db.session.flush()
    return volunteer


def volunteers_of(pitch: Pitch) -> list[Volunteer]:
    """Members who volunteered for a pitch, first come first."""
    return list(db.session.scalars(
        sa.select(Volunteer).filter_by(pitch_id=pitch.id).order_by(Volunteer.id)))


def pitches_of(collective_id: int, states: tuple[PitchState, ...] | None = None) -> list[Pitch]:
    """Pitches of the collective, nearest deadline first."""
    query = sa.select(Pitch).filter_by(collective_id=collective_id)
    if states:
        query = query.where(Pitch.state.in_([s.value for s in states]))
    return list(db.session.scalars(
        query.order_by(Pitch.deadline_on.is_(None), Pitch.deadline_on, Pitch.id)))


def pitch_events(pitch: Pitch) -> list[PitchEvent]:
    """A pitch's history, oldest first."""
    return list(db.session.scalars(
        sa.select(PitchEvent).filter_by(pitch_id=pitch.id)
        .options(so.joinedload(PitchEvent.actor)).order_by(PitchEvent.id)))


# --- Ranking ----------------------------------------------------------------------------


def _frame(query: sa.Select, columns: list[str]) -> pd.DataFrame:
    rows = db.session.execute(query).all()
    return pd.DataFrame(rows, columns=columns)


def active_load(collective_id: int) -> pd.DataFrame:
    """Weekly hours each member has committed on active pitches."""
    return _frame(
        sa.select(Allocation.membership_id, Allocation.weekly_hours)
        .join(Pitch, Allocation.pitch_id == Pitch.id)
        .where(Pitch.collective_id == collective_id,
               Pitch.state.in_([s.value for s in ACTIVE_STATES])),
        ["membership_id", "hours"],
    )


def suggest_members(pitch: Pitch, today: date | None = None, limit: int | None = 20
                    ) -> pd.DataFrame:
    """Members ranked for a pitch, with their score and the reasons behind it."""
    today = today or date.today()
    cid = pitch.collective_id
    members = _frame(
        sa.select(Membership.id, User.name, Membership.weekly_capacity_hours,
                  Membership.status == MembershipStatus.ACTIVE.value)
        .join(User, Membership.user_id == User.id)
        .where(Membership.collective_id == cid,
               Membership.status != MembershipStatus.REMOVED.value),
        ["membership_id", "name", "capacity", "is_active"],
    )
    members["is_active"] = members["is_active"].astype(bool)
    skills = _frame(
        sa.select(Membership.id, Skill.name, Skill.level)
        .join(Skill, Skill.user_id == Membership.user_id)
        .where(Membership.collective_id == cid),
        ["membership_id", "skill", "level"],
    )
    earnings = member_earnings(cid, since=today - FAIRNESS_WINDOW, until=today)
    required = {s.name: s.level for s in pitch.required_skills}
    volunteers = [v.membership_id for v in volunteers_of(pitch)]
    return compute.rank_candidates(members, skills, required, active_load(cid), earnings,
                                   volunteers, limit=limit)


# --- Time -------------------------------------------------------------------------------


def parse_hours(text: str) -> int:
    """'1.5', '1:30' or '2' hours to whole minutes."""
    raw = (text or "").strip()
    try:
        if ":" in raw:
            hours, minutes = raw.split(":", 1)
            if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
                raise ValueError
            total = int(hours) * 60 + int(minutes)
            if int(minutes) >= 60:
                raise ValueError
        else:
            value = Decimal(raw)
            if not value.is_finite():
                raise ValueError
            total = value * 60
            if total != total.to_integral_value():
                raise DomainError("hours must come to whole minutes (like 1.25 or 1:15)",
                                  field="hours")
            total = int(total)
    except (ValueError, DecimalException) as exc:
        raise DomainError(f"{raw[:20]!r} is not a number of hours (write 1.5 or 1:30)",
                          field="hours") from exc
    if total <= 0:
        raise DomainError("hours must be more than zero", field="hours")
    if total > MINUTES_PER_DAY:
        raise DomainError("a day has 24 hours at most", field="hours")
    return total


def log_time(actor: Membership, allocation: Allocation, *, worked_on: date, minutes: int,
             note: str = "", today: date | None = None) -> TimeEntry:
    """Record time worked on one's own allocation; at most 24 hours a day in all."""
    today = today or date.today()
    if allocation.membership_id != actor.id:
        raise NotFound("no such allocation of yours")
    pitch = allocation.pitch
    if pitch.pitch_state not in (*ACTIVE_STATES, PitchState.DELIVERED):
        raise DomainError(f"time cannot be logged on work that is {pitch.pitch_state.label}",
                          field="allocation_id")
    _check_date(worked_on, today, "worked_on", "day worked")
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes <= 0:
        raise DomainError("hours must be more than zero", field="hours")
    # Serialise this member's time entries so two at once cannot pass 24 hours together.
    db.session.execute(sa.select(Membership.id).where(Membership.id == actor.id)
                       .with_for_update())
    logged = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(TimeEntry.minutes), 0))
        .where(TimeEntry.membership_id == actor.id, TimeEntry.worked_on == worked_on))
    if logged + minutes > MINUTES_PER_DAY:
        left = (MINUTES_PER_DAY - logged) / 60
        raise DomainError(f"that would make more than 24 hours on {worked_on.isoformat()}; "
                          f"{left:g} hours are left on that day", field="hours")
    entry = TimeEntry(allocation_id=allocation.id, membership_id=actor.id,
                      worked_on=worked_on, minutes=minutes, note=(note or "")[:500])
    db.session.add(entry)
    db.session.flush()
    return entry


def allocations_of(membership: Membership) -> list[tuple[Allocation, int]]:
    """The member's allocations with the minutes logged on each, active work first."""
    logged = (sa.select(TimeEntry.allocation_id, sa.func.sum(TimeEntry.minutes).label("m"))
              .group_by(TimeEntry.allocation_id).subquery())
    rows = db.session.execute(
        sa.select(Allocation, sa.func.coalesce(logged.c.m, 0))
        .join(Pitch, Allocation.pitch_id == Pitch.id)
        .outerjoin(logged, logged.c.allocation_id == Allocation.id)
        .where(Allocation.membership_id == membership.id)
        .options(so.contains_eager(Allocation.pitch))
        .order_by(sa.case((Pitch.state.in_([s.value for s in ACTIVE_STATES]), 0), else_=1),
                  Pitch.deadline_on.is_(None), Pitch.deadline_on, Pitch.id)
    ).unique().all()
    return [(allocation, int(minutes)) for allocation, minutes in rows]


def time_entries_of(membership: Membership, limit: int = 20) -> list[TimeEntry]:
    """The member's latest time entries."""
    return list(db.session.scalars(
        sa.select(TimeEntry).filter_by(membership_id=membership.id)
        .order_by(TimeEntry.worked_on.desc(), TimeEntry.id.desc()).limit(limit)))


def get_allocation(membership: Membership, allocation_id: int) -> Allocation:
    """One of the member's own allocations, or NotFound."""
    allocation = db.session.get(Allocation, allocation_id)
    if allocation is None or allocation.membership_id != membership.id:
        raise NotFound("no such allocation of yours", field="allocation_id")
    return allocation


# --- Share rules ------------------------------------------------------------------------


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


def set_founding_rule(actor: Membership, terms: compute.RuleTerms, effective_on: date,
                      today: date | None = None) -> ShareRule:
    """The rule a collective starts with (its founding agreement); later ones are voted."""
    require_role(actor, TREASURER, action="set the founding share rule")
    if rules_of(actor.collective_id):
        raise Conflict("the collective already has a share rule; propose a change instead")
    today = today or date.today()
    if not today - OLDEST <= effective_on <= today + timedelta(days=730):
        raise DomainError("the rule starts at most three years back or two years ahead",
                          field="effective_on")
    return _add_rule(actor.collective_id, terms, effective_on, None)


def propose_share_rule(actor: Membership, terms: compute.RuleTerms, *, effective_on: date,
                       title: str = "", description: str = "",
                       deadline_at: datetime | None = None,
                       now: datetime | None = None) -> Proposal:
    """Put a new share rule to the members' vote."""
    require_role(actor, TREASURER, action="propose share rules")
    now = now or utcnow()
    if effective_on < now.date() - OLDEST or effective_on > now.date() + timedelta(days=730):
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


register_adopter(SHARE_RULE, adopt_share_rule)


def proposal_terms(proposal: Proposal) -> compute.RuleTerms:
    """The share rule a proposal would adopt."""
    p = proposal.payload
    return compute.RuleTerms(p["common_fund_bp"], p["finder_fee_bp"], p["method"])


# --- Payments ---------------------------------------------------------------------------


def _participants(pitch: Pitch, since: date | None, until: date) -> list[compute.Participant]:
    """Allocated members with the minutes they logged in (since, until]."""
    conditions = [TimeEntry.allocation_id == Allocation.id, TimeEntry.worked_on <= until]
    if since is not None:
        conditions.append(TimeEntry.worked_on > since)
    minutes = (sa.select(sa.func.coalesce(sa.func.sum(TimeEntry.minutes), 0))
               .where(*conditions).correlate(Allocation).scalar_subquery())
    rows = db.session.execute(
        sa.select(Allocation.membership_id, Allocation.weight, minutes)
        .where(Allocation.pitch_id == pitch.id).order_by(Allocation.id)).all()
    return [compute.Participant(m, w, int(mins)) for m, w, mins in rows]


def _not_reversed():
    """Condition: the payment's entry has not been reversed."""
    return ClientPayment.entry_id.not_in(
        sa.select(JournalEntry.reverses_id).where(JournalEntry.reverses_id.is_not(None)))


def participants_for_payment(pitch: Pitch, received_on: date) -> list[compute.Participant]:
    """Who shares a payment, with hours since the pitch's previous payment.

    A monthly retainer is split by the hours of that month; when nobody logged time since
    the last payment, all hours on the pitch up to the payment count.
    """
    previous = db.session.scalar(
        sa.select(sa.func.max(ClientPayment.received_on))
        .where(ClientPayment.pitch_id == pitch.id, ClientPayment.received_on < received_on,
               ClientPayment.entry_id.is_not(None), _not_reversed()))
    participants = _participants(pitch, previous, received_on)
    if previous is not None and sum(p.minutes for p in participants) == 0:
        participants = _participants(pitch, None, received_on)
    return participants


def record_payment(
    actor: Membership,
    pitch: Pitch,
    *,
    amount: int,
    currency: str,
    received_on: date,
    reference: str = "",
    rate: Decimal | None = None,
    today: date | None = None,
    request_key: str | None = None,
) -> ClientPayment:
    """Record a client payment and post its split as one journal entry.

    With a `request_key` (from the form), the same request again returns the payment it
    recorded the first time instead of recording a second one.
    """
    require_role(actor, COORDINATOR, TREASURER, action="record payments")
    _same(actor, pitch)
    today = today or date.today()
    if request_key:
        earlier = _payment_by_key(actor.collective_id, request_key)
        if earlier is not None:
            if earlier.pitch_id != pitch.id or earlier.amount != amount:
                raise Conflict("this form was already used for another payment; reload the "
                               "page to record a new one", field="amount")
            return earlier
    collective = actor.collective
    if pitch.pitch_state not in PAYABLE_STATES:
        raise DomainError(f"a payment cannot be recorded on a pitch that is "
                          f"{pitch.pitch_state.label}", field="pitch")
    try:
        currency = check_currency(currency)
    except MoneyError as exc:
        raise DomainError(str(exc), field="currency") from exc
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise DomainError("the amount must be more than zero", field="amount")
    if amount > MAX_MINOR_UNITS:
        raise DomainError("the amount is too large", field="amount")
    _check_date(received_on, today, "received_on", "date received")
    base = collective.base_currency
    if currency == base:
        rate = Decimal(1)
    elif rate is None:
        raise DomainError(f"give the rate from {currency} to {base}", field="rate")
    elif not isinstance(rate, Decimal) or not rate.is_finite() or rate <= 0:
        raise DomainError("the rate must be a positive number", field="rate")
    elif (rate > Decimal(10) ** 9 or rate.as_tuple().exponent < -10
          or len(rate.normalize().as_tuple().digits) > 15):
        # 15 significant digits survive every database's numeric type exactly.
        raise DomainError("the rate must be below 10^9, with at most 10 decimals and 15 "
                          "digits", field="rate")
    base_amount = compute.convert_to_base(amount, minor_digits(currency), rate,
                                          minor_digits(base))
    if base_amount <= 0:
        raise DomainError(f"that comes to nothing in {base}", field="amount")
    if base_amount > MAX_MINOR_UNITS:
        raise DomainError("the amount is too large", field="amount")
    rule = rule_in_force(collective.id, received_on)
    if rule is None:
        raise DomainError(f"no share rule was in force on {received_on.isoformat()}; "
                          "the collective must agree one first", field="received_on")
    try:
        result = compute.split_payment(base_amount, rule_terms(rule),
                                       participants_for_payment(pitch, received_on),
                                       pitch.finder_id)
    except compute.NoParticipants as exc:
        raise DomainError(str(exc), field="pitch") from exc
    payment = ClientPayment(
        collective_id=collective.id, pitch_id=pitch.id, amount=amount, currency=currency,
        rate=rate, base_amount=base_amount, received_on=received_on,
        reference=(reference or "")[:120], share_rule_id=rule.id, split_note=result.note,
        recorded_by_id=actor.id, request_key=request_key or None)
    try:
        with db.session.begin_nested():
            db.session.add(payment)
            db.session.flush()
    except sa.exc.IntegrityError:
        # The same form, sent twice at once: the other request recorded it.
        earlier = _payment_by_key(actor.collective_id, request_key) if request_key else None
        if earlier is None:
            raise
        return earlier
    entry = ledger.post_entry(
        collective.id, kind="payment", occurred_on=received_on,
        idempotency_key=f"payment:{payment.id}",
        memo=_payment_memo(pitch, payment, base), lines=_payment_lines(collective.id, result,
                                                                       base_amount, base),
        created_by_id=actor.user_id)
    payment.entry_id = entry.id
    db.session.flush()
    return payment


def _payment_by_key(collective_id: int, request_key: str) -> ClientPayment | None:
    return db.session.scalar(sa.select(ClientPayment).filter_by(
        collective_id=collective_id, request_key=request_key))


def _payment_memo(pitch: Pitch, payment: ClientPayment, base: str) -> str:
    memo = f"{pitch.client.name}: {pitch.title}"
    if payment.currency != base:
        memo += f" ({payment.currency} {format_plain(payment.amount, payment.currency)}"
        memo += f" at {payment.rate.normalize()})"
    if payment.reference:
        memo += f" ref {payment.reference}"
    return memo[:500]


def _payment_lines(collective_id: int, result: compute.Split, base_amount: int, base: str
                   ) -> list[ledger.Line]:
    bank = ledger.account_by_code(collective_id, ledger.BANK)
    fund = ledger.account_by_code(collective_id, ledger.COMMON_FUND)
    credits: dict[int, int] = defaultdict(int)
    credits[fund.id] += result.common_fund
    for membership_id, share in result.by_member().items():
        credits[ledger.member_account(membership_id).id] += share
    lines = [ledger.Line(bank.id, base_amount, base)]
    lines += [ledger.Line(account_id, -share, base)
              for account_id, share in credits.items() if share]
    return lines


def get_payment(collective_id: int, payment_id: int) -> ClientPayment:
    """A payment of this collective, or NotFound."""
    return _get(ClientPayment, collective_id, payment_id, "payment")


def reverse_payment(actor: Membership, payment: ClientPayment, memo: str = "") -> JournalEntry:
    """Undo a payment entered by mistake (or refunded) with a reversal entry."""
    require_role(actor, TREASURER, action="reverse payments")
    if payment.collective_id != actor.collective_id:
        raise NotFound("no such payment in this collective")
    entry = db.session.get(JournalEntry, payment.entry_id)
    return ledger.reverse_entry(entry, memo=memo or f"Reversal of payment {payment.id}",
                                created_by_id=actor.user_id)


def payments_of(collective_id: int, pitch_id: int | None = None) -> list[ClientPayment]:
    """Payments newest first, with whether each was reversed."""
    query = sa.select(ClientPayment).filter_by(collective_id=collective_id)
    if pitch_id is not None:
        query = query.filter_by(pitch_id=pitch_id)
    return list(db.session.scalars(
        query.order_by(ClientPayment.received_on.desc(), ClientPayment.id.desc())))


def reversed_entry_ids(collective_id: int) -> set[int]:
    """Ids of the collective's entries that have been reversed."""
    return set(db.session.scalars(
        sa.select(JournalEntry.reverses_id).where(JournalEntry.collective_id == collective_id,
                                                  JournalEntry.reverses_id.is_not(None))))


# --- What members earned and were paid --------------------------------------------------


def _payable_postings(collective_id: int) -> sa.Select:
    """Postings on member payable accounts with the entry's kind (reversals take the kind
    of what they reverse)."""
    original = so.aliased(JournalEntry)
    kind = sa.func.coalesce(original.kind, JournalEntry.kind)
    return (
        sa.select(Account.membership_id, JournalEntry.id.label("entry_id"),
                  JournalEntry.occurred_on, kind.label("kind"), Posting.amount,
                  JournalEntry.memo, JournalEntry.reverses_id)
        .join(Posting, Posting.account_id == Account.id)
        .join(JournalEntry, Posting.entry_id == JournalEntry.id)
        .outerjoin(original, JournalEntry.reverses_id == original.id)
        .where(Account.collective_id == collective_id, Account.membership_id.is_not(None))
    )


def member_earnings(collective_id: int, *, since: date, until: date) -> pd.DataFrame:
    """Minor units each member earned from client payments in [since, until], net of
    reversals."""
    q = _payable_postings(collective_id).subquery()
    rows = db.session.execute(
        sa.select(q.c.membership_id, -sa.func.sum(q.c.amount))
        .where(q.c.kind == "payment", q.c.occurred_on >= since, q.c.occurred_on <= until)
        .group_by(q.c.membership_id)).all()
    return pd.DataFrame(rows, columns=["membership_id", "earned"]).astype("int64")


def payable_movements(membership: Membership) -> pd.DataFrame:
    """Every posting on the member's payable account: date, kind, memo, amount (+ owed)."""
    q = _payable_postings(membership.collective_id).where(
        Account.membership_id == membership.id).order_by(JournalEntry.occurred_on,
                                                         JournalEntry.id)
    frame = pd.DataFrame(db.session.execute(q).all(),
                         columns=["membership_id", "entry_id", "occurred_on", "kind", "amount",
                                  "memo", "reverses_id"])
    frame["amount"] = -frame["amount"].astype("int64")
    return frame


@dataclass(frozen=True)
class ShareLine:
    """One payment's share for a member."""

    payment: ClientPayment
    share: int
    is_reversed: bool


def shares_of(membership: Membership) -> list[ShareLine]:
    """Each client payment that paid the member, with their share and the rule used."""
    rows = db.session.execute(
        sa.select(ClientPayment, -Posting.amount)
        .join(JournalEntry, JournalEntry.id == ClientPayment.entry_id)
        .join(Posting, Posting.entry_id == JournalEntry.id)
        .join(Account, Account.id == Posting.account_id)
        .where(Account.membership_id == membership.id)
        .order_by(ClientPayment.received_on.desc(), ClientPayment.id.desc())).all()
    reversed_ids = reversed_entry_ids(membership.collective_id)
    return [ShareLine(p, int(share), p.entry_id in reversed_ids) for p, share in rows]


def monthly_earnings(membership: Membership) -> pd.DataFrame:
    """Net earnings from payments per calendar month: month ('2026-10'), earned."""
    statement = payable_movements(membership)
    statement = statement[statement["kind"] == "payment"]
    if statement.empty:
        return pd.DataFrame({"month": pd.Series(dtype=str), "earned": pd.Series(dtype="int64")})
    periods = pd.to_datetime(statement["occurred_on"]).dt.to_period("M")
    earned = statement.groupby(periods)["amount"].sum()
    # Months without earnings show as zero, so the chart's gaps are real gaps.
    every_month = pd.period_range(earned.index.min(), earned.index.max(), freq="M")
    earned = earned.reindex(every_month, fill_value=0)
    return pd.DataFrame({"month": every_month.strftime("%Y-%m"),
                         "earned": earned.to_numpy(dtype="int64")})


def members_summary(collective_id: int) -> pd.DataFrame:
    """For every member: earned from payments, paid out, other movements, and balance."""
    q = _payable_postings(collective_id).subquery()
    rows = db.session.execute(
        sa.select(q.c.membership_id, q.c.kind, -sa.func.sum(q.c.amount))
        .group_by(q.c.membership_id, q.c.kind)).all()
    frame = pd.DataFrame(rows, columns=["membership_id", "kind", "amount"])
    names = pd.DataFrame(db.session.execute(
        sa.select(Membership.id, User.name, Membership.status)
        .join(User, User.id == Membership.user_id)
        .where(Membership.collective_id == collective_id)).all(),
        columns=["membership_id", "name", "status"])
    if frame.empty:
        table = names.assign(earned=0, paid_out=0, other=0)
    else:
        frame["amount"] = frame["amount"].astype("int64")
        frame["column"] = frame["kind"].map({"payment": "earned", "payout": "paid_out"}
                                            ).fillna("other")
        pivot = frame.pivot_table(index="membership_id", columns="column", values="amount",
                                  aggfunc="sum", fill_value=0)
        pivot = pivot.reindex(columns=["earned", "paid_out", "other"], fill_value=0)
        table = names.merge(pivot.reset_index(), on="membership_id", how="left").fillna(0)
    table = table.astype({"earned": "int64", "paid_out": "int64", "other": "int64"})
    # Payouts are debits on the payable: they show as negative "earned"; flip for display.
    table["paid_out"] = -table["paid_out"]
    table["balance"] = table["earned"] - table["paid_out"] + table["other"]
    return table.sort_values("name").reset_index(drop=True)


# --- Payouts ----------------------------------------------------------------------------


def pay_member(actor: Membership, membership: Membership, *, amount: int, paid_on: date,
               request_key: str, reference: str = "", today: date | None = None
               ) -> JournalEntry:
    """Pay a member part or all of what the collective owes them (one payout entry).

    `request_key` comes from the form that asked for it, so a double submit pays once.
    """
    require_role(actor, TREASURER, action="pay members")
    if membership.collective_id != actor.collective_id:
        raise NotFound("no such member in this collective")
    today = today or date.today()
    _check_date(paid_on, today, "paid_on", "payment date")
    base = actor.collective.base_currency
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise DomainError("the amount must be more than zero", field="amount")
    key = f"payout:{request_key}"
    bank = ledger.account_by_code(actor.collective_id, ledger.BANK)
    payable = ledger.member_account(membership.id)
    lines = [ledger.Line(payable.id, amount, base), ledger.Line(bank.id, -amount, base)]
    memo = f"Payout to {membership.user.name}" + (f" ref {reference}" if reference else "")
    if ledger.find_entry(actor.collective_id, key) is None:
        # Two payouts (or a payout and a fund run) must not both spend the same balance.
        ledger.lock_balances(actor.collective_id)
        owed = ledger.member_balance(membership.id).get(base, 0)
        if amount > owed:
            raise InsufficientFunds(
                f"{membership.user.name} is owed {format_money(owed, base)}; "
                "a payout cannot be larger", field="amount")
    # The same key again returns the same payout; for another member or amount it is a
    # conflict (a form sent back from the browser's history).
    return ledger.post_entry(
        actor.collective_id, kind="payout", occurred_on=paid_on, idempotency_key=key,
        memo=memo[:500], lines=lines, created_by_id=actor.user_id)


def record_deposit(actor: Membership, membership: Membership, *, amount: int,
                   received_on: date, request_key: str, reference: str = "",
                   today: date | None = None) -> JournalEntry:
    """Money a member paid in themselves (say, to cover contributions without pool work):
    the bank is debited and the member's payable credited, as one entry."""
    require_role(actor, TREASURER, action="record deposits")
    if membership.collective_id != actor.collective_id:
        raise NotFound("no such member in this collective")
    today = today or date.today()
    _check_date(received_on, today, "received_on", "date received")
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= MAX_MINOR_UNITS:
        raise DomainError("the amount must be more than zero", field="amount")
    base = actor.collective.base_currency
    bank = ledger.account_by_code(actor.collective_id, ledger.BANK)
    payable = ledger.member_account(membership.id)
    memo = f"Deposit from {membership.user.name}" + (f" ref {reference}" if reference else "")
    return ledger.post_entry(
        actor.collective_id, kind="deposit", occurred_on=received_on,
        idempotency_key=f"deposit:{request_key}", memo=memo[:500],
        lines=[ledger.Line(bank.id, amount, base), ledger.Line(payable.id, -amount, base)],
        created_by_id=actor.user_id)


def pay_everyone(actor: Membership, *, paid_on: date, request_key: str,
                 today: date | None = None) -> JournalEntry:
    """Pay every member their whole balance, as one payout entry."""
    require_role(actor, TREASURER, action="pay members")
    today = today or date.today()
    _check_date(paid_on, today, "paid_on", "payment date")
    key = f"payout-all:{request_key}"
    existing = ledger.find_entry(actor.collective_id, key)
    if existing is not None:
        return existing
    # Balances are read under the collective's balance lock, so a second "pay everyone"
    # (or a payout, or a fund run) waits and then sees what this one paid.
    ledger.lock_balances(actor.collective_id)
    base = actor.collective.base_currency
    owed = [(account_id, amount) for account_id, amount
            in ledger.member_balances(actor.collective_id, base).values() if amount > 0]
    if not owed:
        raise DomainError("nobody is owed anything right now")
    total = sum(amount for _, amount in owed)
    bank = ledger.account_by_code(actor.collective_id, ledger.BANK)
    lines = [ledger.Line(account_id, amount, base) for account_id, amount in owed]
    lines.append(ledger.Line(bank.id, -total, base))
    return ledger.post_entry(
        actor.collective_id, kind="payout", occurred_on=paid_on, idempotency_key=key,
        memo=f"Payout of every balance to {len(owed)} members", lines=lines,
        created_by_id=actor.user_id)


def payouts_of(membership: Membership) -> pd.DataFrame:
    """The member's payouts: date, entry, amount."""
    statement = payable_movements(membership)
    payouts = statement[statement["kind"] == "payout"].copy()
    payouts["amount"] = -payouts["amount"]
    return payouts[["occurred_on", "entry_id", "amount", "memo"]].reset_index(drop=True)


# --- Rule preview -----------------------------------------------------------------------


def preview_rule(collective_id: int, proposed: compute.RuleTerms, today: date | None = None
                 ) -> pd.DataFrame:
    """How the last 90 days of payments would have split under `proposed` and under the
    rule in force today: one row per member, and the common fund as membership 0."""
    today = today or date.today()
    current_rule = rule_in_force(collective_id, today)
    current = rule_terms(current_rule) if current_rule else proposed
    payments = db.session.scalars(
        sa.select(ClientPayment)
        .where(ClientPayment.collective_id == collective_id,
               ClientPayment.received_on > today - FAIRNESS_WINDOW,
               ClientPayment.received_on <= today,
               ClientPayment.entry_id.is_not(None), _not_reversed())
        .options(so.joinedload(ClientPayment.pitch))).all()
    inputs = []
    for payment in payments:
        participants = participants_for_payment(payment.pitch, payment.received_on)
        if participants:
            inputs.append((payment.base_amount, participants, payment.pitch.finder_id))
    table = compute.preview_totals(inputs, current, proposed)
    names = dict(db.session.execute(
        sa.select(Membership.id, User.name).join(User, User.id == Membership.user_id)
        .where(Membership.collective_id == collective_id)).all())
    table["name"] = [names.get(m, "Common fund") if m else "Common fund"
                     for m in table["membership_id"]]
    return table.sort_values("membership_id").reset_index(drop=True)

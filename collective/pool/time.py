"""Time entries: members log the hours they work on their allocations."""
from __future__ import annotations

from datetime import date
from decimal import Decimal, DecimalException

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective.errors import DomainError, NotFound
from collective.extensions import db
from collective.members.models import Membership
from collective.money import MoneyError, check_ascii_digits
from collective.pool.checks import MINUTES_PER_DAY, check_date, is_whole
from collective.pool.models import ACTIVE_STATES, Allocation, Pitch, PitchState, TimeEntry


def parse_hours(text: str) -> int:
    """'1.5', '1:30' or '2' hours to whole minutes."""
    raw = (text or "").strip()
    try:
        check_ascii_digits(raw)
    except MoneyError as exc:
        raise DomainError(f"{exc}, like 1.5 or 1:30", field="hours") from exc
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
             note: str = "", today: date) -> TimeEntry:
    """Record time worked on one's own allocation; at most 24 hours a day in all."""
    if allocation.membership_id != actor.id:
        raise NotFound("no such allocation of yours")
    pitch = allocation.pitch
    if pitch.pitch_state not in (*ACTIVE_STATES, PitchState.DELIVERED):
        raise DomainError(f"time cannot be logged on work that is {pitch.pitch_state.label}",
                          field="allocation_id")
    check_date(worked_on, today, "worked_on", "day worked")
    if not is_whole(minutes):
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

"""Time entries: members log the hours they work on their allocations."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal, DecimalException

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective.errors import DomainError, NotFound
from collective.extensions import db
from collective.members.models import Membership
from collective.money import MoneyError, check_ascii_digits
from collective.pool.checks import MINUTES_PER_DAY, check_date, is_whole
from collective.pool.evidence.credits import credit_if_delivered
from collective.pool.models import (
    ACTIVE_STATES,
    WORK_STATES,
    Allocation,
    ClientPayment,
    Pitch,
    PitchState,
    TimeEntry,
    TimeEntryPayment,
)

#: States of the work on which time can be logged, and logged time changed (the pool's
#: WORK_STATES, which the log-time form offers too).
LOGGABLE_STATES = WORK_STATES


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


def _no_partner_work(actor: Membership, allocation: Allocation) -> None:
    raise NotFound("no such allocation of yours", field="allocation_id")


#: Whether `actor` may log time on an allocation on another collective's pitch (a pitch
#: shared with the actor's collective): raises when not. The federation package registers
#: its rule; without it, another collective's work takes no time.
_partner_work: list = [_no_partner_work]


def register_partner_work(check) -> None:
    """Say when a member may log time on another collective's (shared) pitch."""
    _partner_work[:] = [check]


def check_partner_work(actor: Membership, allocation: Allocation) -> None:
    """Raise unless the actor may work on this allocation of another collective's pitch."""
    _partner_work[0](actor, allocation)


def log_time(actor: Membership, allocation: Allocation, *, worked_on: date, minutes: int,
             note: str = "", today: date) -> TimeEntry:
    """Record time worked on one's own allocation; at most 24 hours a day in all."""
    if allocation.membership_id != actor.id:
        raise NotFound("no such allocation of yours")
    _check_time(actor, allocation, worked_on, minutes, today)
    entry = TimeEntry(allocation_id=allocation.id, membership_id=actor.id,
                      worked_on=worked_on, minutes=minutes, note=(note or "")[:500])
    db.session.add(entry)
    db.session.flush()
    credit_if_delivered(allocation.pitch_id)
    return entry


def _check_time(actor: Membership, allocation: Allocation, worked_on: date, minutes: int,
                today: date, *, replacing: TimeEntry | None = None) -> None:
    """The rules of logged time: work in a state that takes time, a day not in the future,
    whole minutes, and at most 24 hours a day in all (besides the entry being `replacing`)."""
    pitch = allocation.pitch
    if pitch.collective_id != actor.collective_id:
        check_partner_work(actor, allocation)
    if pitch.pitch_state not in LOGGABLE_STATES:
        raise DomainError(f"time cannot be logged on work that is {pitch.pitch_state.label}",
                          field="allocation_id")
    check_date(worked_on, today, "worked_on", "day worked")
    if not is_whole(minutes):
        raise DomainError("hours must be more than zero", field="hours")
    # Serialise this member's time entries so two at once cannot pass 24 hours together.
    db.session.execute(sa.select(Membership.id).where(Membership.id == actor.id)
                       .with_for_update())
    others = [TimeEntry.id != replacing.id] if replacing is not None else []
    logged = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(TimeEntry.minutes), 0))
        .where(TimeEntry.membership_id == actor.id, TimeEntry.worked_on == worked_on,
               *others))
    if logged + minutes > MINUTES_PER_DAY:
        left = (MINUTES_PER_DAY - logged) / 60
        raise DomainError(f"that would make more than 24 hours on {worked_on.isoformat()}; "
                          f"{left:g} hours are left on that day", field="hours")


def paid_by(entry: TimeEntry) -> ClientPayment | None:
    """The payment that stands whose split used the entry's hours, if any."""
    return db.session.scalar(
        sa.select(ClientPayment)
        .join(TimeEntryPayment, TimeEntryPayment.payment_id == ClientPayment.id)
        .where(TimeEntryPayment.time_entry_id == entry.id,
               TimeEntryPayment.released_by_id.is_(None)))


def _check_unlocked(actor: Membership, entry: TimeEntry) -> None:
    """Only the author changes an entry, and only while no payment's split has used it.
    The entry's row is locked first, so two changes at once are judged one after the
    other."""
    if entry.membership_id != actor.id:
        raise NotFound("no such time entry of yours")
    db.session.execute(sa.select(TimeEntry.id).where(TimeEntry.id == entry.id)
                       .with_for_update())
    payment = paid_by(entry)
    if payment is not None:
        raise DomainError(
            f"these hours were paid by the payment received on "
            f"{payment.received_on.isoformat()}, so they can no longer be changed")


def edit_time_entry(actor: Membership, entry: TimeEntry, *, worked_on: date, minutes: int,
                    note: str = "", today: date) -> TimeEntry:
    """Change the day, hours or note of one's own time entry that no payment has used."""
    _check_unlocked(actor, entry)
    _check_time(actor, entry.allocation, worked_on, minutes, today, replacing=entry)
    entry.worked_on = worked_on
    entry.minutes = minutes
    entry.note = (note or "")[:500]
    db.session.flush()
    credit_if_delivered(entry.allocation.pitch_id)
    return entry


def delete_time_entry(actor: Membership, entry: TimeEntry) -> None:
    """Delete one's own time entry that no payment has used. An entry a reversed payment
    used once stays, as that payment's history; its hours can still be changed."""
    _check_unlocked(actor, entry)
    if entry.allocation.pitch.collective_id != actor.collective_id:
        check_partner_work(actor, entry.allocation)  # a partner's hours: while it lasts
    used_once = db.session.scalar(
        sa.select(sa.func.count()).select_from(TimeEntryPayment)
        .where(TimeEntryPayment.time_entry_id == entry.id))
    if used_once:
        raise DomainError("a payment that was later reversed used these hours, so the entry "
                          "stays in its history; change its hours instead")
    pitch_id = entry.allocation.pitch_id
    db.session.delete(entry)
    db.session.flush()
    credit_if_delivered(pitch_id)


def get_time_entry(membership: Membership, entry_id: int) -> TimeEntry:
    """One of the member's own time entries, or NotFound."""
    entry = db.session.get(TimeEntry, entry_id)
    if entry is None or entry.membership_id != membership.id:
        raise NotFound("no such time entry of yours")
    return entry


def allocations_of(membership: Membership, *, states: Iterable[PitchState] | None = None,
                   limit: int | None = None, offset: int = 0
                   ) -> list[tuple[Allocation, int]]:
    """The member's allocations (on pitches in `states`) with the minutes logged on each,
    active work first, with the pitch and its client; `limit` and `offset` page through
    them."""
    logged = (sa.select(TimeEntry.allocation_id, sa.func.sum(TimeEntry.minutes).label("m"))
              .where(TimeEntry.membership_id == membership.id)
              .group_by(TimeEntry.allocation_id).subquery())
    query = (
        sa.select(Allocation, sa.func.coalesce(logged.c.m, 0))
        .join(Pitch, Allocation.pitch_id == Pitch.id)
        .outerjoin(logged, logged.c.allocation_id == Allocation.id)
        .where(Allocation.membership_id == membership.id)
        .options(so.contains_eager(Allocation.pitch).joinedload(Pitch.client))
        .order_by(sa.case((Pitch.state.in_([s.value for s in ACTIVE_STATES]), 0), else_=1),
                  Pitch.deadline_on.is_(None), Pitch.deadline_on, Pitch.id)
        .offset(offset).limit(limit))
    if states is not None:
        query = query.where(Pitch.state.in_([s.value for s in states]))
    rows = db.session.execute(query).unique().all()
    return [(allocation, int(minutes)) for allocation, minutes in rows]


def time_entries_of(membership: Membership, limit: int = 20
                    ) -> list[tuple[TimeEntry, ClientPayment | None]]:
    """The member's latest time entries, each with the payment that stands whose split
    used it (then it is locked), in one query."""
    standing = (sa.select(TimeEntryPayment)
                .where(TimeEntryPayment.released_by_id.is_(None)).subquery())
    rows = db.session.execute(
        sa.select(TimeEntry, ClientPayment)
        .outerjoin(standing, standing.c.time_entry_id == TimeEntry.id)
        .outerjoin(ClientPayment, ClientPayment.id == standing.c.payment_id)
        .where(TimeEntry.membership_id == membership.id)
        .options(so.joinedload(TimeEntry.allocation).joinedload(Allocation.pitch))
        .order_by(TimeEntry.worked_on.desc(), TimeEntry.id.desc()).limit(limit)).all()
    return [(entry, payment) for entry, payment in rows]


def get_allocation(membership: Membership, allocation_id: int) -> Allocation:
    """One of the member's own allocations, or NotFound."""
    allocation = db.session.get(Allocation, allocation_id)
    if allocation is None or allocation.membership_id != membership.id:
        raise NotFound("no such allocation of yours", field="allocation_id")
    return allocation

"""Who takes part in a pitch: volunteers who offered and may withdraw, and who shares a
client payment, and by which hours: the pitch's allocated members, with the hours they
logged that no earlier payment has used (docs/sharing.md says the rule).

A payment links every time entry it uses (TimeEntryPayment); each entry is used by at most
one payment that stands, which the database enforces. Reversing a payment releases its
links, so the next payment uses those hours again. The rule itself is in compute.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa

from collective.errors import DomainError
from collective.extensions import db
from collective.ledger.models import JournalEntry
from collective.members.models import Membership
from collective.pool import compute
from collective.pool.checks import same_collective
from collective.pool.models import (
    POOL_STATES,
    Allocation,
    ClientPayment,
    Pitch,
    PitchEvent,
    TimeEntry,
    TimeEntryPayment,
    Volunteer,
)
from collective.pool.queries import frame

if TYPE_CHECKING:
    import pandas as pd


def withdraw_volunteering(actor: Membership, pitch: Pitch, reason: str = "", *,
                          at: datetime) -> PitchEvent:
    """Take back one's offer to work on an open pitch. The offer goes from the volunteers
    (so suggestions no longer favour it, and one may volunteer again later) and the
    withdrawal is kept in the pitch's history, with the reason if one is given."""
    same_collective(actor, pitch, "pitch")
    offer = db.session.scalar(
        sa.select(Volunteer).filter_by(pitch_id=pitch.id, membership_id=actor.id)
        .with_for_update(of=Volunteer))
    if offer is None:
        raise DomainError("you have not volunteered for this pitch")
    if pitch.pitch_state not in POOL_STATES:
        raise DomainError("this pitch is no longer looking for people; a coordinator "
                          "decides who works on it now")
    reason = (reason or "").strip()
    note = "withdrew as a volunteer" + (f": {reason}" if reason else "")
    db.session.delete(offer)
    event = PitchEvent(pitch_id=pitch.id, from_state=pitch.state, to_state=pitch.state,
                       actor_id=actor.id, note=note[:500], at=at)
    db.session.add(event)
    db.session.flush()
    return event


def counted():
    """Condition: the payment was posted and its entry has not been reversed."""
    return sa.and_(ClientPayment.entry_id.is_not(None), ClientPayment.entry_id.not_in(
        sa.select(JournalEntry.reverses_id).where(JournalEntry.reverses_id.is_not(None))))


def unpaid():
    """Condition on TimeEntry: no payment that stands has used the entry."""
    return ~sa.exists().where(TimeEntryPayment.time_entry_id == TimeEntry.id,
                              TimeEntryPayment.released_by_id.is_(None))


@dataclass(frozen=True)
class PaymentHours:
    """Who shares a new payment, and the time entries whose hours it uses."""

    participants: list[compute.Participant]
    entry_ids: list[int]


def hours_for_payment(pitch: Pitch, received_on: date) -> PaymentHours:
    """The pitch's allocated members with their unpaid minutes for work done up to
    `received_on` (hours for later days wait for a later payment), and those entries.

    The entries are locked until the payment commits, so their author cannot change or
    delete them meanwhile (time.edit_time_entry waits, then finds them used)."""
    import pandas as pd
    entries = frame(
        sa.select(TimeEntry.id, TimeEntry.allocation_id, TimeEntry.minutes)
        .join(Allocation, Allocation.id == TimeEntry.allocation_id)
        .where(Allocation.pitch_id == pitch.id, TimeEntry.worked_on <= received_on, unpaid())
        .order_by(TimeEntry.id).with_for_update(of=TimeEntry),
        ["entry_id", "allocation_id", "minutes"])
    allocations = frame(
        sa.select(Allocation.id, Allocation.pitch_id, Allocation.membership_id,
                  Allocation.weight).where(Allocation.pitch_id == pitch.id),
        ["allocation_id", "pitch_id", "membership_id", "weight"])
    table = compute.payment_participants(
        pd.DataFrame({"payment_id": [0], "pitch_id": [pitch.id]}), allocations,
        entries.assign(payment_id=0))
    return PaymentHours(compute.participants_by_payment(table).get(0, []),
                        [int(i) for i in entries["entry_id"]])


def use_hours(payment: ClientPayment, entry_ids: Sequence[int]) -> None:
    """Link the time entries a payment's split used to it, in one statement."""
    if entry_ids:
        db.session.execute(sa.insert(TimeEntryPayment), [
            {"time_entry_id": entry_id, "payment_id": payment.id} for entry_id in entry_ids])


def release_hours(entry: JournalEntry, reversal: JournalEntry) -> None:
    """Give back the hours of the payment `entry` posted, now that `reversal` undoes it: the
    links stay, marked with the reversal, and the next payment uses the hours."""
    db.session.execute(
        sa.update(TimeEntryPayment)
        .where(TimeEntryPayment.released_by_id.is_(None),
               TimeEntryPayment.payment_id.in_(
                   sa.select(ClientPayment.id).where(ClientPayment.entry_id == entry.id)))
        .values(released_by_id=reversal.id))


def participants_of(payments: pd.DataFrame) -> pd.DataFrame:
    """`compute.payment_participants` for posted `payments` (payment_id, pitch_id), with the
    hours each one used, in two queries."""
    payment_ids = [int(i) for i in payments["payment_id"]]
    pitch_ids = sorted({int(i) for i in payments["pitch_id"]})
    allocations = frame(
        sa.select(Allocation.id, Allocation.pitch_id, Allocation.membership_id,
                  Allocation.weight).where(Allocation.pitch_id.in_(pitch_ids)),
        ["allocation_id", "pitch_id", "membership_id", "weight"])
    minutes = frame(
        sa.select(TimeEntryPayment.payment_id, TimeEntry.allocation_id,
                  sa.func.sum(TimeEntry.minutes))
        .join(TimeEntry, TimeEntry.id == TimeEntryPayment.time_entry_id)
        .where(TimeEntryPayment.payment_id.in_(payment_ids),
               TimeEntryPayment.released_by_id.is_(None))
        .group_by(TimeEntryPayment.payment_id, TimeEntry.allocation_id),
        ["payment_id", "allocation_id", "minutes"])
    return compute.payment_participants(payments, allocations, minutes)


@dataclass(frozen=True)
class LoggedHours:
    """One allocated member's minutes on a pitch: all logged, and those no payment used."""

    allocation_id: int
    logged: int
    unpaid: int


def logged_hours(pitch: Pitch) -> dict[int, LoggedHours]:
    """Per allocation of the pitch (by id): minutes logged and minutes not yet paid, in one
    query."""
    unused = sa.case((unpaid(), TimeEntry.minutes), else_=0)
    rows = db.session.execute(
        sa.select(TimeEntry.allocation_id, sa.func.sum(TimeEntry.minutes), sa.func.sum(unused))
        .join(Allocation, Allocation.id == TimeEntry.allocation_id)
        .where(Allocation.pitch_id == pitch.id)
        .group_by(TimeEntry.allocation_id)).all()
    return {a: LoggedHours(a, int(logged), int(unused_minutes))
            for a, logged, unused_minutes in rows}

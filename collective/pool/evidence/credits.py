"""Skill credit: the hours of delivered, paid work behind members' skills.

The model: a pitch counts once it is delivered (delivered, invoiced or paid) AND has a
client payment that stands (posted, not reversed). Then every member who logged time on
it is credited, for EACH skill the pitch required, with all the minutes they logged on it:
10, 20 and 30 h on a pitch that needs two skills give 10, 20 and 30 h in each skill.

`credit_pitch` brings a pitch's credits in line with that rule and is called by every
service that can change the answer: the move to delivered, recording a payment, reversing
one (the ledger's follow-up), logging, editing or deleting time on delivered work, and
editing the pitch's skills. Whichever of "delivered" and "paid" comes second credits; the
first finds the other missing and credits nothing. Calling it again changes nothing (the
rows are keyed (membership, skill, pitch), unique). A reversal that leaves the pitch with
no payment standing removes its credits: they are evidence derived from the time entries,
not money, so they are recomputed rather than kept as history (the ledger keeps the
payment and its reversal); a later payment credits the pitch again.
"""
from __future__ import annotations

import sqlalchemy as sa

from collective.database import conflict_insert
from collective.extensions import db
from collective.pool.evidence.models import SkillCredit
from collective.pool.models import (
    Allocation,
    ClientPayment,
    Pitch,
    PitchSkill,
    PitchState,
    TimeEntry,
)
from collective.pool.participation import counted

#: States in which the work has been delivered.
DELIVERED_STATES = (PitchState.DELIVERED, PitchState.INVOICED, PitchState.PAID)


def is_creditable(pitch_id: int) -> bool:
    """Whether the pitch is delivered and has a client payment that stands."""
    state = db.session.scalar(sa.select(Pitch.state).where(Pitch.id == pitch_id))
    if state is None or PitchState(state) not in DELIVERED_STATES:
        return False
    return db.session.scalar(sa.select(sa.exists().where(
        ClientPayment.pitch_id == pitch_id, counted()))) is True


def minutes_by_member(pitch_id: int) -> dict[int, int]:
    """Minutes each member logged on the pitch, by membership id, in one query."""
    rows = db.session.execute(
        sa.select(TimeEntry.membership_id, sa.func.sum(TimeEntry.minutes))
        .join(Allocation, Allocation.id == TimeEntry.allocation_id)
        .where(Allocation.pitch_id == pitch_id)
        .group_by(TimeEntry.membership_id)).all()
    return {int(m): int(minutes) for m, minutes in rows if minutes}


def credit_pitch(pitch_id: int) -> dict[tuple[int, str], int]:
    """Make the pitch's skill credits what the rule says now (see the module's docstring);
    returns them as {(membership id, skill): minutes}.

    Rows are written with INSERT .. ON CONFLICT on the (membership, skill, pitch) key, so
    two requests crediting the same pitch at once both succeed and write one row each."""
    collective_id = db.session.scalar(sa.select(Pitch.collective_id)
                                      .where(Pitch.id == pitch_id))
    wanted: dict[tuple[int, str], int] = {}
    if is_creditable(pitch_id):
        skills = db.session.scalars(sa.select(PitchSkill.name)
                                    .where(PitchSkill.pitch_id == pitch_id)).all()
        wanted = {(member, skill): minutes
                  for member, minutes in minutes_by_member(pitch_id).items()
                  for skill in skills}
    held = {(m, skill): minutes for m, skill, minutes in db.session.execute(
        sa.select(SkillCredit.membership_id, SkillCredit.skill, SkillCredit.minutes)
        .where(SkillCredit.pitch_id == pitch_id))}
    gone = [key for key in held if key not in wanted]
    if gone:
        db.session.execute(sa.delete(SkillCredit).where(
            SkillCredit.pitch_id == pitch_id,
            sa.tuple_(SkillCredit.membership_id, SkillCredit.skill).in_(gone)))
    changed = [{"collective_id": collective_id, "membership_id": member, "pitch_id": pitch_id,
                "skill": skill, "minutes": minutes}
               for (member, skill), minutes in wanted.items()
               if held.get((member, skill)) != minutes]
    if changed:
        insert = conflict_insert(SkillCredit).values(changed)
        db.session.execute(insert.on_conflict_do_update(
            index_elements=["membership_id", "skill", "pitch_id"],
            set_={"minutes": insert.excluded.minutes,
                  "credited_at": insert.excluded.credited_at}))
    return wanted


def credit_if_delivered(pitch_id: int) -> None:
    """Credit the pitch again when it is delivered work whose time or skills just changed
    (a pitch not delivered has no credits to change)."""
    state = db.session.scalar(sa.select(Pitch.state).where(Pitch.id == pitch_id))
    if state is not None and PitchState(state) in DELIVERED_STATES:
        credit_pitch(pitch_id)



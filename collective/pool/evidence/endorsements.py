"""Peer endorsements: after delivery, the people who worked a pitch vouch for each other.

Who counts as having worked a pitch: a member who logged time on it (the same people its
skill credit goes to; an allocation with no hours logged is not work done). The rules:
the pitch is delivered; giver and receiver both worked it; never oneself; the skill is
one the pitch required; a note of at most NOTE_MAX characters; at most one endorsement
per (giver, receiver, skill, pitch), which the database's unique key holds. The giver can
withdraw it (withdrawn_at is set, the row stays) and endorse again later, which brings the
same row back with the new note.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from collective.errors import Conflict, DomainError, NotFound
from collective.extensions import db
from collective.members.models import Membership
from collective.pool.checks import get_in, same_collective
from collective.pool.evidence.credits import DELIVERED_STATES, minutes_by_member
from collective.pool.evidence.models import NOTE_MAX, Endorsement
from collective.pool.models import Pitch, PitchSkill


def workers_of(pitch: Pitch) -> set[int]:
    """Membership ids of the people who worked the pitch: those who logged time on it."""
    return set(minutes_by_member(pitch.id))


def endorse(actor: Membership, pitch: Pitch, *, receiver_id: int, skill: str, note: str,
            at: datetime) -> Endorsement:
    """Endorse a colleague for one of a delivered pitch's skills, with a short note."""
    same_collective(actor, pitch, "pitch")
    if pitch.pitch_state not in DELIVERED_STATES:
        raise DomainError("endorsements open once the work is delivered", field="pitch")
    workers = workers_of(pitch)
    if actor.id not in workers:
        raise DomainError("only the people who worked on this pitch (logged time on it) "
                          "can endorse for it", field="receiver_id")
    if receiver_id == actor.id:
        raise DomainError("you cannot endorse yourself", field="receiver_id")
    if receiver_id not in workers:
        raise DomainError("endorse someone who worked on this pitch with you",
                          field="receiver_id")
    skill = " ".join((skill or "").lower().split())
    needed = db.session.scalar(sa.select(PitchSkill.id).filter_by(pitch_id=pitch.id,
                                                                  name=skill))
    if needed is None:
        raise DomainError("choose one of the skills this pitch needed", field="skill")
    note = " ".join((note or "").split())
    if not note:
        raise DomainError("say in a few words what they did well", field="note")
    if len(note) > NOTE_MAX:
        raise DomainError(f"the note is at most {NOTE_MAX} characters", field="note")
    key = {"giver_id": actor.id, "receiver_id": receiver_id, "skill": skill,
           "pitch_id": pitch.id}
    earlier = db.session.scalar(sa.select(Endorsement).filter_by(**key).with_for_update())
    if earlier is not None:
        if earlier.withdrawn_at is None:
            raise Conflict(f"you already endorsed them for {skill} on this pitch",
                           field="skill")
        earlier.note, earlier.endorsed_at, earlier.withdrawn_at = note, at, None
        db.session.flush()
        return earlier
    endorsement = Endorsement(collective_id=actor.collective_id, note=note, endorsed_at=at,
                              **key)
    try:
        with db.session.begin_nested():
            db.session.add(endorsement)
            db.session.flush()
    except sa.exc.IntegrityError as exc:  # the same form sent twice at once
        raise Conflict(f"you already endorsed them for {skill} on this pitch",
                       field="skill") from exc
    return endorsement


def withdraw_endorsement(actor: Membership, endorsement_id: int, *, at: datetime
                         ) -> Endorsement:
    """Take back an endorsement one gave; withdrawing it again changes nothing."""
    endorsement = get_in(Endorsement, actor.collective_id, endorsement_id, "endorsement")
    if endorsement.giver_id != actor.id:
        raise NotFound("no such endorsement of yours")
    if endorsement.withdrawn_at is None:
        endorsement.withdrawn_at = at
        db.session.flush()
    return endorsement

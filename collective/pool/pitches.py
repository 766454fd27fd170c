"""Pitches: recording incoming work, moving it along its lifecycle, and volunteers."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective.errors import Conflict, DomainError
from collective.extensions import db
from collective.members.models import Membership, MembershipStatus
from collective.members.services import require_role
from collective.money import MAX_MINOR_UNITS, MoneyError, check_currency
from collective.pool.checks import COORDINATOR, OLDEST, get_in, same_collective
from collective.pool.clients import get_client
from collective.pool.models import (
    POOL_STATES,
    TRANSITIONS,
    Pitch,
    PitchEvent,
    PitchSkill,
    PitchState,
    Volunteer,
)

STALE = "this pitch was changed by someone else meanwhile; reload the page and try again"


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
    today: date,
    at: datetime,
) -> Pitch:
    """Record a piece of incoming work as an open pitch."""
    require_role(actor, COORDINATOR, action="record pitches")
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
        finder = get_in(Membership, actor.collective_id, finder_id, "member")
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
    db.session.add(PitchEvent(pitch_id=pitch.id, from_state=None, to_state=pitch.state,
                              actor_id=actor.id, note="recorded", at=at))
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
    return get_in(Pitch, collective_id, pitch_id, "pitch")


def check_version(pitch: Pitch, expected_version: int | None) -> None:
    """Conflict when the actor's form was made from an older version of the pitch."""
    if expected_version is not None and pitch.version != expected_version:
        raise Conflict(STALE, field="version")


def claim_version(pitch: Pitch, expected_version: int | None) -> None:
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
        raise Conflict(STALE, field="version")
    db.session.expire(pitch, ["version"])


def transition_pitch(actor: Membership, pitch: Pitch, to_state: PitchState | str, *,
                     expected_version: int | None = None, note: str = "",
                     at: datetime) -> Pitch:
    """Move a pitch along its lifecycle; illegal moves are refused, every move is recorded."""
    require_role(actor, COORDINATOR, action="move pitches along")
    same_collective(actor, pitch, "pitch")
    check_version(pitch, expected_version)
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
    claim_version(pitch, expected_version)
    db.session.execute(sa.update(Pitch).where(Pitch.id == pitch.id).values(state=target.value)
                       .execution_options(synchronize_session=False))
    db.session.add(PitchEvent(pitch_id=pitch.id, from_state=current.value,
                              to_state=target.value, actor_id=actor.id, note=note[:500],
                              at=at))
    db.session.flush()
    db.session.expire(pitch)
    return pitch


def volunteer_for(actor: Membership, pitch: Pitch, note: str = "") -> Volunteer:
    """Offer to work on an open pitch."""
    same_collective(actor, pitch, "pitch")
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

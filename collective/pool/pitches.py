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
from collective.money import MAX_MINOR_UNITS, MoneyError, check_currency, format_plain
from collective.pool.checks import COORDINATOR, get_in, same_collective
from collective.pool.clients import get_client
from collective.pool.evidence.credits import DELIVERED_STATES, credit_if_delivered, credit_pitch
from collective.pool.models import (
    MOVE_NAMES,
    POOL_STATES,
    REOPENABLE_STATES,
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
    currency = check_details(title=title, value_amount=value_amount,
                             value_currency=value_currency, estimated_hours=estimated_hours)
    check_deadline(deadline_on, today)
    check_finder(actor, finder_id)
    skills = clean_required_skills(required_skills or {})
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


def check_details(*, title: str, value_amount: int, value_currency: str,
                  estimated_hours: int) -> str:
    """Refuse a pitch's details that cannot be right; return the checked currency code."""
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
    return currency


def check_deadline(deadline_on: date | None, today: date) -> None:
    """A deadline is today or later, and within five years."""
    if deadline_on is None:
        return
    if deadline_on < today:
        raise DomainError("the deadline is in the past", field="deadline_on")
    if deadline_on > today + timedelta(days=5 * 365):
        raise DomainError("the deadline must be within five years", field="deadline_on")


def check_finder(actor: Membership, finder_id: int | None) -> None:
    """The finder, if any, is a member of the actor's collective who was not removed."""
    if finder_id is not None:
        finder = get_in(Membership, actor.collective_id, finder_id, "member")
        if finder.status == MembershipStatus.REMOVED:
            raise DomainError("the finder is no longer a member", field="finder_id")


def clean_required_skills(skills: Mapping[str, int]) -> dict[str, int]:
    cleaned = {}
    for name, level in skills.items():
        name = " ".join((name or "").lower().split())
        if not name:
            continue
        if not isinstance(level, int) or not 1 <= level <= 5:
            raise DomainError(f"the level of {name!r} must be 1 to 5", field="required_skills")
        cleaned[name[:60]] = level
    return cleaned


def edit_pitch(
    actor: Membership,
    pitch: Pitch,
    *,
    title: str,
    value_amount: int,
    value_currency: str,
    description: str = "",
    required_skills: Mapping[str, int] | None = None,
    estimated_hours: int = 0,
    deadline_on: date | None = None,
    finder_id: int | None = None,
    expected_version: int | None = None,
    today: date,
    at: datetime,
) -> list[list[str]]:
    """Change a pitch's details; its history keeps who changed what (old and new) and when.

    Returns the changes, [label, old, new] each; nothing changed records nothing.
    """
    require_role(actor, COORDINATOR, action="edit pitches")
    same_collective(actor, pitch, "pitch")
    check_version(pitch, expected_version)
    currency = check_details(title=title, value_amount=value_amount,
                             value_currency=value_currency, estimated_hours=estimated_hours)
    # A deadline that has passed may stay as it is; a new one must be ahead.
    if deadline_on != pitch.deadline_on:
        check_deadline(deadline_on, today)
    if finder_id != pitch.finder_id:
        check_finder(actor, finder_id)
    skills = clean_required_skills(required_skills or {})
    before = _described(pitch.title, pitch.description, pitch.estimated_hours,
                        pitch.value_amount, pitch.value_currency, pitch.deadline_on,
                        pitch.finder_id, {s.name: s.level for s in pitch.required_skills})
    after = _described(title.strip()[:200], description or "", estimated_hours, value_amount,
                       currency, deadline_on, finder_id, skills)
    changes = [[label, before[label], after[label]] for label in before
               if before[label] != after[label]]
    if not changes:
        return []
    claim_version(pitch, expected_version)
    pitch.title, pitch.description = title.strip()[:200], description or ""
    pitch.estimated_hours, pitch.deadline_on, pitch.finder_id = (estimated_hours, deadline_on,
                                                                 finder_id)
    pitch.value_amount, pitch.value_currency = value_amount, currency
    _replace_skills(pitch, skills)
    db.session.add(PitchEvent(pitch_id=pitch.id, from_state=pitch.state, to_state=pitch.state,
                              actor_id=actor.id, note="edited", changes=changes, at=at))
    db.session.flush()
    credit_if_delivered(pitch.id)  # the skills credited follow the skills it needs
    db.session.expire(pitch)
    return changes


def _described(title: str, description: str, estimated_hours: int, value_amount: int,
               currency: str, deadline_on: date | None, finder_id: int | None,
               skills: Mapping[str, int]) -> dict[str, str]:
    """A pitch's details as the history shows them, label by label."""
    finder = db.session.get(Membership, finder_id) if finder_id is not None else None
    return {
        "Title": title,
        "Value": f"{format_plain(value_amount, currency)} {currency}",
        "Deadline": deadline_on.isoformat() if deadline_on else "none",
        "Skills needed": ", ".join(f"{n} {lv}" for n, lv in sorted(skills.items())) or "any",
        "Estimated hours": str(estimated_hours),
        "Found by": finder.user.name if finder else "nobody in particular",
        "Description": description,
    }


def _replace_skills(pitch: Pitch, skills: Mapping[str, int]) -> None:
    # Kept rows are updated in place: deleting and re-adding a name in one flush would
    # insert before it deletes and trip the (pitch, name) unique constraint.
    for skill in list(pitch.required_skills):
        if skill.name in skills:
            skill.level = skills[skill.name]
        else:
            pitch.required_skills.remove(skill)
    kept = {s.name for s in pitch.required_skills}
    pitch.required_skills.extend(PitchSkill(name=n, level=lv) for n, lv in skills.items()
                                 if n not in kept)


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
    target = as_state(to_state)
    current = pitch.pitch_state
    check_move(pitch, target)
    if target in REOPENABLE_STATES and not (note or "").strip():
        raise DomainError(f"say why the pitch is {target.label}: the reason is kept in its "
                          "history", field="note")
    if target == PitchState.IN_PROGRESS and not pitch.allocations:
        raise DomainError("allocate the work to at least one member before starting it",
                          field="state")
    return _move(actor, pitch, current, target, expected_version, note, at)


def as_state(value: PitchState | str) -> PitchState:
    """The PitchState named `value`, or a DomainError on the state field."""
    try:
        return PitchState(value)
    except ValueError as exc:
        raise DomainError(f"{value!r} is not a state", field="state") from exc


def check_move(pitch: Pitch, target: PitchState) -> None:
    """Refuse a move the lifecycle does not allow, naming where the pitch can go."""
    current = pitch.pitch_state
    allowed = TRANSITIONS[current]
    if target not in allowed:
        if current in REOPENABLE_STATES:
            where = "nowhere until a coordinator reopens it"
        else:
            where = ", ".join(s.label for s in sorted(allowed)) or "nowhere (it is final)"
        raise DomainError(f"a pitch that is {current.label} cannot become {target.label}; "
                          f"it can go to: {where}", field="state")


def check_reopenable(pitch: Pitch) -> None:
    """Refuse to reopen a pitch that is not lost or cancelled."""
    if pitch.pitch_state not in REOPENABLE_STATES:
        raise DomainError(f"only a lost or cancelled pitch can be reopened; this one is "
                          f"{pitch.pitch_state.label}", field="state")


def _move(actor: Membership, pitch: Pitch, current: PitchState, target: PitchState,
          expected_version: int | None, note: str, at: datetime | None) -> Pitch:
    claim_version(pitch, expected_version)
    db.session.execute(sa.update(Pitch).where(Pitch.id == pitch.id).values(state=target.value)
                       .execution_options(synchronize_session=False))
    db.session.add(PitchEvent(pitch_id=pitch.id, from_state=current.value,
                              to_state=target.value, actor_id=actor.id,
                              note=(note or "").strip()[:500], **({"at": at} if at else {})))
    db.session.flush()
    if target in DELIVERED_STATES:
        credit_pitch(pitch.id)  # delivered after it was paid: its skills are credited now
    db.session.expire(pitch)
    return pitch


def follow_invoice(actor: Membership, pitch: Pitch, target: PitchState, note: str,
                   at: datetime | None = None) -> bool:
    """Move the work to `target` (invoiced, paid) because its invoices say so, if its
    lifecycle allows that move from where it is; recorded as a pitch event by `actor`, whose
    role the invoice's own service checked, at `at` (when written, unless given). False
    when the pitch stays where it is."""
    same_collective(actor, pitch, "pitch")
    if target not in TRANSITIONS[pitch.pitch_state]:
        return False
    _move(actor, pitch, pitch.pitch_state, target, None, note, at)
    return True


def next_steps(pitch: Pitch) -> list[PitchState]:
    """The states a pitch can move to now, in the order a page offers them (ends last)."""
    allowed = TRANSITIONS[pitch.pitch_state]
    return [state for state in MOVE_NAMES if state in allowed]


def reopen_target(pitch: Pitch) -> PitchState:
    """Where reopening a lost or cancelled pitch takes it: the state it was in before."""
    before = db.session.scalar(
        sa.select(PitchEvent.from_state)
        .where(PitchEvent.pitch_id == pitch.id, PitchEvent.to_state == pitch.state)
        .order_by(PitchEvent.id.desc()).limit(1))
    target = PitchState(before) if before else PitchState.OPEN
    # Work cannot be in progress with nobody on it (members may have been taken off since).
    if target == PitchState.IN_PROGRESS and not pitch.allocations:
        return PitchState.WON
    return target


def reopen_pitch(actor: Membership, pitch: Pitch, *, reason: str,
                 expected_version: int | None = None, at: datetime) -> Pitch:
    """Undo losing or cancelling a pitch: it goes back to the state it was in, and the
    history records who reopened it, when and why."""
    require_role(actor, COORDINATOR, action="reopen pitches")
    same_collective(actor, pitch, "pitch")
    check_version(pitch, expected_version)
    check_reopenable(pitch)
    if not (reason or "").strip():
        raise DomainError("say why the pitch is reopened: the reason is kept in its history",
                          field="note")
    return _move(actor, pitch, pitch.pitch_state, reopen_target(pitch), expected_version,
                 reason, at)


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
    """Members who volunteered for a pitch, first come first, with their names."""
    return list(db.session.scalars(
        sa.select(Volunteer).filter_by(pitch_id=pitch.id)
        .options(so.joinedload(Volunteer.membership).joinedload(Membership.user))
        .order_by(Volunteer.id)))


def pitches_of(collective_id: int, states: tuple[PitchState, ...] | None = None, *,
               limit: int | None = None, offset: int = 0) -> list[Pitch]:
    """Pitches of the collective, nearest deadline first; `limit` and `offset` page
    through them."""
    query = sa.select(Pitch).filter_by(collective_id=collective_id).options(
        so.joinedload(Pitch.client), so.selectinload(Pitch.required_skills))
    if states:
        query = query.where(Pitch.state.in_([s.value for s in states]))
    return list(db.session.scalars(
        query.order_by(Pitch.deadline_on.is_(None), Pitch.deadline_on, Pitch.id)
        .offset(offset).limit(limit)))


def pitch_events(pitch: Pitch, *, latest: int | None = None) -> list[PitchEvent]:
    """A pitch's history (its `latest` events only), oldest first, with who did each."""
    events = list(db.session.scalars(
        sa.select(PitchEvent).filter_by(pitch_id=pitch.id)
        .options(so.joinedload(PitchEvent.actor).joinedload(Membership.user))
        .order_by(PitchEvent.id.desc()).limit(latest)))
    return events[::-1]


def count_events(pitch: Pitch) -> int:
    """How many events a pitch's history holds."""
    return db.session.scalar(sa.select(sa.func.count(PitchEvent.id))
                             .where(PitchEvent.pitch_id == pitch.id))

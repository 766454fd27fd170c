"""Shared pitches: a host's coordinator shares a pitch with an active partner under a split
in basis points; a partner coordinator accepts (or declines). Then the partner's members
can be allocated to it and log their time, and nothing else of the host is theirs to see.
Flush, never commit."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective import audit
from collective.errors import Conflict, DomainError, NotFound
from collective.extensions import db
from collective.federation.models import (
    LIVE_SHARE,
    Federation,
    SharedPitch,
    ShareRole,
    ShareStatus,
)
from collective.federation.partners import get_active_federation
from collective.members.models import Membership, Role, User
from collective.members.services import require_role
from collective.notifications.kinds import Kind
from collective.notifications.service import notify
from collective.notifications.wording import page
from collective.pool import allocation, time
from collective.pool.checks import get_in, is_whole, same_collective
from collective.pool.models import (
    WORK_STATES,
    Allocation,
    Pitch,
    PitchState,
    TimeEntry,
)

#: States in which a pitch may be shared: anything not ended.
SHAREABLE_STATES = (PitchState.OPEN, PitchState.PITCHED, *WORK_STATES, PitchState.INVOICED)
#: How many shared pitches a page lists at most.
MAX_LISTED = 100


def check_offer(actor: Membership, pitch: Pitch, *, federation_id: int, partner_bp: int,
                role: str) -> tuple[Federation, ShareRole]:
    """What sharing one of the actor's collective's pitches with a partner needs: an active
    federation, a split of 0 to 10,000 basis points, a known role, a pitch not ended and
    not shared yet, and one base currency. The federation and the role, or DomainError."""
    same_collective(actor, pitch, "pitch")
    federation = get_active_federation(actor.collective_id, federation_id)
    if not is_whole(partner_bp, 0, 10_000):
        raise DomainError("the partner's part is 0 to 10,000 basis points (0% to 100%)",
                          field="partner_bp")
    try:
        role = ShareRole(role)
    except ValueError as exc:
        raise DomainError("the partner is a partner or a supplier", field="role") from exc
    if pitch.pitch_state not in SHAREABLE_STATES:
        raise DomainError(f"a pitch that is {pitch.pitch_state.label} cannot be shared",
                          field="pitch_id")
    partner = federation.other(actor.collective_id)
    if partner.base_currency != actor.collective.base_currency:
        raise DomainError(f"{partner.name} keeps its books in {partner.base_currency}, yours "
                          f"are in {actor.collective.base_currency}: a pitch can be shared "
                          "only between collectives with the same base currency",
                          field="partner_bp")
    if live_sharing(pitch.id) is not None:
        raise Conflict("this pitch is shared already, or waiting for an answer",
                       field="pitch_id")
    return federation, role


def add_sharing(shared: SharedPitch) -> SharedPitch:
    """Write a new sharing; the one-live-sharing-per-pitch index refuses a second one
    written at the same moment (a Conflict)."""
    try:
        with db.session.begin_nested():
            db.session.add(shared)
            db.session.flush()
    except sa.exc.IntegrityError as exc:
        raise Conflict("this pitch is shared already, or waiting for an answer",
                       field="pitch_id") from exc
    return shared


def offer_to_partner(shared: SharedPitch, actor: Membership, *, now: datetime) -> None:
    """Tell the partner's coordinators the host offers them a part (a coordinator's own
    offer, or a member's request the coordinator confirmed)."""
    from collective.federation.partners import coordinators_of
    partner = shared.partner
    for member in coordinators_of(partner.id):
        notify(member, kind=Kind.PITCH_ALLOCATED, event_key=f"shared-pitch:{shared.id}",
               title=f"{actor.collective.name} offers you a part in {shared.pitch.title}",
               now=now,
               link=page("federation.shared_pitch", slug=partner.slug, shared_id=shared.id))


def propose_sharing(actor: Membership, pitch: Pitch, *, federation_id: int, partner_bp: int,
                    role: str = ShareRole.PARTNER, note: str = "", now: datetime
                    ) -> SharedPitch:
    """Offer a partner a part in one of the collective's pitches: `partner_bp` of each
    payment's split amount goes to the partner (the host keeps the rest)."""
    require_role(actor, Role.COORDINATOR, action="share a pitch with a partner")
    federation, role = check_offer(actor, pitch, federation_id=federation_id,
                                   partner_bp=partner_bp, role=role)
    partner = federation.other(actor.collective_id)
    shared = add_sharing(SharedPitch(
        pitch_id=pitch.id, federation_id=federation.id, host_collective_id=actor.collective_id,
        partner_collective_id=partner.id, partner_bp=partner_bp, role=role.value,
        status=ShareStatus.PROPOSED.value, note=(note or "").strip()[:500],
        proposed_by_id=actor.id, proposed_at=now))
    audit.record("shared_pitch.proposed", collective=actor.collective_id, subject=shared,
                 actor=actor.user_id, pitch_id=pitch.id, partner=partner.slug,
                 partner_bp=partner_bp, role=role.value)
    offer_to_partner(shared, actor, now=now)
    return shared


def answer_sharing(actor: Membership, shared: SharedPitch, *, accept: bool, now: datetime
                   ) -> SharedPitch:
    """A partner coordinator accepts or declines a pitch offered to their collective."""
    require_role(actor, Role.COORDINATOR, action="answer a shared pitch")
    if shared.partner_collective_id != actor.collective_id or not shared.is_offered:
        raise NotFound("no such shared pitch for this collective")
    if shared.status != ShareStatus.PROPOSED:
        raise DomainError("this offer was answered already")
    if accept and not shared.federation.is_active:
        raise DomainError("the partnership has ended: the offer can only be declined")
    shared.status = (ShareStatus.ACCEPTED if accept else ShareStatus.DECLINED).value
    shared.answered_by_id = actor.id
    shared.answered_at = now
    db.session.flush()
    audit.record("shared_pitch.answered", collective=actor.collective_id, subject=shared,
                 actor=actor.user_id, accepted=accept)
    return shared


def withdraw_sharing(actor: Membership, shared: SharedPitch, *, now: datetime) -> SharedPitch:
    """The host takes back an offer the partner has not answered."""
    require_role(actor, Role.COORDINATOR, action="withdraw a shared pitch")
    if shared.host_collective_id != actor.collective_id:
        raise NotFound("no such shared pitch for this collective")
    if shared.status != ShareStatus.PROPOSED:
        raise DomainError("only an offer not yet answered can be withdrawn")
    shared.status = ShareStatus.WITHDRAWN.value
    shared.answered_at = now
    db.session.flush()
    return shared


def get_shared(collective_id: int, shared_id: int) -> SharedPitch:
    """A sharing the collective is host of, or partner of once it was offered; NotFound
    otherwise (a member's request is the host's own until a coordinator confirms it)."""
    shared = db.session.get(SharedPitch, shared_id)
    if shared is None or not (shared.host_collective_id == collective_id or (
            shared.partner_collective_id == collective_id and shared.is_offered)):
        raise NotFound("no such shared pitch for this collective")
    return shared


def live_sharing(pitch_id: int) -> SharedPitch | None:
    """The pitch's sharing that is offered or accepted, if any."""
    return db.session.scalar(sa.select(SharedPitch).where(
        SharedPitch.pitch_id == pitch_id,
        SharedPitch.status.in_([s.value for s in LIVE_SHARE])))


def accepted_sharing(pitch_id: int) -> SharedPitch | None:
    """The pitch's accepted sharing, if any: its payments give the partner its part."""
    shared = live_sharing(pitch_id)
    return shared if shared is not None and shared.is_accepted else None


def sharings_of(federation: Federation, collective_id: int) -> list[SharedPitch]:
    """The federation's sharings both ways as the collective sees them, newest first
    (bounded), with their pitches."""
    return list(db.session.scalars(
        sa.select(SharedPitch).where(SharedPitch.federation_id == federation.id,
                                     SharedPitch.seen_by(collective_id))
        .options(so.joinedload(SharedPitch.pitch))
        .order_by(SharedPitch.id.desc()).limit(MAX_LISTED)))


def shareable_pitches(collective_id: int) -> list[Pitch]:
    """The collective's pitches that could be shared now (not ended, not shared), newest
    first (bounded)."""
    shared = sa.select(SharedPitch.pitch_id).where(
        SharedPitch.status.in_([s.value for s in LIVE_SHARE]))
    return list(db.session.scalars(
        sa.select(Pitch).where(Pitch.collective_id == collective_id,
                               Pitch.state.in_([s.value for s in SHAREABLE_STATES]),
                               Pitch.id.not_in(shared))
        .order_by(Pitch.id.desc()).limit(MAX_LISTED)))


def _check_working(shared: SharedPitch) -> None:
    if not shared.is_accepted:
        raise DomainError("the partner has not accepted this pitch", field="membership_id")
    if not shared.federation.is_active:
        raise DomainError("the partnership has ended: nobody new can be allocated and no "
                          "new hours logged", field="membership_id")


def allocate_partner_member(actor: Membership, shared: SharedPitch, *, membership_id: int,
                            weight: int = 1, weekly_hours: int = 0, now: datetime
                            ) -> Allocation:
    """Give a partner's member a part in a shared pitch; a coordinator of either side does
    it (the host finds people by the partner search, the partner knows its own)."""
    require_role(actor, Role.COORDINATOR, action="allocate work")
    if actor.collective_id not in (shared.host_collective_id, shared.partner_collective_id):
        raise NotFound("no such shared pitch for this collective")
    _check_working(shared)
    member = get_in(Membership, shared.partner_collective_id, membership_id, "member")
    pitch = db.session.get(Pitch, shared.pitch_id)
    placed = allocation.place_member(actor, pitch, member, weight=weight,
                                     weekly_hours=weekly_hours, is_told=False)
    notify(member, kind=Kind.PITCH_ALLOCATED, event_key=f"allocated:{placed.id}",
           title=f"You were allocated to {pitch.title} ({shared.host.name})", now=now,
           link=page("federation.shared_pitch", slug=shared.partner.slug,
                     shared_id=shared.id))
    return placed


def log_partner_time(actor: Membership, shared: SharedPitch, *, worked_on: date,
                     minutes: int, note: str = "", today: date) -> TimeEntry:
    """A partner's member logs time on their part in a shared pitch."""
    if shared.partner_collective_id != actor.collective_id:
        raise NotFound("no such shared pitch for this collective")
    _check_working(shared)
    placed = db.session.scalar(sa.select(Allocation).filter_by(pitch_id=shared.pitch_id,
                                                               membership_id=actor.id))
    if placed is None:
        raise NotFound("you have no part in this pitch", field="hours")
    return time.log_time(actor, placed, worked_on=worked_on, minutes=minutes, note=note,
                         today=today)


def check_partner_work(actor: Membership, placed: Allocation) -> None:
    """The pool's rule for time on another collective's pitch: only on a pitch shared with
    the actor's collective, accepted, while the partnership lasts."""
    shared = accepted_sharing(placed.pitch_id)
    if shared is None or shared.partner_collective_id != actor.collective_id:
        raise NotFound("no such allocation of yours", field="allocation_id")
    if not shared.federation.is_active:
        raise DomainError("the partnership has ended: hours on its shared pitches are no "
                          "longer logged, changed or deleted",
                          field="allocation_id")


def partner_team(shared: SharedPitch) -> list[tuple[int, str, int, int, int]]:
    """The partner's members on the pitch: (membership id, name, weight, weekly hours,
    minutes logged), in one query."""
    minutes = (sa.select(sa.func.coalesce(sa.func.sum(TimeEntry.minutes), 0))
               .where(TimeEntry.allocation_id == Allocation.id).scalar_subquery())
    return [tuple(row) for row in db.session.execute(
        sa.select(Membership.id, User.name, Allocation.weight, Allocation.weekly_hours,
                  minutes)
        .join(Membership, Membership.id == Allocation.membership_id)
        .join(User, User.id == Membership.user_id)
        .where(Allocation.pitch_id == shared.pitch_id,
               Membership.collective_id == shared.partner_collective_id)
        .order_by(Allocation.id)).all()]


def partner_pitch_link(pitch: Pitch, member: Membership) -> str | None:
    """Where a partner's member sees a shared pitch: the shared pitch's page in their own
    collective (pool's notices link there, not to the host's page)."""
    shared = live_sharing(pitch.id)
    if (shared is None or member.collective_id != shared.partner_collective_id
            or not shared.is_offered):
        return None
    return page("federation.shared_pitch", slug=shared.partner.slug, shared_id=shared.id)

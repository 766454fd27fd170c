"""Members hiring a partner (issue 15, subcontracting): a member who works one of the
collective's pitches asks to hire an active partner collective as supplier for part of it.

Hiring gives part of every payment on the pitch away, so the request waits for a host
coordinator: confirmed, it becomes the coordinator's offer and the partner answers it like
any other (`sharing.answer_sharing`); turned down, the member is told. The member may
withdraw it until then. While it waits it counts as the pitch's live sharing (the partial
unique index), and the partner sees nothing of it. Flush, never commit."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective import audit
from collective.errors import DomainError, NotFound
from collective.extensions import db
from collective.federation.models import SharedPitch, ShareRole, ShareStatus
from collective.federation.partners import coordinators_of, federations_of
from collective.federation.sharing import (
    MAX_LISTED,
    SHAREABLE_STATES,
    add_sharing,
    check_offer,
    offer_to_partner,
)
from collective.members.models import Membership, MembershipStatus, Role
from collective.members.services import require_role
from collective.notifications.kinds import Kind
from collective.notifications.service import notify
from collective.notifications.wording import page
from collective.pool.checks import same_collective
from collective.pool.models import Allocation, Pitch


def works_on(member: Membership, pitch: Pitch) -> bool:
    """True when the member is allocated to the pitch (one of its own collective's)."""
    return member.collective_id == pitch.collective_id and db.session.scalar(
        sa.select(sa.exists().where(Allocation.pitch_id == pitch.id,
                                    Allocation.membership_id == member.id)))


def hireable_partners(collective_id: int) -> list[tuple[int, str]]:
    """The collective's active partners a member may ask to hire: (federation id, name)."""
    return [(f.id, f.other(collective_id).name) for f in federations_of(collective_id)
            if f.is_active]


def request_supplier(actor: Membership, pitch: Pitch, *, federation_id: int, partner_bp: int,
                     note: str, now: datetime) -> SharedPitch:
    """A member working the pitch asks to hire a partner as supplier for the part of the
    work `note` describes, for `partner_bp` of each payment's split amount; the host's
    coordinators are told, and one of them confirms or turns it down."""
    same_collective(actor, pitch, "pitch")
    if actor.status != MembershipStatus.ACTIVE:
        raise DomainError("only an active member can ask to hire a partner",
                          field="federation_id")
    if not works_on(actor, pitch):
        raise DomainError("only a member allocated to this pitch can ask to hire a partner "
                          "for part of it", field="federation_id")
    note = (note or "").strip()[:500]
    if not note:
        raise DomainError("say what part of the work the partner would do", field="note")
    federation, role = check_offer(actor, pitch, federation_id=federation_id,
                                   partner_bp=partner_bp, role=ShareRole.SUPPLIER)
    partner = federation.other(actor.collective_id)
    shared = add_sharing(SharedPitch(
        pitch_id=pitch.id, federation_id=federation.id, host_collective_id=actor.collective_id,
        partner_collective_id=partner.id, partner_bp=partner_bp, role=role.value,
        status=ShareStatus.REQUESTED.value, note=note, requested_by_id=actor.id,
        requested_at=now))
    audit.record("shared_pitch.requested", collective=actor.collective_id, subject=shared,
                 actor=actor.user_id, pitch_id=pitch.id, partner=partner.slug,
                 partner_bp=partner_bp)
    link = page("federation.shared_pitch", slug=actor.collective.slug, shared_id=shared.id)
    for coordinator in coordinators_of(actor.collective_id):
        if coordinator.id != actor.id:
            notify(coordinator, kind=Kind.PITCH_ALLOCATED, event_key=f"hire-request:{shared.id}",
                   title=f"{actor.user.name} asks to hire {partner.name} for part of "
                         f"{pitch.title}: confirm or turn it down", now=now, link=link)
    return shared


def _waiting(actor: Membership, shared: SharedPitch) -> None:
    if shared.host_collective_id != actor.collective_id:
        raise NotFound("no such shared pitch for this collective")
    if shared.status != ShareStatus.REQUESTED:
        raise DomainError("this request was confirmed, turned down or withdrawn already")


def _tell_requester(shared: SharedPitch, title: str, now: datetime, body: str = "") -> None:
    requester = db.session.get(Membership, shared.requested_by_id)
    notify(requester, kind=Kind.PITCH_ALLOCATED,
           event_key=f"hire-request:{shared.id}:{shared.status}", title=title, body=body,
           now=now, link=page("federation.shared_pitch", slug=shared.host.slug,
                              shared_id=shared.id))


def confirm_request(actor: Membership, shared: SharedPitch, *, now: datetime) -> SharedPitch:
    """A host coordinator confirms a member's request: it becomes the coordinator's offer
    to the partner, whose coordinators are told and answer it as any other."""
    require_role(actor, Role.COORDINATOR, action="confirm a request to hire a partner")
    _waiting(actor, shared)
    if not shared.federation.is_active:
        raise DomainError("the partnership has ended: the request can only be turned down")
    pitch = shared.pitch
    if pitch.pitch_state not in SHAREABLE_STATES:
        raise DomainError(f"the pitch is {pitch.pitch_state.label} now: the request can only "
                          "be turned down")
    shared.status = ShareStatus.PROPOSED.value
    shared.proposed_by_id = actor.id
    shared.proposed_at = now
    db.session.flush()
    audit.record("shared_pitch.confirmed", collective=actor.collective_id, subject=shared,
                 actor=actor.user_id, pitch_id=pitch.id, partner=shared.partner.slug,
                 partner_bp=shared.partner_bp, requested_by=shared.requested_by_id)
    offer_to_partner(shared, actor, now=now)
    if shared.requested_by_id != actor.id:
        _tell_requester(shared, f"Your request to hire {shared.partner.name} for "
                                f"{pitch.title} is confirmed: offered to them", now)
    return shared


def turn_down_request(actor: Membership, shared: SharedPitch, *, reason: str = "",
                      now: datetime) -> SharedPitch:
    """A host coordinator turns a member's request down; the member is told why."""
    require_role(actor, Role.COORDINATOR, action="turn down a request to hire a partner")
    _waiting(actor, shared)
    reason = (reason or "").strip()[:500]
    shared.status = ShareStatus.TURNED_DOWN.value
    shared.answered_by_id = actor.id
    shared.answered_at = now
    db.session.flush()
    audit.record("shared_pitch.turned_down", collective=actor.collective_id, subject=shared,
                 actor=actor.user_id, pitch_id=shared.pitch_id,
                 requested_by=shared.requested_by_id, reason=reason)
    if shared.requested_by_id != actor.id:
        _tell_requester(shared, f"Your request to hire {shared.partner.name} for "
                                f"{shared.pitch.title} was turned down", now, body=reason)
    return shared


def withdraw_request(actor: Membership, shared: SharedPitch, *, now: datetime
                     ) -> SharedPitch:
    """The member who asked takes the request back before a coordinator confirmed it."""
    _waiting(actor, shared)
    if shared.requested_by_id != actor.id:
        raise DomainError("only the member who asked can withdraw the request; a "
                          "coordinator turns it down")
    shared.status = ShareStatus.WITHDRAWN.value
    shared.answered_at = now
    db.session.flush()
    audit.record("shared_pitch.request_withdrawn", collective=actor.collective_id,
                 subject=shared, actor=actor.user_id, pitch_id=shared.pitch_id)
    return shared


def requests_waiting(collective_id: int) -> list[SharedPitch]:
    """The collective's members' requests waiting for a coordinator, oldest first
    (bounded), with their pitch, partner and requester."""
    return list(db.session.scalars(
        sa.select(SharedPitch)
        .where(SharedPitch.host_collective_id == collective_id,
               SharedPitch.status == ShareStatus.REQUESTED.value)
        .options(so.joinedload(SharedPitch.pitch), so.joinedload(SharedPitch.partner),
                 so.joinedload(SharedPitch.requested_by).joinedload(Membership.user))
        .order_by(SharedPitch.id).limit(MAX_LISTED)))

"""Allocation: giving members their part in won work, and ranking who fits a pitch."""
from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import sqlalchemy as sa

from collective.errors import DomainError, NotFound
from collective.extensions import db
from collective.members.models import Membership, MembershipStatus, Skill, User
from collective.members.services import require_role
from collective.pool import capacity, compute, notices
from collective.pool.checks import COORDINATOR, FAIRNESS_WINDOW, get_in, is_whole, same_collective
from collective.pool.evidence.queries import delivered_minutes
from collective.pool.models import (
    ACTIVE_STATES,
    WORK_STATES,
    Allocation,
    AllocationRole,
    Pitch,
    TimeEntry,
)
from collective.pool.pitches import check_version, claim_version, volunteers_of
from collective.pool.queries import frame, member_earnings

if TYPE_CHECKING:
    import pandas as pd


def allocate_member(
    actor: Membership,
    pitch: Pitch,
    *,
    membership_id: int,
    role: str = AllocationRole.CONTRIBUTOR,
    weight: int = 1,
    weekly_hours: int = 0,
    expected_version: int | None = None,
) -> Allocation:
    """Give a member a part in a won pitch (or change it); one lead at most."""
    require_role(actor, COORDINATOR, action="allocate work")
    same_collective(actor, pitch, "pitch")
    member = get_in(Membership, actor.collective_id, membership_id, "member")
    return place_member(actor, pitch, member, role=role, weight=weight,
                        weekly_hours=weekly_hours, expected_version=expected_version)


def place_member(
    actor: Membership,
    pitch: Pitch,
    member: Membership,
    *,
    role: str = AllocationRole.CONTRIBUTOR,
    weight: int = 1,
    weekly_hours: int = 0,
    expected_version: int | None = None,
    is_told: bool = True,
) -> Allocation:
    """allocate_member once the caller has checked that `actor` may allocate `member` to
    `pitch` (a member of the pitch's collective, or of a partner it shares the pitch with).
    The member is told of a new part unless `is_told` is false (the caller tells them)."""
    check_version(pitch, expected_version)
    if pitch.pitch_state not in WORK_STATES:
        raise DomainError(f"only won work can be allocated; this pitch is "
                          f"{pitch.pitch_state.label}", field="membership_id")
    if member.status != MembershipStatus.ACTIVE:
        raise DomainError(f"{member.user.name} is {member.status} and cannot take work",
                          field="membership_id")
    if role not in set(AllocationRole):
        raise DomainError("the role is lead or contributor", field="role")
    if not is_whole(weight, 1, 10_000):
        raise DomainError("the weight is a whole number from 1 to 10,000", field="weight")
    if not is_whole(weekly_hours, 0, 168):
        raise DomainError("weekly hours are 0 to 168", field="weekly_hours")
    claim_version(pitch, expected_version)
    allocation = db.session.scalar(
        sa.select(Allocation).filter_by(pitch_id=pitch.id, membership_id=member.id))
    is_new = allocation is None
    if is_new:
        allocation = Allocation(pitch_id=pitch.id, membership_id=member.id)
        db.session.add(allocation)
    if role == AllocationRole.LEAD:
        for other in pitch.allocations:
            if other.role == AllocationRole.LEAD and other.membership_id != member.id:
                other.role = AllocationRole.CONTRIBUTOR
    allocation.role, allocation.weight, allocation.weekly_hours = role, weight, weekly_hours
    db.session.flush()
    if is_new and is_told:
        notices.allocated(actor.collective, allocation, pitch)
    db.session.expire(pitch)
    return allocation


def remove_allocation(actor: Membership, pitch: Pitch, membership_id: int, *,
                      expected_version: int | None = None) -> None:
    """Take a member off a pitch, if they have logged no time on it."""
    require_role(actor, COORDINATOR, action="allocate work")
    same_collective(actor, pitch, "pitch")
    check_version(pitch, expected_version)
    allocation = db.session.scalar(
        sa.select(Allocation).filter_by(pitch_id=pitch.id, membership_id=membership_id))
    if allocation is None:
        raise NotFound("that member is not allocated to this pitch")
    logged = db.session.scalar(
        sa.select(sa.func.count(TimeEntry.id)).filter_by(allocation_id=allocation.id))
    if logged:
        raise DomainError("this member has logged time on the pitch, so they stay on it "
                          "(set their weekly hours to 0 instead)", field="membership_id")
    claim_version(pitch, expected_version)
    db.session.delete(allocation)
    db.session.flush()
    db.session.expire(pitch)


def active_load(collective_id: int) -> pd.DataFrame:
    """Weekly hours each member has committed on active pitches."""
    return frame(
        sa.select(Allocation.membership_id, Allocation.weekly_hours)
        .join(Pitch, Allocation.pitch_id == Pitch.id)
        .where(Pitch.collective_id == collective_id,
               Pitch.state.in_([s.value for s in ACTIVE_STATES])),
        ["membership_id", "hours"],
    )


def suggest_members(pitch: Pitch, today: date, limit: int | None = 20) -> pd.DataFrame:
    """Members ranked for a pitch, with their score and the reasons behind it; members
    already allocated to it are left out."""
    cid = pitch.collective_id
    allocated = [a.membership_id for a in pitch.allocations]
    members = frame(
        sa.select(Membership.id, User.name, Membership.weekly_capacity_hours,
                  Membership.status == MembershipStatus.ACTIVE.value,
                  User.weekly_capacity_hours)
        .join(User, Membership.user_id == User.id)
        .where(Membership.collective_id == cid,
               Membership.status != MembershipStatus.REMOVED.value,
               Membership.id.not_in(allocated)),
        ["membership_id", "name", "capacity", "is_active", "person_capacity"],
    )
    members["is_active"] = members["is_active"].astype(bool)
    # The person's week is shared with their other collectives (pool/capacity.py).
    elsewhere = capacity.work_elsewhere(cid)
    members = capacity.capacity_here(members, elsewhere)
    required = {s.name: s.level for s in pitch.required_skills}
    # Only the required skills count towards the match (and its labels).
    skills = frame(
        sa.select(Membership.id, Skill.name, Skill.level)
        .join(Skill, Skill.user_id == Membership.user_id)
        .where(Membership.collective_id == cid, Skill.name.in_(list(required)))
        .order_by(Skill.id),
        ["membership_id", "skill", "level"],
    )
    earnings = member_earnings(cid, since=today - FAIRNESS_WINDOW, until=today)
    volunteers = [v.membership_id for v in volunteers_of(pitch)]
    ranked = compute.rank_candidates(members, skills, required, active_load(cid), earnings,
                                     volunteers, limit=limit,
                                     evidence=delivered_minutes(cid, list(required)))
    labels = capacity.elsewhere_labels(elsewhere)
    return ranked.assign(elsewhere=[labels.get(int(m), "") for m in ranked["membership_id"]])

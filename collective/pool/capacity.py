"""A person's work in their other collectives, counted against their free capacity here.

Capacity belongs to the person (User.weekly_capacity_hours, their whole week); what a
membership offers one collective stays a cap within it. So the hours a member can still
take here are the smaller of what they offer here and their whole week less their active
work elsewhere, less their active work here (which the ranking subtracts).

The person chooses whether coordinators here see that work by collective ("12 h in Oak
Collective") or only as hours ("12 h elsewhere": User.is_other_work_private).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective.members.models import Collective, Membership, MembershipStatus, User
from collective.pool.models import ACTIVE_STATES, Allocation, Pitch
from collective.pool.queries import frame

if TYPE_CHECKING:
    import pandas as pd


def work_elsewhere(collective_id: int) -> pd.DataFrame:
    """For the collective's members (not removed) whose person has active work (won or in
    progress) in another collective they have not left, per other collective, in one
    grouped query: membership_id, is_private (the person's choice), collective (its name),
    hours (weekly hours allocated there), other_capacity (what they offer there)."""
    here, other = so.aliased(Membership), so.aliased(Membership)
    # From this collective's members to their other memberships (by person) and those
    # memberships' active allocations: a few index probes per member, and no more the more
    # collectives the instance hosts. Names are looked up after grouping.
    busy = (sa.select(here.id.label("membership_id"), here.user_id, other.collective_id,
                      sa.func.sum(Allocation.weekly_hours).label("hours"),
                      sa.func.max(other.weekly_capacity_hours).label("other_capacity"))
            .select_from(here)
            .join(other, sa.and_(other.user_id == here.user_id, other.id != here.id))
            .join(Allocation, Allocation.membership_id == other.id)
            .join(Pitch, Pitch.id == Allocation.pitch_id)
            .where(here.collective_id == collective_id,
                   here.status != MembershipStatus.REMOVED.value,
                   other.status != MembershipStatus.REMOVED.value,
                   Pitch.state.in_([s.value for s in ACTIVE_STATES]))
            .group_by(here.id, here.user_id, other.collective_id).subquery())
    return frame(
        sa.select(busy.c.membership_id, User.is_other_work_private, Collective.name,
                  busy.c.hours, busy.c.other_capacity)
        .join(Collective, Collective.id == busy.c.collective_id)
        .join(User, User.id == busy.c.user_id)
        .where(Collective.archived_at.is_(None))
        .order_by(busy.c.membership_id, busy.c.hours.desc(), Collective.name),
        ["membership_id", "is_private", "collective", "hours", "other_capacity"])


def capacity_here(members: pd.DataFrame, elsewhere: pd.DataFrame) -> pd.DataFrame:
    """`members` (membership_id, capacity: what each offers here, person_capacity: their
    whole week or None) with `capacity` lowered to what their week leaves after their work
    elsewhere (`work_elsewhere`'s rows), never below zero. A person who has not set their
    week counts the most they offer any of these collectives as their week."""
    import pandas as pd
    rows = elsewhere.assign(hours=pd.to_numeric(elsewhere["hours"]),
                            other_capacity=pd.to_numeric(elsewhere["other_capacity"]))
    per_member = rows.groupby("membership_id").agg(hours=("hours", "sum"),
                                                   other=("other_capacity", "max"))
    ids = members["membership_id"]
    here = members["capacity"].astype("int64")
    hours = ids.map(per_member["hours"]).fillna(0)
    other = ids.map(per_member["other"]).fillna(0)
    week = pd.to_numeric(members["person_capacity"]).fillna(other.where(other > here, here))
    left = (week - hours).clip(lower=0)
    return members.assign(capacity=here.where(here <= left, left).astype("int64"))


def elsewhere_labels(elsewhere: pd.DataFrame) -> dict[int, str]:
    """{membership_id: '12 h in Oak Collective, 3 h in Elm' or '15 h elsewhere'} of the
    members with active work in other collectives, as each person chose to show it."""
    labels: dict[int, str] = {}
    for membership_id, rows in elsewhere.groupby("membership_id", sort=False):
        hours = [int(h) for h in rows["hours"]]
        if bool(rows["is_private"].iloc[0]):
            labels[int(membership_id)] = f"{sum(hours)} h elsewhere"
        else:
            labels[int(membership_id)] = ", ".join(
                f"{h} h in {name}" for h, name in zip(hours, rows["collective"], strict=True))
    return labels

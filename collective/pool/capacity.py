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
    progress) in another collective, or a whole week smaller than what they offer here, in
    one grouped query: membership_id, person_capacity (None: not set), is_private,
    collective (the other one's name; None on the row of a member with no work elsewhere),
    hours (weekly hours allocated there), other_capacity (the most they offer there)."""
    other = so.aliased(Membership)
    here_users = sa.select(Membership.user_id).where(Membership.collective_id == collective_id)
    busy = (sa.select(other.user_id, Collective.id.label("collective_id"),
                      Collective.name, sa.func.sum(Allocation.weekly_hours).label("hours"),
                      sa.func.max(other.weekly_capacity_hours).label("other_capacity"))
            .join(Allocation, Allocation.membership_id == other.id)
            .join(Pitch, Pitch.id == Allocation.pitch_id)
            .join(Collective, Collective.id == other.collective_id)
            .where(other.collective_id != collective_id, other.user_id.in_(here_users),
                   other.status != MembershipStatus.REMOVED.value,
                   Collective.archived_at.is_(None),
                   Pitch.state.in_([s.value for s in ACTIVE_STATES]))
            .group_by(other.user_id, Collective.id, Collective.name).subquery())
    return frame(
        sa.select(Membership.id, User.weekly_capacity_hours, User.is_other_work_private,
                  busy.c.name, busy.c.hours, busy.c.other_capacity)
        .join(User, User.id == Membership.user_id)
        .outerjoin(busy, busy.c.user_id == Membership.user_id)
        .where(Membership.collective_id == collective_id,
               Membership.status != MembershipStatus.REMOVED.value,
               sa.or_(busy.c.user_id.is_not(None),
                      User.weekly_capacity_hours < Membership.weekly_capacity_hours))
        .order_by(Membership.id, busy.c.hours.desc(), busy.c.name),
        ["membership_id", "person_capacity", "is_private", "collective", "hours",
         "other_capacity"])


def capacity_here(members: pd.DataFrame, elsewhere: pd.DataFrame) -> pd.DataFrame:
    """`members` (membership_id, capacity: what each offers here) with `capacity` lowered
    to what their whole week leaves after their work elsewhere (`work_elsewhere`'s rows),
    never below zero. A person who has not set their week counts the most they offer any
    of these collectives as their week."""
    import pandas as pd
    if elsewhere.empty:
        return members
    rows = elsewhere.assign(
        person_capacity=pd.to_numeric(elsewhere["person_capacity"]),
        hours=pd.to_numeric(elsewhere["hours"]).fillna(0),
        other_capacity=pd.to_numeric(elsewhere["other_capacity"]).fillna(0))
    per_member = rows.groupby("membership_id").agg(
        person=("person_capacity", "first"), hours=("hours", "sum"),
        other=("other_capacity", "max"))
    here = (members.set_index("membership_id")["capacity"].astype("int64")
            .reindex(per_member.index))
    week = per_member["person"].fillna(per_member["other"].where(
        per_member["other"] > here, here))
    left = (week - per_member["hours"]).clip(lower=0)
    lowered = here.where(here <= left, left).dropna().astype("int64")
    out = members.copy()
    mapped = out["membership_id"].map(lowered)
    out["capacity"] = mapped.fillna(out["capacity"]).astype("int64")
    return out


def elsewhere_labels(elsewhere: pd.DataFrame) -> dict[int, str]:
    """{membership_id: '12 h in Oak Collective, 3 h in Elm' or '15 h elsewhere'} of the
    members with active work in other collectives, as each person chose to show it."""
    labels: dict[int, str] = {}
    busy = elsewhere[elsewhere["collective"].notna()]
    for membership_id, rows in busy.groupby("membership_id", sort=False):
        hours = [int(h) for h in rows["hours"]]
        if bool(rows["is_private"].iloc[0]):
            labels[int(membership_id)] = f"{sum(hours)} h elsewhere"
        else:
            labels[int(membership_id)] = ", ".join(
                f"{h} h in {name}" for h, name in zip(hours, rows["collective"], strict=True))
    return labels

"""Finding people in a partner collective: its active members by skill and free hours a
week (weekly capacity less the hours their active allocations take, in any collective).
A coordinator sees only what the partner shares: name, skills with levels, the hours of
delivered work behind each skill (the evidence, collective.pool.evidence), free hours."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from collective.errors import DomainError
from collective.extensions import db
from collective.federation.models import Federation
from collective.members.models import Membership, MembershipStatus, Role, Skill, User
from collective.members.services import require_role
from collective.pool.evidence.models import SkillCredit
from collective.pool.models import ACTIVE_STATES, Allocation, Pitch

#: Members per page of a search.
PAGE_SIZE = 20


@dataclass(frozen=True)
class PartnerMember:
    """One partner member as a search shows them."""

    membership_id: int
    name: str
    #: (skill, level), the asked-for skill first, then by name.
    skills: list[tuple[str, int]]
    free_hours: int
    #: Whole hours of delivered work behind each skill that has any (skill: hours).
    delivered: dict[str, int]


def search_partner_members(actor: Membership, federation: Federation, *, skill: str = "",
                           min_level: int = 1, min_free_hours: int = 0, page: int = 1
                           ) -> tuple[list[PartnerMember], bool]:
    """A page of the partner's active members with the skill (at `min_level` or above) and
    at least `min_free_hours` free a week, most free first; and whether there are more.
    Four queries whatever the partner's size."""
    require_role(actor, Role.COORDINATOR, action="search a partner's members")
    if not federation.has(actor.collective_id) or not federation.is_active:
        from collective.errors import NotFound
        raise NotFound("no such partnership of this collective")
    skill = (skill or "").strip().lower()[:60]
    if not 1 <= min_level <= 5:
        raise DomainError("a level is 1 to 5", field="min_level")
    if not 0 <= min_free_hours <= 168:
        raise DomainError("free hours are 0 to 168", field="min_free_hours")
    partner_id = federation.other_id(actor.collective_id)
    load = (sa.select(sa.func.coalesce(sa.func.sum(Allocation.weekly_hours), 0))
            .join(Pitch, Pitch.id == Allocation.pitch_id)
            .where(Allocation.membership_id == Membership.id,
                   Pitch.state.in_([s.value for s in ACTIVE_STATES]))
            .scalar_subquery())
    free = Membership.weekly_capacity_hours - load
    query = (sa.select(Membership.id, User.name, free.label("free"))
             .join(User, User.id == Membership.user_id)
             .where(Membership.collective_id == partner_id,
                    Membership.status == MembershipStatus.ACTIVE.value,
                    free >= min_free_hours))
    if skill:
        query = query.where(sa.exists().where(Skill.user_id == Membership.user_id,
                                              Skill.name == skill, Skill.level >= min_level))
    rows = db.session.execute(query.order_by(sa.desc("free"), User.name, Membership.id)
                              .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)).all()
    rows, more = rows[:PAGE_SIZE], len(rows) > PAGE_SIZE
    skills: dict[int, list[tuple[str, int]]] = {}
    if rows:
        for membership_id, name, level in db.session.execute(
                sa.select(Membership.id, Skill.name, Skill.level)
                .join(Skill, Skill.user_id == Membership.user_id)
                .where(Membership.id.in_([r[0] for r in rows]))
                .order_by(Skill.name)):
            skills.setdefault(membership_id, []).append((name, level))
    delivered: dict[int, dict[str, int]] = {}
    if rows:
        for membership_id, name, minutes in db.session.execute(
                sa.select(SkillCredit.membership_id, SkillCredit.skill,
                          sa.func.sum(SkillCredit.minutes))
                .where(SkillCredit.membership_id.in_([r[0] for r in rows]))
                .group_by(SkillCredit.membership_id, SkillCredit.skill)):
            if int(minutes) >= 60:
                delivered.setdefault(membership_id, {})[name] = int(minutes) // 60
    found = []
    for membership_id, name, free_hours in rows:
        own = skills.get(membership_id, [])
        own.sort(key=lambda s: (s[0] != skill, s[0]))
        found.append(PartnerMember(membership_id, name, own, max(int(free_hours), 0),
                                   delivered.get(membership_id, {})))
    return found, more

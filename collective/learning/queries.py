"""The read side of learning: the modules list with how each was received, a module's
marks, and "what to learn next"."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective.extensions import db
from collective.learning.models import LearningModule, ModuleCompletion
from collective.learning.modules import readable_by
from collective.members.models import Membership, MembershipStatus, Skill, User
from collective.pool.models import Pitch, PitchSkill

#: The level from which a member counts as able in a skill.
ABLE_LEVEL = 3
#: A skill is held by "few" members when fewer than this many active members, or than a
#: tenth of them in a large collective, are at ABLE_LEVEL or above.
FEW_MEMBERS = 3
#: How far back the pitches' demand is counted, in months.
DEMAND_MONTHS = 6
#: Skills "what to learn next" lists, and modules it names per skill.
NEXT_SKILLS = 6
MODULES_PER_SKILL = 3


@dataclass(frozen=True)
class ModuleRow:
    """A module in a list, with how many finished it and its average rating."""

    module: LearningModule
    done: int
    ratings: int
    average: float | None


def _stats():
    return (sa.select(ModuleCompletion.module_id,
                      sa.func.count(ModuleCompletion.id).label("done"),
                      sa.func.count(ModuleCompletion.rating).label("ratings"),
                      sa.func.avg(ModuleCompletion.rating).label("average"))
            .group_by(ModuleCompletion.module_id).subquery())


def modules_for(viewer: Membership, *, skill: str = "", limit: int, offset: int = 0
                ) -> list[ModuleRow]:
    """Modules `viewer` may read (of one skill, if given), newest first, with their marks;
    `limit` and `offset` page through them."""
    stats = _stats()
    query = (sa.select(LearningModule, sa.func.coalesce(stats.c.done, 0),
                       sa.func.coalesce(stats.c.ratings, 0), stats.c.average)
             .outerjoin(stats, stats.c.module_id == LearningModule.id)
             .where(readable_by(viewer))
             .options(so.joinedload(LearningModule.author).joinedload(Membership.user)))
    if skill:
        query = query.where(LearningModule.skill == skill)
    rows = db.session.execute(query.order_by(LearningModule.created_at.desc(),
                                             LearningModule.id.desc())
                              .offset(offset).limit(limit))
    return [ModuleRow(m, done, ratings, round(float(avg), 1) if avg is not None else None)
            for m, done, ratings, avg in rows]


def ratings_of(module: LearningModule, *, limit: int) -> list[ModuleCompletion]:
    """The latest `limit` ratings of a module, with who gave them."""
    return list(db.session.scalars(
        sa.select(ModuleCompletion)
        .where(ModuleCompletion.module_id == module.id, ModuleCompletion.rating.is_not(None))
        .options(so.joinedload(ModuleCompletion.membership).joinedload(Membership.user))
        .order_by(ModuleCompletion.rated_at.desc(), ModuleCompletion.id.desc())
        .limit(limit)))


@dataclass
class SkillToLearn:
    """A skill the collective's work asks for that few members can do yet."""

    skill: str
    pitches: int
    able: int
    modules: list[LearningModule] = field(default_factory=list)


def months_back(day: date, months: int) -> date:
    """The same day `months` months earlier (the month's last day where it is shorter)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    for last in (31, 30, 29, 28):
        try:
            return date(year, month + 1, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def few_members(collective_id: int) -> int:
    """Below how many able members a skill counts as held by few (FEW_MEMBERS, or a tenth
    of the active members when that is more)."""
    active = db.session.scalar(sa.select(sa.func.count(Membership.id)).where(
        Membership.collective_id == collective_id,
        Membership.status == MembershipStatus.ACTIVE.value))
    return max(FEW_MEMBERS, math.ceil((active or 0) / 10))


def what_to_learn_next(viewer: Membership, today: date, *, limit: int = NEXT_SKILLS
                       ) -> list[SkillToLearn]:
    """For `viewer`: the skills the collective's pitches of the last DEMAND_MONTHS asked for
    most that fewer than `few_members` active members hold at ABLE_LEVEL or above (and the
    viewer does not), most asked first, with up to MODULES_PER_SKILL modules teaching each.

    One grouped query ranks the skills; one more finds their modules."""
    collective_id = viewer.collective_id
    since = datetime.combine(months_back(today, DEMAND_MONTHS), datetime.min.time(),
                             tzinfo=UTC)
    asked = (sa.select(PitchSkill.name.label("name"),
                       sa.func.count(sa.distinct(Pitch.id)).label("pitches"))
             .join(Pitch, Pitch.id == PitchSkill.pitch_id)
             .where(Pitch.collective_id == collective_id, Pitch.created_at >= since)
             .group_by(PitchSkill.name).subquery())
    able = (sa.select(Skill.name.label("name"),
                      sa.func.count(sa.distinct(Membership.id)).label("members"))
            .join(User, User.id == Skill.user_id)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.collective_id == collective_id,
                   Membership.status == MembershipStatus.ACTIVE.value,
                   Skill.level >= ABLE_LEVEL)
            .group_by(Skill.name).subquery())
    mine = sa.select(Skill.name).where(Skill.user_id == viewer.user_id,
                                       Skill.level >= ABLE_LEVEL)
    members = sa.func.coalesce(able.c.members, 0)
    rows = db.session.execute(
        sa.select(asked.c.name, asked.c.pitches, members)
        .outerjoin(able, able.c.name == asked.c.name)
        .where(members < few_members(collective_id), asked.c.name.not_in(mine))
        .order_by(asked.c.pitches.desc(), members, asked.c.name).limit(limit)).all()
    found = [SkillToLearn(name, pitches, count) for name, pitches, count in rows]
    by_skill = {s.skill: s for s in found}
    if by_skill:
        ranked = (sa.select(LearningModule.id, sa.func.row_number().over(
            partition_by=LearningModule.skill,
            order_by=(LearningModule.created_at.desc(), LearningModule.id.desc())).label("n"))
            .where(readable_by(viewer), LearningModule.skill.in_(list(by_skill))).subquery())
        modules = db.session.scalars(
            sa.select(LearningModule).join(ranked, ranked.c.id == LearningModule.id)
            .where(ranked.c.n <= MODULES_PER_SKILL)
            .order_by(LearningModule.created_at.desc(), LearningModule.id.desc()))
        for module in modules:
            by_skill[module.skill].modules.append(module)
    return found

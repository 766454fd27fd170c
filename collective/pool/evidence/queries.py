"""The read side of skills proven by work: a member's skills with the evidence behind
them, endorsements, and the delivered hours the allocation suggestions weigh. Each reads
in a fixed number of queries, whatever the member's history."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective.extensions import db
from collective.members.models import Membership, Skill, User
from collective.pool.evidence.models import Endorsement, SkillCredit
from collective.pool.models import Client, Pitch
from collective.pool.queries import frame

if TYPE_CHECKING:
    import pandas as pd

#: Named pitches a skill lists on a profile (the most recent); the rest are counted.
NAMED_PITCHES = 5
#: Endorsements a profile shows (the most recent).
ENDORSEMENTS_SHOWN = 50


@dataclass(frozen=True)
class NamedPitch:
    """Delivered work whose client allows naming it."""

    pitch_id: int
    title: str
    client: str


@dataclass
class SkillEvidence:
    """One skill on a profile: the self-assessed level (None when the member did not list
    it), the minutes of delivered work behind it, and the pitches that work was on."""

    skill: str
    level: int | None
    minutes: int = 0
    named: list[NamedPitch] = field(default_factory=list)
    #: Pitches whose client allows naming them beyond the NAMED_PITCHES shown.
    more_named: int = 0
    #: Pitches for clients who did not allow naming their work.
    private: int = 0

    @property
    def hours_text(self) -> str:
        """The minutes as hours, to a tenth: '10', '12.5'."""
        return f"{round(self.minutes / 60, 1):g}"


def skill_evidence(membership: Membership, only: list[str] | None = None
                   ) -> list[SkillEvidence]:
    """The member's skills (self-assessed, and any credited by delivered work), each with
    its evidence, by hours delivered then name; `only` keeps those skills, in its order.
    Two queries."""
    levels = dict(db.session.execute(
        sa.select(Skill.name, Skill.level).where(Skill.user_id == membership.user_id)).all())
    rows = db.session.execute(
        sa.select(SkillCredit.skill, SkillCredit.minutes, Pitch.id, Pitch.title, Client.name,
                  Client.is_naming_allowed)
        .join(Pitch, Pitch.id == SkillCredit.pitch_id)
        .join(Client, Client.id == Pitch.client_id)
        .where(SkillCredit.membership_id == membership.id)
        .order_by(SkillCredit.pitch_id.desc())).all()
    found = {name: SkillEvidence(name, level) for name, level in levels.items()}
    for skill, minutes, pitch_id, title, client, is_nameable in rows:
        item = found.setdefault(skill, SkillEvidence(skill, None))
        item.minutes += minutes
        if not is_nameable:
            item.private += 1
        elif len(item.named) < NAMED_PITCHES:
            item.named.append(NamedPitch(pitch_id, title, client))
        else:
            item.more_named += 1
    if only is not None:
        return [found[name] for name in only if name in found]
    return sorted(found.values(), key=lambda e: (-e.minutes, -(e.level or 0), e.skill))


@dataclass(frozen=True)
class ReceivedEndorsement:
    """An endorsement as a profile shows it."""

    id: int
    skill: str
    note: str
    giver: str
    #: The pitch's title and client, when the client allows naming the work.
    pitch: NamedPitch | None
    endorsed_at: object


def endorsements_received(membership: Membership, skills: list[str] | None = None,
                          limit: int = ENDORSEMENTS_SHOWN) -> list[ReceivedEndorsement]:
    """The standing endorsements the member received (for `skills` only, when given), the
    most recent first, at most `limit`. One query."""
    query = (sa.select(Endorsement.id, Endorsement.skill, Endorsement.note, User.name,
                       Pitch.id, Pitch.title, Client.name, Client.is_naming_allowed,
                       Endorsement.endorsed_at)
             .join(Membership, Membership.id == Endorsement.giver_id)
             .join(User, User.id == Membership.user_id)
             .join(Pitch, Pitch.id == Endorsement.pitch_id)
             .join(Client, Client.id == Pitch.client_id)
             .where(Endorsement.receiver_id == membership.id,
                    Endorsement.withdrawn_at.is_(None))
             .order_by(Endorsement.endorsed_at.desc(), Endorsement.id.desc()).limit(limit))
    if skills is not None:
        query = query.where(Endorsement.skill.in_(skills))
    return [ReceivedEndorsement(i, skill, note, giver,
                                NamedPitch(pid, title, client) if nameable else None, at)
            for i, skill, note, giver, pid, title, client, nameable, at
            in db.session.execute(query)]


def endorsements_given(membership: Membership, *, pitch_id: int | None = None,
                       limit: int = ENDORSEMENTS_SHOWN) -> list[Endorsement]:
    """The standing endorsements the member gave (on one pitch, when given), the most
    recent first, with their receivers and pitches loaded."""
    query = (sa.select(Endorsement)
             .where(Endorsement.giver_id == membership.id, Endorsement.withdrawn_at.is_(None))
             .options(so.joinedload(Endorsement.receiver).joinedload(Membership.user),
                      so.joinedload(Endorsement.pitch))
             .order_by(Endorsement.endorsed_at.desc(), Endorsement.id.desc()).limit(limit))
    if pitch_id is not None:
        query = query.where(Endorsement.pitch_id == pitch_id)
    return list(db.session.scalars(query))


def delivered_minutes(collective_id: int, skills: list[str]) -> pd.DataFrame:
    """membership_id, skill, minutes: the delivered minutes behind each member's skills
    among `skills`, in one grouped query (what the allocation suggestions weigh)."""
    return frame(
        sa.select(SkillCredit.membership_id, SkillCredit.skill, sa.func.sum(SkillCredit.minutes))
        .where(SkillCredit.collective_id == collective_id, SkillCredit.skill.in_(skills))
        .group_by(SkillCredit.membership_id, SkillCredit.skill),
        ["membership_id", "skill", "minutes"])

"""Tables of skills proven by work: credits from delivered and paid pitches, peer
endorsements, and the opt-in public profile."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective.extensions import UTCDateTime, db, utcnow
from collective.members.models import Membership
from collective.pool.models import Pitch

#: Longest endorsement note, in characters.
NOTE_MAX = 280


class SkillCredit(db.Model):
    """Hours of delivered, paid work behind one member's skill, from one pitch.

    Each member who logged time on a pitch that is delivered and paid gets, for each skill
    the pitch required, all the minutes they logged on it. The rows are derived: crediting
    the pitch again sets them to what the time entries say (the unique key makes it
    idempotent), and a pitch that is no longer paid (its payments reversed) has none.
    """

    __tablename__ = "skill_credits"
    __table_args__ = (
        sa.UniqueConstraint("membership_id", "skill", "pitch_id"),
        sa.CheckConstraint("minutes > 0", name="minutes_positive"),
        # Covers the suggestions' read: delivered minutes per member in some skills.
        sa.Index("ix_skill_credits_collective_id_skill", "collective_id", "skill",
                 "membership_id", "minutes"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    collective_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collectives.id"), nullable=False
    )
    membership_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("memberships.id"), nullable=False
    )
    pitch_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("pitches.id"), index=True, nullable=False
    )
    #: A skill the pitch required (its lower-cased name).
    skill: so.Mapped[str] = so.mapped_column(sa.String(60), nullable=False)
    #: The minutes the member logged on the pitch.
    minutes: so.Mapped[int] = so.mapped_column(sa.Integer, nullable=False)
    credited_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime(), default=utcnow, nullable=False
    )

    pitch: so.Mapped[Pitch] = so.relationship(lazy="select")

    def __repr__(self) -> str:
        return (f"<SkillCredit member={self.membership_id} {self.skill!r} "
                f"pitch={self.pitch_id} {self.minutes}min>")


class Endorsement(db.Model):
    """One member vouching for another's skill on a delivered pitch they both worked.

    At most one per (giver, receiver, skill, pitch): the giver withdraws it by setting
    `withdrawn_at`, and endorsing again later brings the same row back with the new note.
    """

    __tablename__ = "endorsements"
    __table_args__ = (
        sa.UniqueConstraint("giver_id", "receiver_id", "skill", "pitch_id"),
        sa.CheckConstraint("giver_id <> receiver_id", name="not_self"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    collective_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collectives.id"), index=True, nullable=False
    )
    pitch_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("pitches.id"), index=True, nullable=False
    )
    giver_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("memberships.id"), nullable=False
    )
    receiver_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("memberships.id"), index=True, nullable=False
    )
    #: One of the pitch's required skills.
    skill: so.Mapped[str] = so.mapped_column(sa.String(60), nullable=False)
    note: so.Mapped[str] = so.mapped_column(sa.String(NOTE_MAX), nullable=False, default="")
    endorsed_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime(), default=utcnow, nullable=False
    )
    #: When the giver took it back; empty while it stands.
    withdrawn_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime(), nullable=True)

    pitch: so.Mapped[Pitch] = so.relationship(lazy="select")
    giver: so.Mapped[Membership] = so.relationship(foreign_keys=[giver_id], lazy="select")
    receiver: so.Mapped[Membership] = so.relationship(foreign_keys=[receiver_id],
                                                      lazy="select")

    def __repr__(self) -> str:
        state = "withdrawn" if self.withdrawn_at else "standing"
        return (f"<Endorsement {self.giver_id}->{self.receiver_id} {self.skill!r} "
                f"pitch={self.pitch_id} {state}>")


class PublicProfile(db.Model):
    """A member's opt-in public page: the skills they chose to show, at /p/<slug>.

    Off by default. Publishing gives a new random slug, so a link handed out before an
    unpublish never works again."""

    __tablename__ = "public_profiles"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    membership_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("memberships.id"), unique=True, nullable=False
    )
    #: The random part of the public address; empty until first published.
    slug: so.Mapped[str | None] = so.mapped_column(sa.String(32), unique=True, nullable=True)
    is_published: so.Mapped[bool] = so.mapped_column(sa.Boolean, nullable=False,
                                                     default=False)
    #: The skill names the member chose to show, in their order.
    skills: so.Mapped[list] = so.mapped_column(sa.JSON, nullable=False, default=list)
    updated_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime(), default=utcnow, nullable=False
    )

    membership: so.Mapped[Membership] = so.relationship(lazy="select")

    def __repr__(self) -> str:
        state = "published" if self.is_published else "private"
        return f"<PublicProfile member={self.membership_id} {state}>"

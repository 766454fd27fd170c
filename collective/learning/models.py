"""Learning tables: modules members write, their attachments, and who finished and rated
each."""
from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective.books.expenses.models import StoredFileColumns
from collective.extensions import UTCDateTime, db, str_enum, utcnow
from collective.members.models import Membership


class Audience(enum.StrEnum):
    """Who may read a module: its own collective, or its partner collectives too."""

    COLLECTIVE = "collective"
    PARTNERS = "partners"

    @property
    def label(self) -> str:
        """How a page names the audience."""
        return {"collective": "this collective",
                "partners": "this collective and its partners"}[self.value]


class LearningModule(db.Model):
    """A short lesson a member wrote for others: a skill, an estimated time, Markdown."""

    __tablename__ = "learning_modules"
    __table_args__ = (
        sa.CheckConstraint("estimated_minutes BETWEEN 1 AND 600", name="minutes_range"),
        sa.Index("ix_learning_modules_collective_skill", "collective_id", "skill"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    collective_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collectives.id"), index=True, nullable=False)
    author_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("memberships.id"), index=True, nullable=False)
    title: so.Mapped[str] = so.mapped_column(sa.String(200), nullable=False)
    #: Lower-cased skill name, as members' skills and pitches' skills are written.
    skill: so.Mapped[str] = so.mapped_column(sa.String(60), nullable=False)
    estimated_minutes: so.Mapped[int] = so.mapped_column(sa.Integer, nullable=False)
    #: The author's Markdown; rendered and sanitised each time it is shown.
    content: so.Mapped[str] = so.mapped_column(sa.Text, nullable=False)
    audience: so.Mapped[Audience] = so.mapped_column(
        str_enum(Audience, name="audience_known", length=16), nullable=False,
        default=Audience.COLLECTIVE)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow,
                                                       nullable=False)

    author: so.Mapped[Membership] = so.relationship(lazy="select")
    attachments: so.Mapped[list[ModuleAttachment]] = so.relationship(
        back_populates="module", order_by="ModuleAttachment.id", lazy="select")

    def __repr__(self) -> str:
        return f"<LearningModule {self.id} {self.title!r} skill={self.skill!r}>"


class ModuleAttachment(StoredFileColumns, db.Model):
    """A file that comes with a module, kept in the receipt storage under a random name."""

    __tablename__ = "learning_attachments"

    module_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("learning_modules.id"), index=True, nullable=False)

    module: so.Mapped[LearningModule] = so.relationship(back_populates="attachments")

    def __repr__(self) -> str:
        return f"<ModuleAttachment {self.id} module={self.module_id} {self.content_type}>"


class ModuleCompletion(db.Model):
    """A member finished a module, and what they thought of it (one row per member and
    module: rating again changes it)."""

    __tablename__ = "learning_completions"
    __table_args__ = (
        sa.UniqueConstraint("module_id", "membership_id"),
        sa.CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating_range"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    module_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("learning_modules.id"), index=True, nullable=False)
    membership_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("memberships.id"), index=True, nullable=False)
    completed_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), nullable=False)
    #: 1 to 5; empty until the member rates the module.
    rating: so.Mapped[int | None] = so.mapped_column(sa.SmallInteger, nullable=True)
    comment: so.Mapped[str] = so.mapped_column(sa.String(1000), nullable=False, default="")
    rated_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime(), nullable=True)

    membership: so.Mapped[Membership] = so.relationship(lazy="select")

    def __repr__(self) -> str:
        return (f"<ModuleCompletion module={self.module_id} member={self.membership_id} "
                f"rating={self.rating}>")

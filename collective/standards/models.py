"""Standards tables: each collective's delivery checklists per kind of work, and each
delivery's results against a snapshot of its checklist."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective.extensions import UTCDateTime, db, utcnow
from collective.members.models import Membership


class Checklist(db.Model):
    """What a delivery of one kind of work must show, e.g. a bookkeeping clean-up:
    reconciled, reviewed by a second member, client sign-off."""

    __tablename__ = "delivery_checklists"
    __table_args__ = (sa.UniqueConstraint("collective_id", "kind"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    collective_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collectives.id"), index=True, nullable=False)
    #: The kind of work, as coordinators name it ('Bookkeeping clean-up').
    kind: so.Mapped[str] = so.mapped_column(sa.String(80), nullable=False)
    #: Bumped by every change of the items; a delivery keeps the version it was checked by.
    version: so.Mapped[int] = so.mapped_column(sa.Integer, nullable=False, default=1)
    #: Offered at delivery; a retired checklist keeps its deliveries.
    is_active: so.Mapped[bool] = so.mapped_column(sa.Boolean, nullable=False, default=True,
                                                  server_default=sa.true())
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow,
                                                       nullable=False)

    items: so.Mapped[list[ChecklistItem]] = so.relationship(
        back_populates="checklist", order_by="ChecklistItem.position",
        cascade="all, delete-orphan", lazy="select")

    def __repr__(self) -> str:
        return f"<Checklist {self.id} {self.kind!r} v{self.version}>"


class ChecklistItem(db.Model):
    """One thing a delivery must show; some need a second member to confirm them."""

    __tablename__ = "delivery_checklist_items"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    checklist_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("delivery_checklists.id"), index=True, nullable=False)
    position: so.Mapped[int] = so.mapped_column(sa.SmallInteger, nullable=False)
    label: so.Mapped[str] = so.mapped_column(sa.String(200), nullable=False)
    #: Confirmed after delivery by a member other than the one who delivered.
    is_second_member: so.Mapped[bool] = so.mapped_column(sa.Boolean, nullable=False,
                                                         default=False)

    checklist: so.Mapped[Checklist] = so.relationship(back_populates="items")

    def __repr__(self) -> str:
        return f"<ChecklistItem {self.position} {self.label!r}>"


class Delivery(db.Model):
    """A pitch marked delivered against a checklist, with a copy of the checklist's items
    as they were (later edits of the checklist do not rewrite it)."""

    __tablename__ = "deliveries"
    __table_args__ = (
        sa.UniqueConstraint("pitch_id"),
        sa.Index("ix_deliveries_collective_quarter", "collective_id", "quarter"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    collective_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collectives.id"), nullable=False)
    pitch_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("pitches.id"), nullable=False)
    checklist_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("delivery_checklists.id"), index=True, nullable=False)
    #: The checklist's kind and version when the work was delivered.
    kind: so.Mapped[str] = so.mapped_column(sa.String(80), nullable=False)
    checklist_version: so.Mapped[int] = so.mapped_column(sa.Integer, nullable=False)
    delivered_by_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("memberships.id"), nullable=False)
    #: The collective's day of delivery, and its quarter ('2026-Q4') for the report.
    delivered_on: so.Mapped[date] = so.mapped_column(sa.Date, nullable=False)
    quarter: so.Mapped[str] = so.mapped_column(sa.String(7), nullable=False)
    delivered_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), nullable=False)
    #: When the last item was ticked or confirmed: the delivery met its checklist.
    met_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime(), nullable=True)

    delivered_by: so.Mapped[Membership] = so.relationship(lazy="select")
    items: so.Mapped[list[DeliveryItem]] = so.relationship(
        back_populates="delivery", order_by="DeliveryItem.position", lazy="select")

    @property
    def is_met(self) -> bool:
        """Every item ticked at delivery or confirmed by a second member."""
        return self.met_at is not None

    def __repr__(self) -> str:
        return f"<Delivery {self.id} pitch={self.pitch_id} {self.kind!r} met={self.is_met}>"


class DeliveryItem(db.Model):
    """One checklist item of one delivery: ticked by the one who delivered, or confirmed
    afterwards by a second member."""

    __tablename__ = "delivery_items"
    __table_args__ = (sa.UniqueConstraint("delivery_id", "position"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    delivery_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("deliveries.id"), index=True, nullable=False)
    position: so.Mapped[int] = so.mapped_column(sa.SmallInteger, nullable=False)
    label: so.Mapped[str] = so.mapped_column(sa.String(200), nullable=False)
    is_second_member: so.Mapped[bool] = so.mapped_column(sa.Boolean, nullable=False)
    #: Ticked by the one who delivered (items that need no second member).
    is_ticked: so.Mapped[bool] = so.mapped_column(sa.Boolean, nullable=False, default=False)
    confirmed_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("memberships.id"), nullable=True)
    confirmed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime(), nullable=True)

    delivery: so.Mapped[Delivery] = so.relationship(back_populates="items")
    confirmed_by: so.Mapped[Membership | None] = so.relationship(lazy="select")

    @property
    def is_done(self) -> bool:
        """Ticked, or (for a second-member item) confirmed."""
        return self.confirmed_at is not None if self.is_second_member else self.is_ticked

    def __repr__(self) -> str:
        return f"<DeliveryItem {self.position} {self.label!r} done={self.is_done}>"

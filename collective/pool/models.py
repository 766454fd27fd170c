"""Work pool tables: clients, pitches and their history, allocations, time, payments, rules.

SplitMethod and AllocationRole are defined in kinds.py (no database there, so compute can
use them) and stay importable from here."""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective.extensions import UTCDateTime, db, str_enum, utcnow
from collective.members.models import Membership
from collective.pool.kinds import AllocationRole, RuleTerms, SplitMethod, describe_terms


class PitchState(enum.StrEnum):
    """The lifecycle of a piece of work."""

    OPEN = "open"
    PITCHED = "pitched"
    WON = "won"
    LOST = "lost"
    IN_PROGRESS = "in_progress"
    DELIVERED = "delivered"
    INVOICED = "invoiced"
    PAID = "paid"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        """Human name of the state."""
        return self.value.replace("_", " ")


#: Legal moves: anything else is refused with a message naming these.
TRANSITIONS: dict[PitchState, frozenset[PitchState]] = {
    PitchState.OPEN: frozenset({PitchState.PITCHED, PitchState.CANCELLED}),
    PitchState.PITCHED: frozenset({PitchState.WON, PitchState.LOST, PitchState.CANCELLED}),
    PitchState.WON: frozenset({PitchState.IN_PROGRESS, PitchState.CANCELLED}),
    PitchState.IN_PROGRESS: frozenset({PitchState.DELIVERED, PitchState.CANCELLED}),
    PitchState.DELIVERED: frozenset({PitchState.INVOICED}),
    PitchState.INVOICED: frozenset({PitchState.PAID}),
    PitchState.PAID: frozenset(),
    PitchState.LOST: frozenset(),
    PitchState.CANCELLED: frozenset(),
}
#: What the button that moves a pitch to each state says, in the order a page offers them.
MOVE_NAMES: dict[PitchState, str] = {
    PitchState.PITCHED: "Mark as pitched",
    PitchState.WON: "Mark as won",
    PitchState.IN_PROGRESS: "Start work",
    PitchState.DELIVERED: "Mark delivered",
    PitchState.INVOICED: "Mark invoiced",
    PitchState.PAID: "Mark paid",
    PitchState.LOST: "Mark as lost",
    PitchState.CANCELLED: "Cancel the pitch",
}
#: Ends that need a reason, which a coordinator can undo by reopening the pitch.
REOPENABLE_STATES = (PitchState.LOST, PitchState.CANCELLED)
#: States in which allocated members are busy with the work.
ACTIVE_STATES = (PitchState.WON, PitchState.IN_PROGRESS)
#: States in which work can be allocated and members log time on it.
WORK_STATES = (*ACTIVE_STATES, PitchState.DELIVERED)
#: States in which the pool is still looking for people and volunteers are welcome.
POOL_STATES = (PitchState.OPEN, PitchState.PITCHED)
#: States in which a client payment can be recorded.
PAYABLE_STATES = (PitchState.WON, PitchState.IN_PROGRESS, PitchState.DELIVERED,
                  PitchState.INVOICED, PitchState.PAID)


class Client(db.Model):
    """Someone who pays the collective for work."""

    __tablename__ = "clients"
    __table_args__ = (sa.UniqueConstraint("collective_id", "name"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    collective_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collectives.id"), index=True, nullable=False
    )
    name: so.Mapped[str] = so.mapped_column(sa.String(120), nullable=False)
    #: ISO 3166 alpha-2 code.
    country: so.Mapped[str] = so.mapped_column(sa.String(2), nullable=False, default="")
    contact: so.Mapped[str] = so.mapped_column(sa.String(200), nullable=False, default="")
    notes: so.Mapped[str] = so.mapped_column(sa.Text, nullable=False, default="")
    #: Invoicing details (books): where invoices go and what they say about the client.
    billing_address: so.Mapped[str] = so.mapped_column(sa.String(1000), nullable=False,
                                                       default="", server_default="")
    billing_email: so.Mapped[str] = so.mapped_column(sa.String(254), nullable=False,
                                                     default="", server_default="")
    tax_id: so.Mapped[str] = so.mapped_column(sa.String(60), nullable=False, default="",
                                              server_default="")
    #: The client lets members name its work (title and client) on their profiles; off, a
    #: profile counts the work as "for private clients" without naming it.
    is_naming_allowed: so.Mapped[bool] = so.mapped_column(
        sa.Boolean, nullable=False, default=False, server_default=sa.false())
    created_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime(), default=utcnow, nullable=False
    )

    def __repr__(self) -> str:
        return f"<Client {self.id} {self.name!r}>"


class Pitch(db.Model):
    """A piece of client work, from lead to paid; `version` guards concurrent changes."""

    __tablename__ = "pitches"
    __table_args__ = (
        sa.CheckConstraint("value_amount >= 0", name="value_not_negative"),
        sa.CheckConstraint("estimated_hours >= 0", name="hours_not_negative"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    collective_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collectives.id"), index=True, nullable=False
    )
    client_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("clients.id"), index=True, nullable=False
    )
    title: so.Mapped[str] = so.mapped_column(sa.String(200), nullable=False)
    description: so.Mapped[str] = so.mapped_column(sa.Text, nullable=False, default="")
    estimated_hours: so.Mapped[int] = so.mapped_column(sa.Integer, nullable=False, default=0)
    #: Expected value in minor units of value_currency.
    value_amount: so.Mapped[int] = so.mapped_column(sa.BigInteger, nullable=False, default=0)
    value_currency: so.Mapped[str] = so.mapped_column(sa.String(3), nullable=False)
    deadline_on: so.Mapped[date | None] = so.mapped_column(sa.Date, nullable=True)
    #: The member who found the work; earns the finder's fee.
    finder_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("memberships.id"), nullable=True
    )
    state: so.Mapped[PitchState] = so.mapped_column(
        str_enum(PitchState, name="state_known", length=16), nullable=False,
        default=PitchState.OPEN,
    )
    #: Bumped by every change (state or allocation) through a conditional UPDATE; a form
    #: carrying an older version was made before someone else's change and is refused.
    version: so.Mapped[int] = so.mapped_column(sa.Integer, nullable=False, default=1)
    created_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime(), default=utcnow, nullable=False
    )

    client: so.Mapped[Client] = so.relationship(lazy="select")
    finder: so.Mapped[Membership | None] = so.relationship()
    required_skills: so.Mapped[list[PitchSkill]] = so.relationship(
        back_populates="pitch", cascade="all, delete-orphan", order_by="PitchSkill.name",
        lazy="select"
    )
    allocations: so.Mapped[list[Allocation]] = so.relationship(
        back_populates="pitch", order_by="Allocation.id", lazy="select"
    )
    events: so.Mapped[list[PitchEvent]] = so.relationship(
        back_populates="pitch", order_by="PitchEvent.id"
    )

    @property
    def pitch_state(self) -> PitchState:
        """The state as a PitchState."""
        return PitchState(self.state)

    def __repr__(self) -> str:
        return f"<Pitch {self.id} {self.title!r} {self.state}>"


class PitchSkill(db.Model):
    """A skill a pitch needs, with the level it needs."""

    __tablename__ = "pitch_skills"
    __table_args__ = (
        sa.UniqueConstraint("pitch_id", "name"),
        sa.CheckConstraint("level BETWEEN 1 AND 5", name="level_range"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    pitch_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("pitches.id"), index=True, nullable=False
    )
    name: so.Mapped[str] = so.mapped_column(sa.String(60), nullable=False)
    level: so.Mapped[int] = so.mapped_column(sa.SmallInteger, nullable=False)

    pitch: so.Mapped[Pitch] = so.relationship(back_populates="required_skills")

    def __repr__(self) -> str:
        return f"<PitchSkill {self.name} {self.level}>"


class PitchEvent(db.Model):
    """One step in a pitch's history: who moved it from which state to which, or who changed
    its details (`changes`), and when."""

    __tablename__ = "pitch_events"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    pitch_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("pitches.id"), index=True, nullable=False
    )
    #: Empty (NULL) for the event that created the pitch.
    from_state: so.Mapped[PitchState | None] = so.mapped_column(
        str_enum(PitchState, name="from_state_known", length=16), nullable=True
    )
    to_state: so.Mapped[PitchState] = so.mapped_column(
        str_enum(PitchState, name="to_state_known", length=16), nullable=False
    )
    actor_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("memberships.id"), nullable=False)
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    note: so.Mapped[str] = so.mapped_column(sa.String(500), nullable=False, default="")
    #: For an edit (from_state == to_state): [[field label, old, new], ...] as text; NULL for
    #: a move.
    changes: so.Mapped[list | None] = so.mapped_column(sa.JSON, nullable=True)

    pitch: so.Mapped[Pitch] = so.relationship(back_populates="events")
    actor: so.Mapped[Membership] = so.relationship()

    def __repr__(self) -> str:
        return f"<PitchEvent {self.pitch_id} {self.from_state}->{self.to_state}>"


class Allocation(db.Model):
    """A member's part in a won pitch: lead or contributor, with a weight and weekly hours."""

    __tablename__ = "allocations"
    __table_args__ = (
        sa.UniqueConstraint("pitch_id", "membership_id"),
        sa.CheckConstraint("weight > 0", name="weight_positive"),
        sa.CheckConstraint("weekly_hours BETWEEN 0 AND 168", name="weekly_hours_range"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    pitch_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("pitches.id"), index=True, nullable=False
    )
    membership_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("memberships.id"), index=True, nullable=False
    )
    role: so.Mapped[AllocationRole] = so.mapped_column(
        str_enum(AllocationRole, name="role_known", length=16), nullable=False,
        default=AllocationRole.CONTRIBUTOR,
    )
    #: Agreed share of the members' part when the rule splits by weights.
    weight: so.Mapped[int] = so.mapped_column(sa.Integer, nullable=False, default=1)
    #: Hours a week the member commits while the pitch is active (counts against capacity).
    weekly_hours: so.Mapped[int] = so.mapped_column(sa.Integer, nullable=False, default=0)
    created_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime(), default=utcnow, nullable=False
    )

    pitch: so.Mapped[Pitch] = so.relationship(back_populates="allocations")
    membership: so.Mapped[Membership] = so.relationship(lazy="select")

    def __repr__(self) -> str:
        return f"<Allocation pitch={self.pitch_id} member={self.membership_id} {self.role}>"


class Volunteer(db.Model):
    """A member who offered to work on an open pitch."""

    __tablename__ = "volunteers"
    __table_args__ = (sa.UniqueConstraint("pitch_id", "membership_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    pitch_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("pitches.id"), index=True, nullable=False
    )
    membership_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("memberships.id"), index=True, nullable=False
    )
    note: so.Mapped[str] = so.mapped_column(sa.String(500), nullable=False, default="")
    created_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime(), default=utcnow, nullable=False
    )

    membership: so.Mapped[Membership] = so.relationship(lazy="select")

    def __repr__(self) -> str:
        return f"<Volunteer pitch={self.pitch_id} member={self.membership_id}>"


class TimeEntry(db.Model):
    """Time a member worked on an allocation, in whole minutes."""

    __tablename__ = "time_entries"
    __table_args__ = (
        sa.CheckConstraint("minutes > 0 AND minutes <= 1440", name="minutes_range"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    allocation_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("allocations.id"), index=True, nullable=False
    )
    #: Copied from the allocation, so the daily limit per member is one indexed query.
    membership_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("memberships.id"), nullable=False
    )
    worked_on: so.Mapped[date] = so.mapped_column(sa.Date, nullable=False)
    minutes: so.Mapped[int] = so.mapped_column(sa.Integer, nullable=False)
    note: so.Mapped[str] = so.mapped_column(sa.String(500), nullable=False, default="")
    created_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime(), default=utcnow, nullable=False
    )

    allocation: so.Mapped[Allocation] = so.relationship()

    def __repr__(self) -> str:
        return f"<TimeEntry {self.membership_id} {self.worked_on} {self.minutes}min>"


sa.Index("ix_time_entries_membership_id_worked_on", TimeEntry.membership_id, TimeEntry.worked_on)


class ShareRule(db.Model):
    """An agreed way to split client payments; versioned, in force from `effective_on`."""

    __tablename__ = "share_rules"
    __table_args__ = (
        sa.UniqueConstraint("collective_id", "version"),
        sa.CheckConstraint("common_fund_bp >= 0 AND finder_fee_bp >= 0 "
                           "AND common_fund_bp + finder_fee_bp <= 10000", name="shares_range"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    collective_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collectives.id"), index=True, nullable=False
    )
    version: so.Mapped[int] = so.mapped_column(sa.Integer, nullable=False)
    #: Share of each payment that goes to the common fund, in basis points (1000 = 10%).
    common_fund_bp: so.Mapped[int] = so.mapped_column(sa.Integer, nullable=False)
    #: Share that goes to the member who found the work, in basis points.
    finder_fee_bp: so.Mapped[int] = so.mapped_column(sa.Integer, nullable=False)
    #: How the rest is divided among the allocated members.
    method: so.Mapped[SplitMethod] = so.mapped_column(
        str_enum(SplitMethod, name="method_known", length=16), nullable=False
    )
    effective_on: so.Mapped[date] = so.mapped_column(sa.Date, nullable=False)
    #: The proposal that adopted it; empty for a collective's starting rule.
    proposal_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("proposals.id"), unique=True, nullable=True
    )
    created_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime(), default=utcnow, nullable=False
    )

    def describe(self) -> str:
        """The rule in words, e.g. '10% common fund, 5% finder's fee, the rest by logged
        hours'."""
        return describe_terms(RuleTerms(self.common_fund_bp, self.finder_fee_bp, self.method))

    def __repr__(self) -> str:
        return f"<ShareRule v{self.version} collective={self.collective_id}>"


class ClientPayment(db.Model):
    """Money a client paid for a pitch; posted as one journal entry in the base currency."""

    __tablename__ = "client_payments"
    __table_args__ = (
        sa.UniqueConstraint("collective_id", "request_key"),
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.CheckConstraint("base_amount > 0", name="base_amount_positive"),
        sa.CheckConstraint("rate > 0", name="rate_positive"),
        sa.CheckConstraint("split_amount > 0 AND split_amount <= base_amount",
                           name="split_amount_range"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    collective_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collectives.id"), index=True, nullable=False
    )
    pitch_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("pitches.id"), index=True, nullable=False
    )
    #: What the client paid, in minor units of `currency`.
    amount: so.Mapped[int] = so.mapped_column(sa.BigInteger, nullable=False)
    currency: so.Mapped[str] = so.mapped_column(sa.String(3), nullable=False)
    #: Base-currency units per one unit of `currency` (1 when they are the same).
    rate: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(20, 10), nullable=False)
    #: The amount in minor units of the collective's base currency: what is posted.
    base_amount: so.Mapped[int] = so.mapped_column(sa.BigInteger, nullable=False)
    #: The part of base_amount split under the share rule: all of it, except for a payment
    #: of an invoice with tax, where the tax's part is the tax authority's, not the members'.
    split_amount: so.Mapped[int] = so.mapped_column(sa.BigInteger, nullable=False)
    received_on: so.Mapped[date] = so.mapped_column(sa.Date, nullable=False)
    reference: so.Mapped[str] = so.mapped_column(sa.String(120), nullable=False, default="")
    #: The rule the payment was split under.
    share_rule_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("share_rules.id"), nullable=False
    )
    #: How the members' part was divided (e.g. 'by 42.5 hours logged').
    split_note: so.Mapped[str] = so.mapped_column(sa.String(300), nullable=False, default="")
    entry_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("journal_entries.id"), unique=True, nullable=True
    )
    recorded_by_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("memberships.id"), nullable=False
    )
    #: From the form that recorded it: the same form sent twice records one payment.
    request_key: so.Mapped[str | None] = so.mapped_column(sa.String(64), nullable=True)
    created_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime(), default=utcnow, nullable=False
    )

    pitch: so.Mapped[Pitch] = so.relationship(lazy="select")
    share_rule: so.Mapped[ShareRule] = so.relationship(lazy="select")

    def __repr__(self) -> str:
        return f"<ClientPayment {self.id} {self.amount} {self.currency}>"


class TimeEntryPayment(db.Model):
    """A time entry used by a client payment's split: the link that says these hours are paid.

    Each time entry is used by at most one payment that stands (the partial unique index
    below). Reversing the payment releases its links (`released_by_id`): the hours are
    unpaid again and the next payment uses them, while the released row stays as history.
    """

    __tablename__ = "time_entry_payments"
    __table_args__ = (
        sa.UniqueConstraint("time_entry_id", "payment_id"),
        sa.Index("ix_time_entry_payments_time_entry_id_standing", "time_entry_id",
                 unique=True, sqlite_where=sa.text("released_by_id IS NULL"),
                 postgresql_where=sa.text("released_by_id IS NULL")),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    time_entry_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("time_entries.id"), nullable=False
    )
    payment_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("client_payments.id"), index=True, nullable=False
    )
    #: The reversal of the payment, which gave these hours back; empty while it stands.
    released_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("journal_entries.id"), nullable=True
    )
    created_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime(), default=utcnow, nullable=False
    )

    def __repr__(self) -> str:
        state = "released" if self.released_by_id else "standing"
        return f"<TimeEntryPayment entry={self.time_entry_id} payment={self.payment_id} {state}>"

"""Partners between collectives: federations (a pair that each agreed by vote), pitches
shared with a partner under a split in basis points, and settlements of what one owes the
other."""
from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective.extensions import UTCDateTime, db, str_enum, utcnow
from collective.members.models import Collective, Membership


class FederationStatus(enum.StrEnum):
    """Where a federation stands: proposed until both sides' votes passed, then active
    until one side leaves (or a vote turned it down)."""

    PROPOSED = "proposed"
    ACTIVE = "active"
    DECLINED = "declined"
    LEFT = "left"


#: Statuses of a federation that still counts: one such row per unordered pair.
LIVE_FEDERATION = (FederationStatus.PROPOSED, FederationStatus.ACTIVE)


def _live(statuses) -> sa.TextClause:
    """A partial index's condition: the status is one of `statuses`."""
    return sa.text(f"status IN ({', '.join(repr(s.value) for s in statuses)})")


class Federation(db.Model):
    """Two collectives that agreed, each by its own vote, to work together. The pair is
    stored in id order (low, high), so one live row per unordered pair is a unique index."""

    __tablename__ = "federations"
    __table_args__ = (
        sa.CheckConstraint("low_collective_id < high_collective_id", name="pair_ordered"),
        sa.Index("ix_federations_live_pair", "low_collective_id", "high_collective_id",
                 unique=True, sqlite_where=_live(LIVE_FEDERATION),
                 postgresql_where=_live(LIVE_FEDERATION)),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    #: The collective with the smaller id.
    low_collective_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collectives.id"), index=True, nullable=False)
    high_collective_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collectives.id"), index=True, nullable=False)
    #: The collective that asked first.
    requested_by_collective_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collectives.id"), nullable=False)
    status: so.Mapped[FederationStatus] = so.mapped_column(
        str_enum(FederationStatus, name="status_known", length=16), nullable=False,
        default=FederationStatus.PROPOSED)
    #: Each side's vote on federating (the latest one put, if an earlier one failed).
    low_proposal_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("proposals.id"), nullable=True)
    high_proposal_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("proposals.id"), nullable=True)
    #: When each side's vote passed.
    low_agreed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime(), nullable=True)
    high_agreed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime(), nullable=True)
    #: When the second vote passed: sharing starts.
    active_since: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime(), nullable=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow,
                                                       nullable=False)
    #: When a vote turned it down (either side's).
    declined_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime(), nullable=True)
    #: When one side left, who (a coordinator's user) and which side, and why.
    left_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime(), nullable=True)
    left_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"),
                                                         nullable=True)
    left_by_collective_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("collectives.id"), nullable=True)
    leave_reason: so.Mapped[str] = so.mapped_column(sa.String(500), nullable=False, default="")

    low_collective: so.Mapped[Collective] = so.relationship(foreign_keys=[low_collective_id])
    high_collective: so.Mapped[Collective] = so.relationship(foreign_keys=[high_collective_id])

    @property
    def is_active(self) -> bool:
        """Both sides agreed and neither has left: sharing is on."""
        return self.status == FederationStatus.ACTIVE

    def has(self, collective_id: int) -> bool:
        """True when the collective is one side of the pair."""
        return collective_id in (self.low_collective_id, self.high_collective_id)

    def other_id(self, collective_id: int) -> int:
        """The other side's collective id."""
        return (self.high_collective_id if collective_id == self.low_collective_id
                else self.low_collective_id)

    def other(self, collective_id: int) -> Collective:
        """The other side's collective."""
        return (self.high_collective if collective_id == self.low_collective_id
                else self.low_collective)

    def _side(self, collective_id: int) -> str:
        return "low" if collective_id == self.low_collective_id else "high"

    def agreed_at(self, collective_id: int) -> datetime | None:
        """When the collective's own vote to federate passed."""
        return getattr(self, f"{self._side(collective_id)}_agreed_at")

    def proposal_id(self, collective_id: int) -> int | None:
        """The collective's own (latest) vote on federating."""
        return getattr(self, f"{self._side(collective_id)}_proposal_id")

    def set_proposal(self, collective_id: int, proposal_id: int) -> None:
        """Record the collective's vote on federating."""
        setattr(self, f"{self._side(collective_id)}_proposal_id", proposal_id)

    def set_agreed(self, collective_id: int, at: datetime) -> None:
        """Record that the collective's vote passed."""
        setattr(self, f"{self._side(collective_id)}_agreed_at", at)

    def __repr__(self) -> str:
        return (f"<Federation {self.id} {self.low_collective_id}-{self.high_collective_id} "
                f"{self.status}>")


class ShareRole(enum.StrEnum):
    """What the partner is on a shared pitch. The money works the same way for both: the
    label says who brought the work and who helps."""

    #: Both deliver the work together; the host found it.
    PARTNER = "partner"
    #: The host hires the partner for part of the work (subcontracting).
    SUPPLIER = "supplier"

    @property
    def label(self) -> str:
        """In words."""
        return {"partner": "partner", "supplier": "supplier (subcontracted)"}[self.value]


class ShareStatus(enum.StrEnum):
    """A pitch's sharing: proposed by the host, then accepted or declined by the partner,
    or withdrawn by the host before an answer. A member working the pitch may ask to hire
    a partner as supplier first: the request waits for a host coordinator, who confirms it
    (it is proposed) or turns it down; the member may withdraw it until then."""

    REQUESTED = "requested"
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    TURNED_DOWN = "turned_down"


#: Statuses of a sharing that still counts: one such row per pitch (a member's request
#: too, so two requests, or a request and an offer, cannot both be live).
LIVE_SHARE = (ShareStatus.REQUESTED, ShareStatus.PROPOSED, ShareStatus.ACCEPTED)


class SharedPitch(db.Model):
    """A host's pitch shared with a partner collective: the partner's members may be
    allocated and log time on it, and each client payment gives the partner `partner_bp`
    of the split amount (the host keeps the rest)."""

    __tablename__ = "shared_pitches"
    __table_args__ = (
        sa.CheckConstraint("partner_bp BETWEEN 0 AND 10000", name="partner_bp_range"),
        sa.CheckConstraint("host_collective_id <> partner_collective_id", name="two_sides"),
        # A coordinator offered it, or a member asked to hire a supplier (or both).
        sa.CheckConstraint("proposed_by_id IS NOT NULL OR requested_by_id IS NOT NULL",
                           name="someone_asked"),
        sa.CheckConstraint("requested_by_id IS NULL OR role = 'supplier'",
                           name="request_hires_supplier"),
        sa.Index("ix_shared_pitches_live_pitch", "pitch_id", unique=True,
                 sqlite_where=_live(LIVE_SHARE), postgresql_where=_live(LIVE_SHARE)),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    pitch_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("pitches.id"), index=True,
                                                nullable=False)
    federation_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("federations.id"),
                                                     index=True, nullable=False)
    #: The pitch's own collective: it records the client's payments.
    host_collective_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collectives.id"), index=True, nullable=False)
    partner_collective_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collectives.id"), index=True, nullable=False)
    #: The partner's part of each payment's split amount, in basis points (3333 = 33.33%).
    partner_bp: so.Mapped[int] = so.mapped_column(sa.Integer, nullable=False)
    role: so.Mapped[ShareRole] = so.mapped_column(
        str_enum(ShareRole, name="role_known", length=16), nullable=False,
        default=ShareRole.PARTNER)
    status: so.Mapped[ShareStatus] = so.mapped_column(
        str_enum(ShareStatus, name="status_known", length=16), nullable=False,
        default=ShareStatus.PROPOSED)
    note: so.Mapped[str] = so.mapped_column(sa.String(500), nullable=False, default="")
    #: The host's member (working the pitch) who asked to hire the partner, and when; unset
    #: when a coordinator offered it straight away.
    requested_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("memberships.id"), nullable=True)
    requested_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime(), nullable=True)
    #: The host's coordinator who offered it to the partner (who confirmed a member's
    #: request), and when; unset while a request waits, or after it was turned down or
    #: withdrawn. The partner sees only what was offered.
    proposed_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("memberships.id"),
                                                             nullable=True)
    proposed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime(), nullable=True)
    #: The partner's coordinator who answered the offer (or the host's who turned a
    #: member's request down), and when it was answered, withdrawn or turned down.
    answered_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("memberships.id"),
                                                             nullable=True)
    answered_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime(), nullable=True)

    pitch = so.relationship("Pitch", lazy="select")
    federation: so.Mapped[Federation] = so.relationship(lazy="select")
    host: so.Mapped[Collective] = so.relationship(foreign_keys=[host_collective_id])
    partner: so.Mapped[Collective] = so.relationship(foreign_keys=[partner_collective_id])
    requested_by: so.Mapped[Membership | None] = so.relationship(
        foreign_keys=[requested_by_id])

    @property
    def is_accepted(self) -> bool:
        """The partner accepted: its members may work on it and it shares payments."""
        return self.status == ShareStatus.ACCEPTED

    @property
    def is_offered(self) -> bool:
        """A host coordinator offered it to the partner: the partner may see it (a member's
        request is the host's own business until a coordinator confirms it)."""
        return self.proposed_by_id is not None

    @classmethod
    def seen_by(cls, collective_id: int) -> sa.ColumnElement[bool]:
        """A query's condition for the sharings a side sees: all it hosts, and those offered
        to it (the SQL form of `is_offered`)."""
        return sa.or_(cls.host_collective_id == collective_id,
                      sa.and_(cls.partner_collective_id == collective_id,
                              cls.proposed_by_id.is_not(None)))

    @property
    def is_requested(self) -> bool:
        """A member's request, waiting for a host coordinator."""
        return self.status == ShareStatus.REQUESTED

    def __repr__(self) -> str:
        return (f"<SharedPitch {self.id} pitch={self.pitch_id} "
                f"partner={self.partner_collective_id} {self.partner_bp}bp {self.status}>")


class PartnerSettlement(db.Model):
    """Money one collective paid another to settle what shared pitches made it owe: one
    entry on each side, keyed `settlement:<id>`."""

    __tablename__ = "partner_settlements"
    __table_args__ = (
        sa.UniqueConstraint("payer_collective_id", "request_key"),
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.CheckConstraint("payer_collective_id <> payee_collective_id", name="two_sides"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    federation_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("federations.id"),
                                                     index=True, nullable=False)
    #: The collective that owed and paid, and the one paid.
    payer_collective_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collectives.id"), index=True, nullable=False)
    payee_collective_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collectives.id"), index=True, nullable=False)
    #: Minor units of `currency` (the payer's base currency).
    amount: so.Mapped[int] = so.mapped_column(sa.BigInteger, nullable=False)
    currency: so.Mapped[str] = so.mapped_column(sa.String(3), nullable=False)
    paid_on: so.Mapped[date] = so.mapped_column(sa.Date, nullable=False)
    reference: so.Mapped[str] = so.mapped_column(sa.String(120), nullable=False, default="")
    #: The payer's treasurer who recorded it.
    recorded_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("memberships.id"),
                                                      nullable=False)
    #: From the form: the same form sent twice records one settlement.
    request_key: so.Mapped[str | None] = so.mapped_column(sa.String(64), nullable=True)
    payer_entry_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("journal_entries.id"), unique=True, nullable=True)
    payee_entry_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("journal_entries.id"), unique=True, nullable=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow,
                                                       nullable=False)

    def __repr__(self) -> str:
        return (f"<PartnerSettlement {self.id} {self.payer_collective_id}->"
                f"{self.payee_collective_id} {self.amount} {self.currency}>")

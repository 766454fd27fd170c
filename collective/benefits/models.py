"""Benefits tables: plans (voted, versioned), members' levels, claims, and scheduled runs."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective.benefits.kinds import BenefitKind, ClaimStatus, RunKind, RunLineKind
from collective.extensions import UTCDateTime, db, str_enum, utcnow
from collective.members.models import Membership

#: The kinds live in kinds.py (compute.py needs them without the database); they are
#: re-exported here, where the columns that store them are.
__all__ = ["BenefitKind", "BenefitPlan", "BenefitRun", "Claim", "ClaimEvent", "ClaimStatus",
           "FundForecast", "FundRunFailure", "MemberLevel", "RunKind", "RunLine", "RunLineKind"]


class BenefitPlan(db.Model):
    """A version of the fund's rules; `terms` is the JSON that benefits.compute.PlanTerms reads."""

    __tablename__ = "benefit_plans"
    __table_args__ = (sa.UniqueConstraint("collective_id", "version"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    collective_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collectives.id"), index=True, nullable=False
    )
    version: so.Mapped[int] = so.mapped_column(sa.Integer, nullable=False)
    #: First day the plan governs (periods starting on or after it).
    effective_on: so.Mapped[date] = so.mapped_column(sa.Date, nullable=False)
    #: Contribution rule, benefit types, reserve cap and fund minimum (see PlanTerms).
    terms: so.Mapped[dict] = so.mapped_column(sa.JSON, nullable=False)
    #: The proposal that adopted it; empty for the founding plan.
    proposal_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("proposals.id"), unique=True, nullable=True
    )
    created_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime(), default=utcnow, nullable=False
    )

    def __repr__(self) -> str:
        return f"<BenefitPlan v{self.version} collective={self.collective_id}>"


class MemberLevel(db.Model):
    """A member's chosen monthly benefit level, from a period on (history kept)."""

    __tablename__ = "member_levels"
    __table_args__ = (
        sa.UniqueConstraint("membership_id", "from_period"),
        sa.CheckConstraint("benefit_amount > 0", name="benefit_positive"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    membership_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("memberships.id"), index=True, nullable=False
    )
    #: Monthly benefit in minor units of the base currency; it selects the plan's level.
    benefit_amount: so.Mapped[int] = so.mapped_column(sa.BigInteger, nullable=False)
    #: First period (first day of a month) the level applies to.
    from_period: so.Mapped[date] = so.mapped_column(sa.Date, nullable=False)
    chosen_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime(), default=utcnow, nullable=False
    )

    membership: so.Mapped[Membership] = so.relationship()

    def __repr__(self) -> str:
        return f"<MemberLevel {self.membership_id} {self.benefit_amount} from {self.from_period}>"


class Claim(db.Model):
    """A member's request for a benefit."""

    __tablename__ = "claims"
    __table_args__ = (
        sa.CheckConstraint("months >= 1 AND months <= 120", name="months_range"),
        sa.CheckConstraint("amount >= 0", name="amount_not_negative"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    collective_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collectives.id"), index=True, nullable=False
    )
    membership_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("memberships.id"), index=True, nullable=False
    )
    kind: so.Mapped[BenefitKind] = so.mapped_column(
        str_enum(BenefitKind, name="kind_known", length=20), nullable=False
    )
    #: First month the claim covers (first day of the month).
    start_period: so.Mapped[date] = so.mapped_column(sa.Date, nullable=False)
    #: Months covered (1 for one-off benefits), waiting months included.
    months: so.Mapped[int] = so.mapped_column(sa.Integer, nullable=False, default=1)
    #: For one-off benefits: the amount asked for, in base minor units (0 for monthly ones).
    amount: so.Mapped[int] = so.mapped_column(sa.BigInteger, nullable=False, default=0)
    #: For an unpaid invoice: the invoice's amount in base minor units.
    invoice_amount: so.Mapped[int] = so.mapped_column(sa.BigInteger, nullable=False, default=0)
    note: so.Mapped[str] = so.mapped_column(sa.String(2000), nullable=False, default="")
    status: so.Mapped[ClaimStatus] = so.mapped_column(
        str_enum(ClaimStatus, name="status_known", length=16), nullable=False,
        default=ClaimStatus.PENDING,
    )
    #: Why it was approved or rejected.
    decision_reason: so.Mapped[str] = so.mapped_column(sa.String(1000), nullable=False,
                                                       default="")
    decided_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("memberships.id"), nullable=True
    )
    #: Set when the plan says a vote decides (hardship); the proposal's outcome decides it.
    proposal_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("proposals.id"), unique=True, nullable=True
    )
    #: The day the member recovered (first day well again), when the claim was ended early.
    ended_on: so.Mapped[date | None] = so.mapped_column(sa.Date, nullable=True)
    #: For a relapse within the plan's relapse window: the claim this one continues (no new
    #: waiting period; the months paid on both count towards one maximum).
    continues_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("claims.id"), unique=True, nullable=True
    )
    created_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime(), default=utcnow, nullable=False
    )

    membership: so.Mapped[Membership] = so.relationship(foreign_keys=[membership_id])
    events: so.Mapped[list[ClaimEvent]] = so.relationship(
        back_populates="claim", order_by="ClaimEvent.id"
    )

    @property
    def benefit_kind(self) -> BenefitKind:
        """The kind as a BenefitKind."""
        return BenefitKind(self.kind)

    def __repr__(self) -> str:
        return f"<Claim {self.id} {self.kind} {self.status}>"


class ClaimEvent(db.Model):
    """One status change of a claim, for the claimant to follow."""

    __tablename__ = "claim_events"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    claim_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("claims.id"), index=True, nullable=False
    )
    #: The claim's status after the change.
    status: so.Mapped[ClaimStatus] = so.mapped_column(
        str_enum(ClaimStatus, name="status_known", length=16), nullable=False
    )
    #: Empty when the change came from a vote or a scheduled run.
    actor_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("memberships.id"), nullable=True
    )
    note: so.Mapped[str] = so.mapped_column(sa.String(1000), nullable=False, default="")
    at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    claim: so.Mapped[Claim] = so.relationship(back_populates="events")
    actor: so.Mapped[Membership | None] = so.relationship()

    def __repr__(self) -> str:
        return f"<ClaimEvent {self.claim_id} {self.status}>"


class BenefitRun(db.Model):
    """A completed contribution or payout run of one period; unique, so a run posts once.

    The row, its journal entries and its lines are written in one transaction.
    """

    __tablename__ = "benefit_runs"
    __table_args__ = (
        sa.UniqueConstraint("collective_id", "kind", "period"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    collective_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collectives.id"), index=True, nullable=False
    )
    kind: so.Mapped[RunKind] = so.mapped_column(
        str_enum(RunKind, name="kind_known", length=16), nullable=False
    )
    #: The month run for (first day of the month).
    period: so.Mapped[date] = so.mapped_column(sa.Date, nullable=False)
    plan_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("benefit_plans.id"), nullable=False)
    #: Money moved by the run, in base minor units.
    total_amount: so.Mapped[int] = so.mapped_column(sa.BigInteger, nullable=False, default=0)
    #: Contributions recorded as owed, or benefits cut because the fund was short.
    shortfall_amount: so.Mapped[int] = so.mapped_column(sa.BigInteger, nullable=False,
                                                        default=0)
    entry_count: so.Mapped[int] = so.mapped_column(sa.Integer, nullable=False, default=0)
    #: 'scheduler', 'cli' or the e-mail of whoever pressed "run now".
    triggered_by: so.Mapped[str] = so.mapped_column(sa.String(254), nullable=False)
    finished_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime(), default=utcnow, nullable=False
    )

    lines: so.Mapped[list[RunLine]] = so.relationship(back_populates="run",
                                                      order_by="RunLine.id")

    def __repr__(self) -> str:
        return f"<BenefitRun {self.kind} {self.period} collective={self.collective_id}>"


class FundRunFailure(db.Model):
    """The scheduler's last failed fund run of a collective, shown to its treasurers until
    that run is done (by the scheduler's next round or by hand); one per collective."""

    __tablename__ = "fund_run_failures"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    collective_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collectives.id"), unique=True, nullable=False
    )
    kind: so.Mapped[RunKind] = so.mapped_column(
        str_enum(RunKind, name="kind_known", length=16), nullable=False
    )
    #: The month of the run that failed (first day).
    period: so.Mapped[date] = so.mapped_column(sa.Date, nullable=False)
    #: What the treasurers are told: the refusal's own words, or the kind of an unexpected
    #: error (its details go to the scheduler's log, not to the page).
    reason: so.Mapped[str] = so.mapped_column(sa.String(500), nullable=False)
    #: How many rounds in a row failed on this run.
    attempts: so.Mapped[int] = so.mapped_column(sa.Integer, nullable=False, default=1)
    first_failed_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), nullable=False)
    last_failed_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), nullable=False)

    def __repr__(self) -> str:
        return f"<FundRunFailure {self.kind} {self.period} collective={self.collective_id}>"


class RunLine(db.Model):
    """A run's number for one member: contribution, owed, return, benefit or gift."""

    __tablename__ = "run_lines"
    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    run_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("benefit_runs.id"), index=True, nullable=False
    )
    membership_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("memberships.id"), index=True, nullable=False
    )
    kind: so.Mapped[RunLineKind] = so.mapped_column(
        str_enum(RunLineKind, name="kind_known", length=16), nullable=False
    )
    amount: so.Mapped[int] = so.mapped_column(sa.BigInteger, nullable=False)
    #: For a benefit: what the fund could not pay this time.
    shortfall: so.Mapped[int] = so.mapped_column(sa.BigInteger, nullable=False, default=0)
    claim_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("claims.id"), index=True, nullable=True
    )
    #: For a monthly benefit: the month it pays for.
    for_period: so.Mapped[date | None] = so.mapped_column(sa.Date, nullable=True)
    entry_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("journal_entries.id"), nullable=True
    )

    run: so.Mapped[BenefitRun] = so.relationship(back_populates="lines")

    def __repr__(self) -> str:
        return f"<RunLine {self.kind} {self.amount} member={self.membership_id}>"


sa.Index("uq_run_lines_claim_id_for_period", RunLine.claim_id, RunLine.for_period,
         unique=True, postgresql_where=RunLine.kind == RunLineKind.BENEFIT,
         sqlite_where=RunLine.kind == RunLineKind.BENEFIT)
#: The fund's benefit and make-up lines are few among the contributions and gifts (24 of
#: 480,000 at 10,000 members): what the fund still owes claimants reads them by kind.
sa.Index("ix_run_lines_kind", RunLine.kind)


class FundForecast(db.Model):
    """The fund's latest sustainability forecast (Monte Carlo), one per collective.

    The scheduler computes it after each run and each plan change, off the request path;
    the treasurer's page only reads it.
    """

    __tablename__ = "fund_forecasts"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    collective_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collectives.id"), unique=True, nullable=False
    )
    #: The month it was computed for (first day), in the collective's timezone.
    for_period: so.Mapped[date] = so.mapped_column(sa.Date, nullable=False)
    #: The plan in force that month; empty when there was none (and so no result).
    plan_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("benefit_plans.id"), nullable=True
    )
    #: What the fund held then, in base minor units.
    fund_amount: so.Mapped[int] = so.mapped_column(sa.BigInteger, nullable=False)
    #: median, p10, never_out_share, median_path, members, monthly_in; empty without a plan.
    result: so.Mapped[dict | None] = so.mapped_column(sa.JSON, nullable=True)
    #: The ForecastAssumptions it used, as JSON.
    assumptions: so.Mapped[dict] = so.mapped_column(sa.JSON, nullable=False)
    computed_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), nullable=False)

    def __repr__(self) -> str:
        return f"<FundForecast collective={self.collective_id} for {self.for_period}>"

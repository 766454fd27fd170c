"""Users, collectives, memberships with roles, skills and invitations."""
from __future__ import annotations

import enum
import hashlib
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy import orm as so
from werkzeug.security import check_password_hash, generate_password_hash

from collective.extensions import UTCDateTime, db, str_enum, utcnow
from collective.roles import Role  # noqa: F401  (members' vocabulary, re-exported)


class MembershipStatus(enum.StrEnum):
    """Active members take work and contribute; paused ones keep access but are not allocated."""

    ACTIVE = "active"
    PAUSED = "paused"
    REMOVED = "removed"


class User(UserMixin, db.Model):
    """A person who can sign in; may belong to several collectives."""

    __tablename__ = "users"
    __table_args__ = (
        sa.CheckConstraint("weekly_capacity_hours BETWEEN 0 AND 168",
                           name="person_capacity_range"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    #: Lower-cased e-mail address, used to sign in.
    email: so.Mapped[str] = so.mapped_column(sa.String(254), unique=True, nullable=False)
    name: so.Mapped[str] = so.mapped_column(sa.String(120), nullable=False)
    password_hash: so.Mapped[str] = so.mapped_column(sa.String(256), nullable=False)
    #: IANA timezone name, e.g. 'Asia/Manila'.
    timezone: so.Mapped[str] = so.mapped_column(sa.String(64), nullable=False, default="UTC")
    #: ISO 3166 alpha-2 country code, where the person works from.
    country: so.Mapped[str | None] = so.mapped_column(sa.String(2), nullable=True)
    created_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime(), default=utcnow, nullable=False
    )
    #: When the address in `email` was confirmed by a mailed link; None until then
    #: (members/confirmations.py).
    email_confirmed_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime(),
                                                                      nullable=True)
    #: Hours a week the person works across all their collectives; None until they say
    #: (then the largest of their memberships' capacities stands for it). A membership's
    #: own capacity is what they offer that collective, within this.
    weekly_capacity_hours: so.Mapped[int | None] = so.mapped_column(sa.SmallInteger,
                                                                    nullable=True)
    #: ISO 4217 code their earnings across collectives are added up in on /me; None: the
    #: currency of their first collective.
    display_currency: so.Mapped[str | None] = so.mapped_column(sa.String(3), nullable=True)
    #: Coordinators of one collective see the person's active work in the others only as
    #: hours ("12 h elsewhere"), not by collective.
    is_other_work_private: so.Mapped[bool] = so.mapped_column(
        sa.Boolean, nullable=False, default=False, server_default=sa.false()
    )

    skills: so.Mapped[list[Skill]] = so.relationship(
        back_populates="user", order_by="Skill.name", cascade="all, delete-orphan"
    )
    memberships: so.Mapped[list[Membership]] = so.relationship(
        back_populates="user", foreign_keys="Membership.user_id"
    )

    def get_id(self) -> str:
        """Session id: the user id plus a digest of the password hash, so that changing
        the password signs out every other session and remember-me cookie."""
        digest = hashlib.sha256(self.password_hash.encode()).hexdigest()[:16]
        return f"{self.id}:{digest}"

    def set_password(self, password: str, method: str = "scrypt") -> None:
        """Store a salted hash of the password (scrypt with werkzeug's work factor unless
        the caller names another)."""
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        """True when the password matches the stored hash."""
        return check_password_hash(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class Skill(db.Model):
    """A skill a person offers, with a self-assessed level from 1 to 5."""

    __tablename__ = "skills"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "name"),
        sa.CheckConstraint("level BETWEEN 1 AND 5", name="level_range"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("users.id"), index=True, nullable=False
    )
    #: Lower-cased skill name, e.g. 'bookkeeping'.
    name: so.Mapped[str] = so.mapped_column(sa.String(60), nullable=False)
    level: so.Mapped[int] = so.mapped_column(sa.SmallInteger, nullable=False)

    user: so.Mapped[User] = so.relationship(back_populates="skills")

    def __repr__(self) -> str:
        return f"<Skill {self.name} {self.level} user={self.user_id}>"


class Collective(db.Model):
    """A self-organised group of freelancers with its own ledger and rules."""

    __tablename__ = "collectives"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120), nullable=False)
    #: URL name: every page of the collective lives under /c/<slug>/.
    slug: so.Mapped[str] = so.mapped_column(sa.String(40), unique=True, nullable=False)
    #: ISO 4217 code every entry is posted in.
    base_currency: so.Mapped[str] = so.mapped_column(sa.String(3), nullable=False)
    timezone: so.Mapped[str] = so.mapped_column(sa.String(64), nullable=False, default="UTC")
    created_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime(), default=utcnow, nullable=False
    )
    #: Share of eligible members (basis points) that must vote on a proposal: more than this.
    quorum_bp: so.Mapped[int] = so.mapped_column(
        sa.Integer, nullable=False, default=5000, server_default=sa.text("5000")
    )
    #: Share of agree among agree + disagree (basis points) a proposal must exceed.
    threshold_bp: so.Mapped[int] = so.mapped_column(
        sa.Integer, nullable=False, default=5000, server_default=sa.text("5000")
    )
    #: Days a proposal stays open for votes unless its author picks another deadline.
    proposal_days: so.Mapped[int] = so.mapped_column(
        sa.Integer, nullable=False, default=7, server_default=sa.text("7")
    )
    #: Plain members see only their own line of a payment's split (coordinators and
    #: treasurers see every line); off by default: everyone sees everyone's.
    is_split_private: so.Mapped[bool] = so.mapped_column(
        sa.Boolean, nullable=False, default=False, server_default=sa.false()
    )
    #: Who may propose share-rule changes: every member (true, the default), or only
    #: coordinators and treasurers (false). A treasurer changes it in the settings.
    is_rule_proposing_open: so.Mapped[bool] = so.mapped_column(
        sa.Boolean, nullable=False, default=True, server_default=sa.true()
    )
    #: Set when the collective is archived (e.g. a demo reset); archived collectives are hidden.
    archived_at: so.Mapped[datetime | None] = so.mapped_column(
        UTCDateTime(), nullable=True
    )

    memberships: so.Mapped[list[Membership]] = so.relationship(back_populates="collective")

    def __repr__(self) -> str:
        return f"<Collective {self.slug}>"


class Membership(db.Model):
    """A person's place in one collective: roles, status and weekly capacity."""

    __tablename__ = "memberships"
    __table_args__ = (
        sa.UniqueConstraint("collective_id", "user_id"),
        sa.CheckConstraint(
            "weekly_capacity_hours BETWEEN 0 AND 168", name="capacity_range"
        ),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    collective_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collectives.id"), index=True, nullable=False
    )
    user_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("users.id"), index=True, nullable=False
    )
    status: so.Mapped[MembershipStatus] = so.mapped_column(
        str_enum(MembershipStatus, name="status_known", length=16), nullable=False,
        default=MembershipStatus.ACTIVE,
    )
    #: Why the membership is paused, e.g. 'parental leave'.
    status_note: so.Mapped[str] = so.mapped_column(sa.String(200), nullable=False, default="")
    #: Hours a week the member offers the collective's pool.
    weekly_capacity_hours: so.Mapped[int] = so.mapped_column(
        sa.SmallInteger, nullable=False, default=0
    )
    joined_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime(), default=utcnow, nullable=False
    )

    user: so.Mapped[User] = so.relationship(back_populates="memberships", lazy="select")
    collective: so.Mapped[Collective] = so.relationship(back_populates="memberships")
    role_rows: so.Mapped[list[MembershipRole]] = so.relationship(
        back_populates="membership", cascade="all, delete-orphan", lazy="select"
    )

    @property
    def roles(self) -> frozenset[Role]:
        """The roles this membership holds."""
        return frozenset(Role(r.role) for r in self.role_rows)

    def has_role(self, *roles: Role) -> bool:
        """True when the membership holds any of `roles` and is not removed."""
        return self.status != MembershipStatus.REMOVED and bool(self.roles & set(roles))

    @property
    def is_active(self) -> bool:
        """Active (not paused or removed)."""
        return self.status == MembershipStatus.ACTIVE

    def __repr__(self) -> str:
        return f"<Membership {self.id} user={self.user_id} collective={self.collective_id}>"


class MembershipRole(db.Model):
    """One role held by a membership."""

    __tablename__ = "membership_roles"
    __table_args__ = (
        sa.UniqueConstraint("membership_id", "role"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    membership_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("memberships.id"), index=True, nullable=False
    )
    role: so.Mapped[Role] = so.mapped_column(
        str_enum(Role, name="role_known", length=16), nullable=False
    )

    membership: so.Mapped[Membership] = so.relationship(back_populates="role_rows")

    def __repr__(self) -> str:
        return f"<MembershipRole {self.role} membership={self.membership_id}>"


class Invitation(db.Model):
    """A single-use, expiring link that lets one person join a collective."""

    __tablename__ = "invitations"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    collective_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collectives.id"), index=True, nullable=False
    )
    #: SHA-256 of the token in the link; the token itself is shown once and never stored.
    token_hash: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True, nullable=False)
    #: Who the link is meant for: when set, only an account with this e-mail may accept it.
    email: so.Mapped[str] = so.mapped_column(sa.String(254), nullable=False, default="")
    #: Comma-separated roles the new membership gets (a set, so no enum column: role_set
    #: reads it through Role, and accepting the invitation writes MembershipRole rows).
    roles: so.Mapped[str] = so.mapped_column(sa.String(64), nullable=False, default="member")
    created_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("users.id"), nullable=False)
    created_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime(), default=utcnow, nullable=False
    )
    expires_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), nullable=False)
    accepted_at: so.Mapped[datetime | None] = so.mapped_column(
        UTCDateTime(), nullable=True
    )
    accepted_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id"), nullable=True
    )
    #: Set when a coordinator or treasurer revoked the link; it can no longer be accepted.
    revoked_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime(), nullable=True)
    revoked_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id"), nullable=True
    )

    collective: so.Mapped[Collective] = so.relationship()
    created_by: so.Mapped[User] = so.relationship(foreign_keys=[created_by_id])

    @property
    def role_set(self) -> frozenset[Role]:
        """The roles as a set."""
        return frozenset(Role(r) for r in self.roles.split(",") if r)

    def __repr__(self) -> str:
        return f"<Invitation {self.id} collective={self.collective_id}>"


class ProposalKind(enum.StrEnum):
    """What a proposal decides; the package that owns a kind registers what adopts it."""

    #: A new way to split client payments (pool).
    SHARE_RULE = "share_rule"
    #: A new version of the benefits fund's rules (benefits).
    BENEFIT_PLAN = "benefit_plan"
    #: A claim the plan says the members decide by vote (benefits).
    BENEFIT_CLAIM = "benefit_claim"
    #: Working with another collective as partners; each side votes its own (federation).
    FEDERATION = "federation"


class ProposalStatus(enum.StrEnum):
    """Where a proposal stands; only OPEN ones take votes."""

    OPEN = "open"
    ADOPTED = "adopted"
    REJECTED = "rejected"
    BLOCKED = "blocked"
    WITHDRAWN = "withdrawn"


class VoteChoice(enum.StrEnum):
    """A member's answer to a proposal; one block stops it."""

    AGREE = "agree"
    ABSTAIN = "abstain"
    DISAGREE = "disagree"
    BLOCK = "block"


class Proposal(db.Model):
    """A change the members decide by vote: a share rule, a benefit plan, ... (`kind`)."""

    __tablename__ = "proposals"
    __table_args__ = (
        sa.CheckConstraint("quorum_bp BETWEEN 0 AND 10000", name="quorum_range"),
        sa.CheckConstraint("threshold_bp BETWEEN 0 AND 10000", name="threshold_range"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    collective_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collectives.id"), index=True, nullable=False
    )
    #: What is proposed, e.g. a share rule; the package that owns the kind adopts it.
    kind: so.Mapped[ProposalKind] = so.mapped_column(
        str_enum(ProposalKind, name="kind_known", length=40), nullable=False
    )
    title: so.Mapped[str] = so.mapped_column(sa.String(200), nullable=False)
    description: so.Mapped[str] = so.mapped_column(sa.Text, nullable=False, default="")
    #: The proposed values, as the owning package reads them (JSON).
    payload: so.Mapped[dict] = so.mapped_column(sa.JSON, nullable=False)
    created_by_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("memberships.id"), nullable=False
    )
    created_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime(), default=utcnow, nullable=False
    )
    #: Votes can be cast and changed until this moment; then the outcome is decided.
    deadline_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), nullable=False)
    #: Share of eligible members (basis points) that must vote; more than this is needed.
    quorum_bp: so.Mapped[int] = so.mapped_column(sa.Integer, nullable=False)
    #: Share of agree among agree + disagree (basis points) that must be exceeded.
    threshold_bp: so.Mapped[int] = so.mapped_column(sa.Integer, nullable=False)
    status: so.Mapped[ProposalStatus] = so.mapped_column(
        str_enum(ProposalStatus, name="status_known", length=16), nullable=False,
        default=ProposalStatus.OPEN,
    )
    decided_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime(), nullable=True)
    #: Why it ended as it did, in words: counts, quorum, the block.
    outcome: so.Mapped[str] = so.mapped_column(sa.String(500), nullable=False, default="")

    votes: so.Mapped[list[Vote]] = so.relationship(
        back_populates="proposal", order_by="Vote.id", lazy="select"
    )
    created_by: so.Mapped[Membership] = so.relationship()
    collective: so.Mapped[Collective] = so.relationship()

    def __repr__(self) -> str:
        return f"<Proposal {self.id} {self.kind} {self.status}>"


class Vote(db.Model):
    """One member's vote on a proposal; changeable until the deadline."""

    __tablename__ = "votes"
    __table_args__ = (
        sa.UniqueConstraint("proposal_id", "membership_id"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    proposal_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("proposals.id"), index=True, nullable=False
    )
    membership_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("memberships.id"), index=True, nullable=False
    )
    choice: so.Mapped[VoteChoice] = so.mapped_column(
        str_enum(VoteChoice, name="choice_known", length=16), nullable=False
    )
    reason: so.Mapped[str] = so.mapped_column(sa.String(1000), nullable=False, default="")
    cast_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow, nullable=False)

    proposal: so.Mapped[Proposal] = so.relationship(back_populates="votes")
    #: Joined: a tally reads every voter's status, and a page shows every voter's name.
    membership: so.Mapped[Membership] = so.relationship(lazy="select")

    def __repr__(self) -> str:
        return f"<Vote {self.choice} proposal={self.proposal_id} member={self.membership_id}>"


class PasswordResetRequest(db.Model):
    """One "forgot your password" request that was let through, kept an hour or so to limit
    how often an address, or a client, may ask (members/resets.py)."""

    __tablename__ = "password_reset_requests"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    #: SHA-256 of the lower-cased address typed, whether or not it has an account.
    email_hash: so.Mapped[str] = so.mapped_column(sa.String(64), index=True, nullable=False)
    #: The client's address as the server saw it.
    ip: so.Mapped[str] = so.mapped_column(sa.String(45), index=True, nullable=False)
    requested_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), index=True,
                                                         nullable=False)

    def __repr__(self) -> str:
        return f"<PasswordResetRequest {self.id} ip={self.ip} at={self.requested_at}>"


class EmailConfirmationRequest(db.Model):
    """A confirmation link mailed on request (sent again, or to a new address), kept a day
    or so to limit how often an address, or a client, may ask (members/confirmations.py)."""

    __tablename__ = "email_confirmation_requests"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    #: SHA-256 of the lower-cased address the link goes to.
    email_hash: so.Mapped[str] = so.mapped_column(sa.String(64), index=True, nullable=False)
    ip: so.Mapped[str] = so.mapped_column(sa.String(45), index=True, nullable=False)
    requested_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), index=True,
                                                         nullable=False)

    def __repr__(self) -> str:
        return f"<EmailConfirmationRequest {self.id} ip={self.ip} at={self.requested_at}>"

"""Terms a collective agrees on: versioned, in force from a date, and adopted by a vote.

Share rules (pool) and benefit plans (benefits) are both terms. Each owning package
describes its kind once with a `TermsKind` and registers it from the app factory; this
kind does the rest the same way for both: the founding version a treasurer sets, proposals
to change it, adoption when a vote passes, and which version is in force on a day. Flush,
never commit.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

import sqlalchemy as sa

from collective import audit
from collective.errors import Conflict
from collective.extensions import db
from collective.members.models import Membership, Proposal, Role
from collective.members.proposals import open_proposal, register_adopter
from collective.members.services import require_role

T = TypeVar("T")


@dataclass(frozen=True)
class TermsKind(Generic[T]):
    """How one kind of terms is stored, checked, proposed and adopted."""

    #: The proposal kind that adopts a new version, e.g. 'share_rule'.
    proposal_kind: str
    #: The versioned model: collective_id, version, effective_on, proposal_id columns.
    model: type
    #: What the members call it, for messages: 'share rule', 'benefit plan'.
    noun: str
    #: The stored version's own columns for checked terms.
    columns: Callable[[T], dict[str, Any]]
    #: Terms to a proposal's JSON payload, and back (checked).
    to_payload: Callable[[T], dict[str, Any]]
    from_payload: Callable[[dict[str, Any]], T]
    #: The day a version would start, checked against today (a DomainError if out of range).
    check_start: Callable[[date, date], date]
    #: The earliest day a version adopted by a vote decided on a day can start.
    start_after_vote: Callable[[date], date]
    #: A proposal's title when its author gives none.
    default_title: Callable[[T], str]
    #: Who sets the founding version and proposes changes.
    role: Role = Role.TREASURER
    #: Who may propose changes, when a kind decides it otherwise than by `role`: raises
    #: NotAllowed for an actor who may not (a share rule asks the collective's setting).
    check_proposer: Callable[[Membership], None] | None = None

    def in_force(self, collective_id: int, on: date):
        """The version that governs `on`, or None before the first."""
        model = self.model
        return db.session.scalar(
            sa.select(model).where(model.collective_id == collective_id, model.effective_on <= on)
            .order_by(model.effective_on.desc(), model.version.desc()).limit(1))

    def versions(self, collective_id: int, limit: int | None = None) -> list:
        """Every version (the latest `limit`), newest first."""
        return list(db.session.scalars(
            sa.select(self.model).filter_by(collective_id=collective_id)
            .order_by(self.model.version.desc()).limit(limit)))

    def add_version(self, collective_id: int, terms: T, effective_on: date,
                    proposal_id: int | None):
        """Store the next version of the collective's terms (flushed)."""
        model = self.model
        version = (db.session.scalar(sa.select(sa.func.max(model.version))
                                     .filter_by(collective_id=collective_id)) or 0) + 1
        row = model(collective_id=collective_id, version=version, effective_on=effective_on,
                    proposal_id=proposal_id, **self.columns(terms))
        db.session.add(row)
        db.session.flush()
        return row

    def set_founding(self, actor: Membership, terms: T, effective_on: date, *, today: date):
        """The version a collective starts with (its founding agreement); later ones are
        voted."""
        require_role(actor, self.role, action=f"set the founding {self.noun}")
        if self.versions(actor.collective_id):
            raise Conflict(f"the collective already has a {self.noun}; "
                           "propose a change instead")
        start = self.check_start(effective_on, today)
        row = self.add_version(actor.collective_id, terms, start, None)
        audit.record("terms.founded", collective=actor.collective_id, subject=row,
                     actor=actor.user_id, what=self.noun, version=row.version,
                     effective_on=start)
        return row

    def propose(self, actor: Membership, terms: T, *, effective_on: date, today: date,
                now: datetime, title: str = "", description: str = "",
                deadline_at: datetime | None = None) -> Proposal:
        """Put a new version to the members' vote."""
        if self.check_proposer is not None:
            self.check_proposer(actor)
        else:
            require_role(actor, self.role, action=f"propose a {self.noun}")
        start = self.check_start(effective_on, today)
        payload = {**self.to_payload(terms), "effective_on": start.isoformat()}
        return open_proposal(actor, kind=self.proposal_kind,
                             title=title or self.default_title(terms), payload=payload,
                             description=description, deadline_at=deadline_at, now=now)

    def proposed(self, proposal: Proposal) -> T:
        """The terms a proposal would adopt."""
        return self.from_payload(proposal.payload)

    def adopt(self, proposal: Proposal, decided_on: date) -> None:
        """Adopter: a passed proposal's terms apply from their date, or the earliest day
        after the vote."""
        start = max(date.fromisoformat(proposal.payload["effective_on"]),
                    self.start_after_vote(decided_on))
        self.add_version(proposal.collective_id, self.proposed(proposal), start, proposal.id)


def register_terms(kind: TermsKind) -> None:
    """Make `kind` adoptable by vote (the owning package calls this from the app factory)."""
    register_adopter(kind.proposal_kind, kind.adopt)

"""Proposals and votes: how members agree on share rules, benefit plans and other changes.

Generic on purpose: a package that owns a kind of proposal (pool for 'share_rule', benefits
for 'benefit_plan') registers an adopter, which is called once when a proposal of its kind
passes. Flush, never commit.
"""
from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from collective import audit
from collective.clock import date_at
from collective.errors import Conflict, DomainError, NotFound
from collective.extensions import db
from collective.members import notices
from collective.members.models import (
    Membership,
    MembershipStatus,
    Proposal,
    ProposalStatus,
    Vote,
    VoteChoice,
)

Adopter = Callable[[Proposal, date], None]
ADOPTERS: dict[str, Adopter] = {}
#: Optional: what happens when a proposal of a kind is rejected or blocked.
REJECTERS: dict[str, Callable[[Proposal], None]] = {}
MAX_PROPOSAL_DAYS = 90


#: Optional, per kind: the members who may not vote on a proposal (say, the claimant of a
#: claim it decides); they do not count towards its quorum either.
EXCLUDERS: dict[str, Callable[[Proposal], Collection[int]]] = {}


#: How long before a deadline the members who have not voted are reminded.
REMINDER_BEFORE = timedelta(hours=24)


def register_excluded_voters(kind: str, excluded: Callable[[Proposal], Collection[int]]
                             ) -> None:
    """Say who may not vote on a proposal of `kind`: `excluded(proposal)` gives their
    membership ids (a conflict of interest, decided by the package that owns the kind)."""
    EXCLUDERS[kind] = excluded


def excluded_voters(proposal: Proposal) -> frozenset[int]:
    """Membership ids that may not vote on this proposal, and do not count towards it."""
    excluded = EXCLUDERS.get(proposal.kind)
    return frozenset(excluded(proposal)) if excluded is not None else frozenset()


def may_vote(membership: Membership, proposal: Proposal) -> bool:
    """True unless the proposal decides something of the member's own."""
    return membership.id not in excluded_voters(proposal)


def register_adopter(kind: str, adopter: Adopter,
                     rejecter: Callable[[Proposal], None] | None = None) -> None:
    """Say what happens when a proposal of `kind` is adopted (and, optionally, rejected)."""
    ADOPTERS[kind] = adopter
    if rejecter is not None:
        REJECTERS[kind] = rejecter


def open_proposal(
    actor: Membership,
    *,
    kind: str,
    title: str,
    payload: dict,
    description: str = "",
    deadline_at: datetime | None = None,
    now: datetime,
) -> Proposal:
    """Put a proposal to the collective's vote, with the collective's quorum and threshold."""
    if actor.status == MembershipStatus.REMOVED:
        raise NotFound("no such member in this collective")
    if kind not in ADOPTERS:
        raise DomainError(f"nothing can adopt a {kind!r} proposal", field="kind")
    if not title.strip():
        raise DomainError("a proposal needs a title", field="title")
    collective = actor.collective
    deadline_at = deadline_at or now + timedelta(days=collective.proposal_days)
    if deadline_at <= now:
        raise DomainError("the deadline must be in the future", field="deadline")
    if deadline_at > now + timedelta(days=MAX_PROPOSAL_DAYS):
        raise DomainError(f"the deadline can be at most {MAX_PROPOSAL_DAYS} days away",
                          field="deadline")
    proposal = Proposal(
        collective_id=actor.collective_id, kind=kind, title=title.strip()[:200],
        description=description.strip(), payload=payload, created_by_id=actor.id,
        created_at=now, deadline_at=deadline_at, quorum_bp=collective.quorum_bp,
        threshold_bp=collective.threshold_bp, status=ProposalStatus.OPEN.value,
    )
    db.session.add(proposal)
    db.session.flush()
    notices.proposal_opened(proposal, excluded_voters(proposal), now)
    return proposal


def get_proposal(collective_id: int, proposal_id: int) -> Proposal:
    """A proposal of this collective, or NotFound."""
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None or proposal.collective_id != collective_id:
        raise NotFound("no such proposal in this collective")
    return proposal


def is_voting_open(proposal: Proposal, now: datetime) -> bool:
    """True while votes may be cast: the proposal is open and its deadline has not come. An
    open proposal past its deadline waits for the scheduler to decide it."""
    return proposal.status == ProposalStatus.OPEN and now < proposal.deadline_at


def cast_vote(
    actor: Membership,
    proposal: Proposal,
    choice: VoteChoice | str,
    reason: str = "",
    *,
    now: datetime,
) -> Vote:
    """Record or change the actor's vote while the proposal is open."""
    if actor.collective_id != proposal.collective_id or actor.status == MembershipStatus.REMOVED:
        raise NotFound("no such proposal in this collective")
    try:
        choice = VoteChoice(choice)
    except ValueError as exc:
        raise DomainError(f"{choice!r} is not a vote", field="choice") from exc
    if not is_voting_open(proposal, now):
        # A conflict, not a wrong input: the proposal moved on (decided, withdrawn, or past
        # its deadline) since the voter last saw it; the API answers a 409.
        raise Conflict("voting on this proposal has closed", field="choice")
    if not may_vote(actor, proposal):
        raise DomainError("you cannot vote on this proposal: it decides something of your "
                          "own, so the other members decide it", field="choice")
    values = {"choice": choice.value, "reason": (reason or "").strip()[:1000], "cast_at": now}
    vote = db.session.scalar(
        sa.select(Vote).filter_by(proposal_id=proposal.id, membership_id=actor.id)
    )
    if vote is None:
        try:
            with db.session.begin_nested():
                vote = Vote(proposal_id=proposal.id, membership_id=actor.id, **values)
                db.session.add(vote)
                db.session.flush()
        except sa.exc.IntegrityError:
            # The same member's first vote, sent twice at once: change the one that won.
            vote = db.session.scalar(
                sa.select(Vote).filter_by(proposal_id=proposal.id, membership_id=actor.id))
    for name, value in values.items():
        setattr(vote, name, value)
    db.session.flush()
    db.session.expire(proposal, ["votes"])
    return vote


def eligible_voters(collective_id: int, excluding: Collection[int] = ()) -> int:
    """How many members may vote: everyone not removed (paused members keep their say),
    less those `excluding` names."""
    query = sa.select(sa.func.count(Membership.id)).where(
        Membership.collective_id == collective_id,
        Membership.status != MembershipStatus.REMOVED.value,
    )
    if excluding:
        query = query.where(Membership.id.not_in(list(excluding)))
    return db.session.scalar(query)


@dataclass(frozen=True)
class Tally:
    """The counts of a proposal and what they mean."""

    agree: int
    abstain: int
    disagree: int
    block: int
    eligible: int
    quorum_bp: int
    threshold_bp: int

    @property
    def cast(self) -> int:
        """Votes cast, abstentions included."""
        return self.agree + self.abstain + self.disagree + self.block

    @property
    def quorum_met(self) -> bool:
        """More than quorum_bp of the eligible members voted."""
        return self.cast * 10_000 > self.quorum_bp * self.eligible

    @property
    def threshold_met(self) -> bool:
        """Agree is more than threshold_bp of agree + disagree."""
        decisive = self.agree + self.disagree
        return decisive > 0 and self.agree * 10_000 > self.threshold_bp * decisive

    @property
    def status(self) -> ProposalStatus:
        """What the proposal would become if it closed now."""
        if self.block:
            return ProposalStatus.BLOCKED
        if self.quorum_met and self.threshold_met:
            return ProposalStatus.ADOPTED
        return ProposalStatus.REJECTED

    def describe(self) -> str:
        """The outcome in words."""
        counts = (f"{self.agree} agree, {self.disagree} disagree, {self.abstain} abstain, "
                  f"{self.block} block; {self.cast} of {self.eligible} members voted")
        if self.block:
            return f"Blocked: {counts}."
        if not self.quorum_met:
            return f"No quorum (more than {self.quorum_bp / 100:g}% must vote): {counts}."
        if not self.threshold_met:
            return (f"Not enough agreement (more than {self.threshold_bp / 100:g}% of agree and "
                    f"disagree votes needed): {counts}.")
        return f"Adopted: {counts}."


def tally(proposal: Proposal) -> Tally:
    """Count the votes of a proposal against today's eligible members (without those who
    may not vote on it)."""
    excluded = excluded_voters(proposal)
    counts = {choice: 0 for choice in VoteChoice}
    for vote in proposal.votes:
        # A member removed before the decision no longer has a say; nor has one the
        # proposal is about (a vote cast before the rule, say).
        if (vote.membership.status != MembershipStatus.REMOVED
                and vote.membership_id not in excluded):
            counts[VoteChoice(vote.choice)] += 1
    return Tally(counts[VoteChoice.AGREE], counts[VoteChoice.ABSTAIN],
                 counts[VoteChoice.DISAGREE], counts[VoteChoice.BLOCK],
                 eligible_voters(proposal.collective_id, excluded), proposal.quorum_bp,
                 proposal.threshold_bp)


def decide_proposal(proposal: Proposal, now: datetime) -> bool:
    """Close one proposal whose deadline has passed; True if this call decided it.

    The status changes by a conditional UPDATE, so two processes deciding at once adopt once.
    """
    if proposal.status != ProposalStatus.OPEN or now < proposal.deadline_at:
        return False
    result = tally(proposal)
    claimed = db.session.execute(
        sa.update(Proposal)
        .where(Proposal.id == proposal.id, Proposal.status == ProposalStatus.OPEN.value)
        .values(status=result.status.value, decided_at=now, outcome=result.describe())
        .execution_options(synchronize_session="fetch")
    )
    if claimed.rowcount != 1:
        return False
    db.session.refresh(proposal)
    if result.status == ProposalStatus.ADOPTED:
        # Adopted on the day it is decided: payments recorded before then used the old rule.
        ADOPTERS[proposal.kind](proposal, date_at(now, proposal.collective.timezone))
    elif proposal.kind in REJECTERS:
        REJECTERS[proposal.kind](proposal)
    db.session.flush()
    audit.record("proposal.adopted" if result.status == ProposalStatus.ADOPTED
                 else "proposal.rejected", collective=proposal.collective_id,
                 subject=proposal, actor=None, kind=str(proposal.kind),
                 title=proposal.title, outcome=proposal.outcome)
    notices.proposal_decided(proposal, now)
    return True


def close_due_proposals(collective_id: int | None = None, *, now: datetime
                        ) -> list[Proposal]:
    """Decide every open proposal whose deadline has passed, oldest deadline first."""
    query = sa.select(Proposal).where(Proposal.status == ProposalStatus.OPEN.value,
                                      Proposal.deadline_at <= now)
    if collective_id is not None:
        query = query.where(Proposal.collective_id == collective_id)
    decided = []
    for proposal in db.session.scalars(query.order_by(Proposal.deadline_at, Proposal.id)):
        if decide_proposal(proposal, now):
            decided.append(proposal)
    return decided


def withdraw_proposal(actor: Membership, proposal: Proposal, *, now: datetime) -> Proposal:
    """The author takes back an open proposal."""
    if proposal.created_by_id != actor.id:
        raise DomainError("only the author can withdraw a proposal")
    if proposal.status != ProposalStatus.OPEN:
        raise DomainError("only an open proposal can be withdrawn")
    proposal.status = ProposalStatus.WITHDRAWN.value
    proposal.decided_at = now
    proposal.outcome = "Withdrawn by its author."
    db.session.flush()
    audit.record("proposal.withdrawn", collective=proposal.collective_id, subject=proposal,
                 actor=actor.user_id, kind=proposal.kind, title=proposal.title)
    return proposal


def proposals_of(collective_id: int, kind: str | None = None, *, limit: int | None = None,
                 offset: int = 0) -> list[Proposal]:
    """The collective's proposals (of one kind), open ones first, newest first; `limit` and
    `offset` page through them."""
    query = sa.select(Proposal).where(Proposal.collective_id == collective_id)
    if kind:
        query = query.where(Proposal.kind == kind)
    open_first = sa.case((Proposal.status == ProposalStatus.OPEN.value, 0), else_=1)
    return list(db.session.scalars(query.order_by(open_first, Proposal.id.desc())
                                   .offset(offset).limit(limit)))


def awaiting_vote(membership: Membership, now: datetime, *, limit: int | None = None
                  ) -> list[Proposal]:
    """Proposals of the member's collective still open for votes at `now` that they have not
    voted on and may vote on, soonest deadline first (of the first `limit` they have not
    voted on)."""
    voted = sa.exists().where(Vote.proposal_id == Proposal.id,
                              Vote.membership_id == membership.id)
    return [proposal for proposal in db.session.scalars(
        sa.select(Proposal)
        .where(Proposal.collective_id == membership.collective_id,
               Proposal.status == ProposalStatus.OPEN.value,
               Proposal.deadline_at > now, ~voted)
        .order_by(Proposal.deadline_at, Proposal.id).limit(limit))
        if may_vote(membership, proposal)]


def remind_voters(now: datetime, within: timedelta = REMINDER_BEFORE) -> list[Proposal]:
    """Tell the members who may vote and have not, once per proposal, when its deadline is
    `within` of `now` (the scheduler's job). The proposals reminded about."""
    due = list(db.session.scalars(
        sa.select(Proposal).where(Proposal.status == ProposalStatus.OPEN.value,
                                  Proposal.deadline_at > now,
                                  Proposal.deadline_at <= now + within)
        .order_by(Proposal.deadline_at, Proposal.id)))
    for proposal in due:
        voted = set(db.session.scalars(sa.select(Vote.membership_id)
                                       .where(Vote.proposal_id == proposal.id)))
        notices.proposal_closing(proposal, voted | excluded_voters(proposal), now)
    return due


#: kind -> function(proposal) returning (template, context) for the kind's own details.
PROPOSAL_DETAILS: dict[str, Callable] = {}


def register_proposal_details(kind: str, details: Callable) -> None:
    """Let the package that owns a kind of proposal show what it would change."""
    PROPOSAL_DETAILS[kind] = details

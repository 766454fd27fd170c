"""Share rules, and proposals with their votes, through the members' and the pool's own
services: a rule changes only by a proposal the members vote through, the same roles as
the pages decide who may propose, and a vote on a proposal that has closed is a 409."""
from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from flask import g
from sqlalchemy import orm as so

from collective.api.paging import DatedPageArgs, day_range, page_body, page_of, page_schema
from collective.api.schemas_governance import (
    ProposalArgs,
    ProposalDetailOut,
    ProposalOut,
    ShareRuleOut,
    ShareRuleProposalIn,
    VoteArgs,
    VoteIn,
    VoteOut,
)
from collective.api.views import api_blueprint, one_of_ours, written
from collective.api.views.auth import scoped
from collective.clock import now_utc
from collective.errors import NotFound
from collective.extensions import db
from collective.members import proposals as voting
from collective.members.models import Membership, Proposal, Vote
from collective.pool import rules as share_rules
from collective.pool.models import ShareRule

blp = api_blueprint("api_governance", "Share rules, and proposals with their votes.",
                    "Share rules and proposals")


@blp.before_request
def stamp_now() -> None:
    """The one instant a request acts at: voting is open or closed for the whole of it."""
    g.api_now = now_utc()


ShareRulePage = page_schema(ShareRuleOut, "ShareRulePage")
ProposalPage = page_schema(ProposalOut, "ProposalPage")
VotePage = page_schema(VoteOut, "VotePage")


def proposal_body(proposal: Proposal) -> dict:
    """A proposal as the API shows it (without its votes)."""
    return {"id": proposal.id, "kind": str(proposal.kind), "title": proposal.title,
            "description": proposal.description, "status": str(proposal.status),
            "payload": proposal.payload, "created_by_id": proposal.created_by_id,
            "created_at": proposal.created_at, "deadline_at": proposal.deadline_at,
            "decided_at": proposal.decided_at, "outcome": proposal.outcome,
            "quorum_bp": proposal.quorum_bp, "threshold_bp": proposal.threshold_bp,
            "is_voting_open": voting.is_voting_open(proposal, g.api_now)}


def _vote_body(vote: Vote) -> dict:
    return {"id": vote.id, "proposal_id": vote.proposal_id,
            "membership_id": vote.membership_id, "name": vote.membership.user.name,
            "choice": str(vote.choice), "reason": vote.reason, "cast_at": vote.cast_at}


def proposal_with_votes(proposal_id: int) -> Proposal:
    """The collective's proposal with its votes and their voters loaded (a tally reads
    each voter's status), or a 404."""
    proposal = db.session.scalar(
        sa.select(Proposal).where(Proposal.id == proposal_id,
                                  Proposal.collective_id == g.collective.id)
        .options(so.selectinload(Proposal.votes).joinedload(Vote.membership)
                 .joinedload(Membership.user)))
    if proposal is None:
        raise NotFound("no such proposal in this collective")
    return proposal


def proposal_detail(proposal: Proposal) -> dict:
    """A proposal with its tally and the caller's vote."""
    tally = voting.tally(proposal)
    mine = next((v for v in proposal.votes if v.membership_id == g.membership.id), None)
    return {**proposal_body(proposal),
            "tally": {"agree": tally.agree, "abstain": tally.abstain,
                      "disagree": tally.disagree, "block": tally.block,
                      "eligible": tally.eligible, "quorum_met": tally.quorum_met,
                      "threshold_met": tally.threshold_met,
                      "would_be": str(tally.status)},
            "my_vote": _vote_body(mine) if mine else None,
            "may_vote": voting.may_vote(g.membership, proposal)}


# --- Share rules -------------------------------------------------------------------------

def terms_versions(model: type, list_name: str, args: dict, body: Callable) -> dict:
    """A page of the versions of a collective's terms (share rules, benefit plans), in
    order, filtered by the day each took effect."""
    query = sa.select(model).where(model.collective_id == g.collective.id,
                                   *day_range(model.effective_on, args))
    return page_body(page_of(query, model.id, list_name, args, convert=body))


def _rule_body(in_force_id: int | None):
    def body(rule: ShareRule) -> dict:
        return {"id": rule.id, "version": rule.version, "effective_on": rule.effective_on,
                "common_fund_bp": rule.common_fund_bp, "finder_fee_bp": rule.finder_fee_bp,
                "method": str(rule.method), "proposal_id": rule.proposal_id,
                "is_in_force": rule.id == in_force_id, "created_at": rule.created_at}
    return body


def _rule_in_force_id() -> int | None:
    rule = share_rules.rule_in_force(g.collective.id, g.today)
    return rule.id if rule else None


@blp.route("/collectives/<slug>/share-rules")
@scoped()
@blp.arguments(DatedPageArgs, location="query")
@blp.response(200, ShareRulePage)
def share_rule_list(args: dict):
    """Every version of the share rule, oldest first; `since` and `until` filter by the day
    each took effect. A rule changes only by a proposal (POST .../share-rules/proposals)."""
    return terms_versions(ShareRule, "share-rules", args, _rule_body(_rule_in_force_id()))


@blp.route("/collectives/<slug>/share-rules/<int:rule_id>")
@scoped()
@blp.response(200, ShareRuleOut)
def share_rule(rule_id: int):
    """One version of the share rule."""
    return _rule_body(_rule_in_force_id())(one_of_ours(ShareRule, rule_id, "share rule"))


@blp.route("/collectives/<slug>/share-rules/proposals", methods=["POST"])
@scoped()
@blp.arguments(ShareRuleProposalIn)
@blp.response(201, ProposalDetailOut)
def propose_share_rule(data: dict):
    """Put a new share rule to the members' vote (any active member, or coordinators and
    treasurers only, as the collective's settings say)."""

    def propose():
        terms = share_rules.terms_from(data["common_fund_bp"], data["finder_fee_bp"],
                                       data["method"])
        made = share_rules.propose_share_rule(
            g.membership, terms, effective_on=data["effective_on"], title=data["title"],
            description=data["description"], deadline_at=data["deadline_at"],
            today=g.today, now=g.api_now)
        return ProposalDetailOut().dump(proposal_detail(proposal_with_votes(made.id))), 201

    return written(propose)


# --- Proposals and votes -----------------------------------------------------------------

@blp.route("/collectives/<slug>/proposals")
@scoped()
@blp.arguments(ProposalArgs, location="query")
@blp.response(200, ProposalPage)
def proposal_list(args: dict):
    """The collective's proposals; filter by `status`, `kind`, and the day each was
    opened. Proposals past their deadline stay open until the scheduler decides them."""
    query = sa.select(Proposal).where(
        Proposal.collective_id == g.collective.id,
        *day_range(Proposal.created_at, args, g.collective.timezone))
    if args.get("status"):
        query = query.where(Proposal.status == args["status"])
    if args.get("kind"):
        query = query.where(Proposal.kind == args["kind"])
    return page_body(page_of(query, Proposal.id, "proposals", args, convert=proposal_body))


@blp.route("/collectives/<slug>/proposals/<int:proposal_id>")
@scoped()
@blp.response(200, ProposalDetailOut)
def proposal(proposal_id: int):
    """One proposal, with the tally so far and the caller's own vote."""
    return proposal_detail(proposal_with_votes(proposal_id))


@blp.route("/collectives/<slug>/proposals/<int:proposal_id>/votes")
@scoped()
@blp.arguments(VoteArgs, location="query")
@blp.response(200, VotePage)
def vote_list(args: dict, proposal_id: int):
    """The votes on a proposal, as its page shows them; filter by `choice`, and by the day
    each was last cast."""
    item = voting.get_proposal(g.collective.id, proposal_id)
    query = (sa.select(Vote)
             .where(Vote.proposal_id == item.id,
                    *day_range(Vote.cast_at, args, g.collective.timezone))
             .options(so.joinedload(Vote.membership).joinedload(Membership.user)))
    if args.get("choice"):
        query = query.where(Vote.choice == args["choice"])
    return page_body(page_of(query, Vote.id, "votes", args, convert=_vote_body))


@blp.route("/collectives/<slug>/proposals/<int:proposal_id>/vote", methods=["PUT"])
@scoped()
@blp.arguments(VoteIn)
@blp.response(200, VoteOut)
def cast_vote(data: dict, proposal_id: int):
    """Cast the caller's vote, or change it, while voting is open; a proposal that has
    closed (decided, withdrawn, or past its deadline) is a 409."""

    def vote():
        item = voting.get_proposal(g.collective.id, proposal_id)
        cast = voting.cast_vote(g.membership, item, data["choice"], data["reason"],
                                now=g.api_now)
        return VoteOut().dump(_vote_body(cast)), 200

    return written(vote)


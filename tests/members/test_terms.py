"""Share rules and benefit plans are one mechanism: terms, versioned and adopted by a vote."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from collective.benefits.compute import PlanTerms
from collective.benefits.plans import BENEFIT_PLANS, plan_terms
from collective.demo.fund import BREAD_FUND
from collective.errors import Conflict, NotAllowed
from collective.members import proposals, terms
from collective.members.models import ProposalStatus, Role, VoteChoice
from collective.pool.compute import RuleTerms
from collective.pool.rules import SHARE_RULES, rule_terms
from tests.factories import make_collective, make_member

TODAY = date(2026, 10, 14)
NOW = datetime(2026, 10, 14, 9, tzinfo=UTC)

#: How each kind reads a stored version's terms back.
TERMS_OF = {SHARE_RULES.proposal_kind: rule_terms, BENEFIT_PLANS.proposal_kind: plan_terms}

KINDS = {
    "share rule": (SHARE_RULES, RuleTerms(1000, 500, "hours"), RuleTerms(800, 500, "weights"),
                   date(2026, 10, 14)),   # a rule applies from the day of the decision
    "benefit plan": (BENEFIT_PLANS, PlanTerms.from_json(BREAD_FUND),
                     PlanTerms.from_json({**BREAD_FUND, "reserve_cap_months": 24}),
                     date(2026, 11, 1)),  # a plan from the month after the decision
}


@pytest.fixture(params=list(KINDS))
def kind(request):
    return KINDS[request.param]


def test_both_kinds_are_registered_with_the_vote_through_the_one_mechanism(app):
    for terms_kind, *_ in KINDS.values():
        assert proposals.ADOPTERS[terms_kind.proposal_kind] == terms_kind.adopt
    assert isinstance(SHARE_RULES, terms.TermsKind) and isinstance(BENEFIT_PLANS, terms.TermsKind)


def test_founding_once_then_a_vote_adopts_version_two_from_its_start(ctx, kind):
    terms_kind, founding, changed, adopted_from = kind
    founder = make_collective()
    founder.collective.quorum_bp = 0
    first = terms_kind.set_founding(founder, founding, date(2026, 9, 1), today=TODAY)
    assert (first.version, first.effective_on, first.proposal_id) == (1, date(2026, 9, 1), None)
    with pytest.raises(Conflict, match=f"already has a {terms_kind.noun}"):
        terms_kind.set_founding(founder, founding, date(2026, 9, 1), today=TODAY)

    proposal = terms_kind.propose(founder, changed, effective_on=date(2026, 10, 1),
                                  today=TODAY, now=NOW - timedelta(days=7))
    assert terms_kind.proposed(proposal) == changed
    proposals.cast_vote(founder, proposal, VoteChoice.AGREE, now=NOW - timedelta(days=6))
    proposal.deadline_at = NOW - timedelta(hours=1)
    assert proposals.decide_proposal(proposal, NOW)
    assert proposal.status == ProposalStatus.ADOPTED

    second = terms_kind.in_force(founder.collective_id, adopted_from)
    assert (second.version, second.effective_on, second.proposal_id) == (
        2, adopted_from, proposal.id)
    assert TERMS_OF[terms_kind.proposal_kind](second) == changed
    assert terms_kind.in_force(founder.collective_id, adopted_from - timedelta(days=1)) == first
    assert [v.version for v in terms_kind.versions(founder.collective_id)] == [2, 1]


def test_only_the_role_the_kind_names_may_found_or_propose(ctx, kind):
    terms_kind, founding, *_ = kind
    founder = make_collective()
    # Share rules are open to every member's proposal unless the collective keeps them to
    # coordinators and treasurers, as here.
    founder.collective.is_rule_proposing_open = False
    member = make_member(founder.collective, roles=(Role.MEMBER,))
    with pytest.raises(NotAllowed):
        terms_kind.set_founding(member, founding, date(2026, 10, 1), today=TODAY)
    with pytest.raises(NotAllowed):
        terms_kind.propose(member, founding, effective_on=date(2026, 11, 1), today=TODAY,
                           now=NOW)
    assert terms_kind.versions(founder.collective_id) == []


#: 00:30 on 1 December in Manila; still 30 November in UTC.
MANILA_FIRST_OF_DECEMBER = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)


@pytest.mark.parametrize(("name", "adopted_from"), [("share rule", date(2026, 12, 1)),
                                                   ("benefit plan", date(2027, 1, 1))])
def test_a_vote_decided_after_midnight_in_manila_counts_the_day_in_manila(ctx, name,
                                                                          adopted_from):
    terms_kind, founding, changed, _ = KINDS[name]
    founder = make_collective()
    founder.collective.timezone = "Asia/Manila"
    founder.collective.quorum_bp = 0
    terms_kind.set_founding(founder, founding, date(2026, 9, 1), today=TODAY)
    proposal = terms_kind.propose(founder, changed, effective_on=date(2026, 11, 1),
                                  today=date(2026, 11, 20), now=NOW + timedelta(days=37))
    proposals.cast_vote(founder, proposal, VoteChoice.AGREE, now=NOW + timedelta(days=38))
    proposal.deadline_at = MANILA_FIRST_OF_DECEMBER - timedelta(minutes=1)

    assert proposals.decide_proposal(proposal, MANILA_FIRST_OF_DECEMBER)

    # Decided on 1 December in Manila: a rule from that day, a plan from the next month.
    adopted = terms_kind.versions(founder.collective_id)[0]
    assert (adopted.version, adopted.effective_on) == (2, adopted_from)

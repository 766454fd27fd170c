"""Share rules decided by vote: thresholds, quorum, blocks, deadlines and the rule preview."""
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from collective.errors import DomainError, NotAllowed, NotFound
from collective.extensions import db
from collective.members import proposals
from collective.members import services as members
from collective.members.models import (
    Membership,
    MembershipStatus,
    Proposal,
    Role,
    Vote,
    VoteChoice,
)
from collective.pool import payments, rules
from collective.pool.models import PitchState, ShareRule
from tests.factories import make_collective, make_member
from tests.pool.factories import allocate, found_rule, log, make_pitch, move_to

AGREE, DISAGREE, ABSTAIN, BLOCK = (VoteChoice.AGREE, VoteChoice.DISAGREE, VoteChoice.ABSTAIN,
                                   VoteChoice.BLOCK)
OPENED = datetime(2026, 10, 10, 9, 0, tzinfo=UTC)
DEADLINE = datetime(2026, 10, 17, 9, 0, tzinfo=UTC)
DURING = datetime(2026, 10, 12, 15, 30, tzinfo=UTC)
AFTER = DEADLINE + timedelta(minutes=1)
PROPOSED = rules.terms_from(2000, 0, "equal")


def _collective(size: int) -> list[Membership]:
    """A collective of `size` members; the first is the founder (every role)."""
    founder = make_collective()
    return [founder] + [make_member(founder.collective) for _ in range(size - 1)]


def _propose(treasurer: Membership, effective_on: date = date(2026, 11, 1)) -> Proposal:
    return rules.propose_share_rule(treasurer, PROPOSED, effective_on=effective_on,
                                    deadline_at=DEADLINE, today=OPENED.date(), now=OPENED)


def _vote(voters, proposal, *choices):
    for voter, choice in zip(voters, choices, strict=False):
        proposals.cast_vote(voter, proposal, choice, now=DURING)


def _rules(collective_id: int) -> list[ShareRule]:
    return list(db.session.scalars(sa.select(ShareRule).filter_by(collective_id=collective_id)))


@pytest.fixture
def five(ctx) -> list[Membership]:
    return _collective(5)


def test_a_treasurer_proposes_a_share_rule_for_the_collective_to_vote_on(five):
    proposal = _propose(five[0])

    assert (proposal.kind, proposal.status, proposal.created_by_id) == (
        "share_rule", "open", five[0].id)
    assert proposal.payload == {"common_fund_bp": 2000, "finder_fee_bp": 0, "method": "equal",
                                "effective_on": "2026-11-01"}
    assert (proposal.quorum_bp, proposal.threshold_bp) == (5000, 5000)
    assert proposal.title == ("Share rule: 20% common fund, 0% finder's fee, "
                              "the rest equally")
    assert rules.proposal_terms(proposal) == PROPOSED


def test_three_agree_and_two_disagree_of_five_adopts_the_rule(five):
    proposal = _propose(five[0])
    _vote(five, proposal, AGREE, AGREE, AGREE, DISAGREE, DISAGREE)

    assert proposals.close_due_proposals(five[0].collective_id, now=AFTER) == [proposal]

    assert proposal.status == "adopted"
    assert proposal.outcome.startswith("Adopted: 3 agree, 2 disagree, 0 abstain, 0 block; "
                                       "5 of 5 members voted")
    assert proposal.decided_at == AFTER
    [rule] = _rules(five[0].collective_id)
    assert (rule.common_fund_bp, rule.finder_fee_bp, rule.method) == (2000, 0, "equal")
    assert (rule.proposal_id, rule.effective_on, rule.version) == (
        proposal.id, date(2026, 11, 1), 1)


def test_two_agree_and_two_disagree_is_rejected(five):
    proposal = _propose(five[0])
    _vote(five, proposal, AGREE, AGREE, DISAGREE, DISAGREE)

    proposals.close_due_proposals(five[0].collective_id, now=AFTER)

    assert proposal.status == "rejected"
    assert proposal.outcome.startswith("Not enough agreement")
    assert _rules(five[0].collective_id) == []


def test_abstentions_count_for_quorum_but_not_for_agreement(five):
    proposal = _propose(five[0])
    _vote(five, proposal, AGREE, ABSTAIN, ABSTAIN)

    proposals.close_due_proposals(five[0].collective_id, now=AFTER)

    assert proposal.status == "adopted"
    assert len(_rules(five[0].collective_id)) == 1


@pytest.mark.parametrize(("voting", "status", "outcome"),
                         [(5, "rejected", "No quorum"), (6, "adopted", "Adopted")])
def test_more_than_half_of_the_members_must_vote(ctx, voting, status, outcome):
    ten = _collective(10)
    proposal = _propose(ten[0])
    _vote(ten, proposal, *[AGREE] * voting)

    proposals.close_due_proposals(ten[0].collective_id, now=AFTER)

    assert proposal.status == status
    assert proposal.outcome.startswith(outcome)
    assert f"{voting} of 10 members voted" in proposal.outcome
    assert len(_rules(ten[0].collective_id)) == (status == "adopted")


def test_paused_members_still_count_towards_quorum(ctx):
    four = _collective(4)
    members.set_status(four[0], four[3], "paused")
    proposal = _propose(four[0])
    _vote(four, proposal, AGREE, AGREE)               # 2 of 4 is not more than half

    proposals.close_due_proposals(four[0].collective_id, now=AFTER)

    assert proposal.status == "rejected"
    assert "2 of 4 members voted" in proposal.outcome


def test_the_vote_of_a_member_removed_before_the_deadline_no_longer_counts(five):
    proposal = _propose(five[0])
    _vote(five, proposal, AGREE, AGREE, DISAGREE)
    members.set_status(five[0], five[1], "removed")

    proposals.close_due_proposals(five[0].collective_id, now=AFTER)

    # 2 of the 4 remaining members voted: not more than half.
    assert proposal.status == "rejected"
    assert "2 of 4 members voted" in proposal.outcome


def test_a_single_block_stops_the_rule(five):
    proposal = _propose(five[0])
    _vote(five, proposal, AGREE, AGREE, AGREE, AGREE, BLOCK)

    proposals.close_due_proposals(five[0].collective_id, now=AFTER)

    assert proposal.status == "blocked"
    assert proposal.outcome.startswith("Blocked: 4 agree")
    assert _rules(five[0].collective_id) == []


def test_changing_a_vote_before_the_deadline_replaces_it(five):
    proposal = _propose(five[0])
    first = proposals.cast_vote(five[1], proposal, AGREE, reason="fair", now=DURING)

    again = proposals.cast_vote(five[1], proposal, "block", reason="too much for the fund",
                                now=DURING + timedelta(days=1))

    assert again.id == first.id
    votes = db.session.scalars(sa.select(Vote).filter_by(proposal_id=proposal.id)).all()
    assert [(v.membership_id, v.choice, v.reason) for v in votes] == [
        (five[1].id, "block", "too much for the fund")]
    assert proposals.tally(proposal).block == 1


@pytest.mark.parametrize("when", [DEADLINE, AFTER, DEADLINE + timedelta(days=30)])
def test_voting_at_or_after_the_deadline_is_refused(five, when):
    proposal = _propose(five[0])

    with pytest.raises(DomainError, match="closed") as refused:
        proposals.cast_vote(five[1], proposal, AGREE, now=when)

    assert refused.value.field == "choice"
    assert proposal.votes == []


def test_voting_on_a_decided_proposal_is_refused(five):
    proposal = _propose(five[0])
    proposals.close_due_proposals(five[0].collective_id, now=AFTER)

    with pytest.raises(DomainError, match="closed"):
        proposals.cast_vote(five[1], proposal, AGREE, now=DURING)


def test_an_unknown_choice_is_refused(five):
    proposal = _propose(five[0])

    with pytest.raises(DomainError, match="not a vote") as refused:
        proposals.cast_vote(five[1], proposal, "maybe", now=DURING)

    assert refused.value.field == "choice"


def test_a_member_of_another_collective_cannot_vote(five):
    proposal = _propose(five[0])
    outsider = make_member(make_collective().collective)

    with pytest.raises(NotFound):
        proposals.cast_vote(outsider, proposal, AGREE, now=DURING)

    assert proposal.votes == []


def test_every_member_may_propose_a_share_rule_by_default(five):
    assert five[0].collective.is_rule_proposing_open is True

    proposal = _propose(five[1])

    assert (proposal.kind, proposal.created_by_id) == ("share_rule", five[1].id)


def test_a_collective_can_keep_proposals_to_coordinators_and_treasurers(five):
    members.set_rule_proposers(five[0], every_member=False)
    coordinator = make_member(five[0].collective, roles=(Role.MEMBER, Role.COORDINATOR))

    with pytest.raises(NotAllowed, match="coordinator or treasurer"):
        _propose(five[1])
    assert rules.may_propose_rule(five[1]) is False
    assert db.session.scalar(sa.select(sa.func.count(Proposal.id))
                             .filter_by(collective_id=five[0].collective_id)) == 0
    assert _propose(coordinator).created_by_id == coordinator.id
    assert _propose(five[0]).created_by_id == five[0].id


def test_a_paused_member_may_not_propose_a_share_rule(five):
    members.set_status(five[0], five[1], MembershipStatus.PAUSED, "leave")

    with pytest.raises(NotAllowed, match="active member"):
        _propose(five[1])


def test_only_a_treasurer_changes_who_may_propose(five):
    with pytest.raises(NotAllowed, match="treasurer"):
        members.set_rule_proposers(five[1], every_member=False)

    assert five[0].collective.is_rule_proposing_open is True


def test_a_rule_cannot_be_proposed_to_start_more_than_two_years_ahead(five):
    with pytest.raises(DomainError) as refused:
        _propose(five[0], effective_on=date(2028, 11, 1))

    assert refused.value.field == "effective_on"


def test_a_proposal_is_not_decided_before_its_deadline(five):
    proposal = _propose(five[0])
    _vote(five, proposal, AGREE, AGREE, AGREE)

    assert proposals.decide_proposal(proposal, now=DEADLINE - timedelta(seconds=1)) is False
    assert proposals.close_due_proposals(five[0].collective_id, now=DURING) == []

    assert proposal.status == "open"
    assert _rules(five[0].collective_id) == []


def test_deciding_twice_adopts_once(five):
    proposal = _propose(five[0])
    _vote(five, proposal, AGREE, AGREE, AGREE)

    assert proposals.decide_proposal(proposal, now=AFTER) is True
    assert proposals.decide_proposal(proposal, now=AFTER) is False
    assert proposals.close_due_proposals(now=AFTER + timedelta(days=1)) == []

    assert len(_rules(five[0].collective_id)) == 1


def test_a_second_process_holding_a_stale_copy_does_not_adopt_again(five):
    proposal = _propose(five[0])
    _vote(five, proposal, AGREE, AGREE, AGREE)
    proposals.decide_proposal(proposal, now=AFTER)
    # Another worker read the proposal while it was still open.
    set_committed_value(proposal, "status", "open")

    assert proposals.decide_proposal(proposal, now=AFTER) is False

    assert len(_rules(five[0].collective_id)) == 1


def test_a_rule_adopted_after_its_proposed_date_starts_on_the_decision(five):
    proposal = _propose(five[0], effective_on=date(2026, 10, 12))
    _vote(five, proposal, AGREE, AGREE, AGREE)

    proposals.close_due_proposals(five[0].collective_id, now=AFTER)

    [rule] = _rules(five[0].collective_id)
    assert rule.effective_on == DEADLINE.date()


def test_an_adopted_rule_follows_the_founding_rule_as_version_two(five):
    found_rule(five[0])
    proposal = _propose(five[0])
    _vote(five, proposal, AGREE, AGREE, AGREE)

    proposals.close_due_proposals(five[0].collective_id, now=AFTER)

    cid = five[0].collective_id
    assert [r.version for r in rules.rules_of(cid)] == [2, 1]
    assert [r.version for r in rules.rules_of(cid, limit=1)] == [2]  # the page's latest
    assert rules.rule_in_force(cid, date(2026, 10, 31)).version == 1
    assert rules.rule_in_force(cid, date(2026, 11, 1)).version == 2
    assert rules.rule_in_force(cid, date(2025, 12, 31)) is None


# --- Previewing a proposed rule ---------------------------------------------------------


def test_preview_shows_each_member_now_and_under_the_proposal(five):
    founder, ann, bob, cat, _ = five
    found_rule(founder)                                # 10% fund, 5% finder, rest by hours
    pitch = move_to(founder, make_pitch(founder, finder=cat), PitchState.WON)
    log(ann, allocate(founder, pitch, ann), 180)
    log(bob, allocate(founder, pitch, bob), 60)
    for amount, on in ((10_000, date(2026, 10, 5)), (6_000, date(2026, 10, 8))):
        payments.record_payment(founder, pitch, amount=amount, currency="USD",
                                received_on=on, today=date(2026, 10, 10))
    mistaken = payments.record_payment(founder, pitch, amount=99_999, currency="USD",
                                       received_on=date(2026, 10, 9),
                                       today=date(2026, 10, 10))
    payments.reverse_payment(founder, mistaken)
    # Older than 90 days before the preview: left out.
    payments.record_payment(founder, pitch, amount=50_000, currency="USD",
                            received_on=date(2026, 7, 1), today=date(2026, 10, 10))

    table = rules.preview_rule(founder.collective_id, PROPOSED, today=date(2026, 10, 10))

    rows = {r.membership_id: (r.name, r.current, r.proposed, r.difference)
            for r in table.itertuples(index=False)}
    assert rows == {
        0: ("Common fund", 1600, 3200, 1600),
        # The first payment used every hour, so the second (5,100 to the members) finds no
        # unpaid hours and is split by the weights, 1:1.
        ann.id: (ann.user.name, 8925, 6400, -2525),     # 6,375 + 2,550
        bob.id: (bob.user.name, 4675, 6400, 1725),      # 2,125 + 2,550
        cat.id: (cat.user.name, 800, 0, -800),          # the finder's fee
    }
    assert table["current"].sum() == table["proposed"].sum() == 16_000
    assert list(table["membership_id"]) == sorted(rows)


def test_preview_without_payments_is_empty(five):
    found_rule(five[0])

    table = rules.preview_rule(five[0].collective_id, PROPOSED, today=date(2026, 10, 10))

    assert table.empty

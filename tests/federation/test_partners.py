"""Issue 15, partners between collectives: a federation needs each side's own vote, one
live federation per pair, and leaving (no vote: a coordinator's explicit act) stops the
sharing at once and is recorded."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from collective.errors import Conflict, DomainError, NotAllowed, NotFound
from collective.extensions import db
from collective.federation import partners, search, sharing
from collective.federation.models import Federation, FederationStatus, ShareStatus
from collective.members.models import ProposalStatus, Role, Skill
from collective.pool import time
from collective.pool.models import PitchState, TimeEntry
from tests.factories import make_collective, make_member
from tests.federation.factories import federate, own_proposal, pass_vote, share
from tests.pool.factories import NOW, TODAY, allocate, make_pitch, move_to


@pytest.fixture
def pair(ctx):
    """Two collectives, each run by its founder (coordinator, treasurer, member)."""
    return make_collective(), make_collective()


def test_a_federation_is_active_only_when_both_collectives_voted_for_it(pair):
    a, b = pair
    federation = partners.propose_federation(a, b.collective.slug, now=NOW)
    assert federation.status == FederationStatus.PROPOSED
    assert own_proposal(federation, a).kind == "federation"

    pass_vote(a, own_proposal(federation, a))
    assert federation.agreed_at(a.collective_id) is not None
    assert federation.status == FederationStatus.PROPOSED   # B has not voted
    with pytest.raises(NotFound):
        search.search_partner_members(a, federation)

    proposal = partners.put_request_to_vote(b, federation, now=NOW)
    assert proposal.collective_id == b.collective_id
    pass_vote(b, proposal)
    assert federation.status == FederationStatus.ACTIVE
    assert federation.active_since is not None
    assert partners.active_federation(b.collective_id, a.collective_id) is federation


def test_the_asked_collectives_vote_against_declines_the_federation(pair):
    a, b = pair
    federation = partners.propose_federation(a, b.collective.slug, now=NOW)
    pass_vote(a, own_proposal(federation, a))
    pass_vote(b, partners.put_request_to_vote(b, federation, now=NOW), "disagree")
    assert federation.status == FederationStatus.DECLINED
    assert partners.live_federation(a.collective_id, b.collective_id) is None
    # A new request may follow.
    again = partners.propose_federation(b, a.collective.slug, now=NOW)
    assert again.id != federation.id


def test_one_live_federation_per_pair_whoever_asks(pair):
    a, b = pair
    partners.propose_federation(a, b.collective.slug, now=NOW)
    with pytest.raises(Conflict):
        partners.propose_federation(b, a.collective.slug, now=NOW)
    low, high = sorted((a.collective_id, b.collective_id))
    # The database refuses it too.
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        db.session.add(Federation(low_collective_id=low, high_collective_id=high,
                                  requested_by_collective_id=low, status="active",
                                  created_at=NOW))
        db.session.flush()


def test_proposing_needs_a_coordinator_or_treasurer_and_a_real_other_collective(pair):
    a, b = pair
    plain = make_member(a.collective)
    with pytest.raises(NotAllowed):
        partners.propose_federation(plain, b.collective.slug, now=NOW)
    with pytest.raises(NotFound) as unknown:
        partners.propose_federation(a, "no-such-collective", now=NOW)
    assert unknown.value.field == "partner"
    with pytest.raises(DomainError):
        partners.propose_federation(a, a.collective.slug, now=NOW)


@pytest.fixture
def shared_world(pair):
    """A and B are partners; A's won pitch is shared with B (33.33%) and B's Zoe is on it."""
    a, b = pair
    federation = federate(a, b)
    zoe = make_member(b.collective, hours=30)
    pitch = make_pitch(a)
    move_to(a, pitch, PitchState.WON)
    allocate(a, pitch, a)
    shared = share(a, b, federation, pitch)
    sharing.allocate_partner_member(a, shared, membership_id=zoe.id, weekly_hours=5,
                                    now=NOW)
    return a, b, federation, pitch, shared, zoe


def test_leaving_stops_every_kind_of_sharing_at_once_and_is_recorded(shared_world):
    a, b, federation, pitch, shared, zoe = shared_world
    yan = make_member(b.collective)
    other_pitch = make_pitch(a)
    offered = sharing.propose_sharing(a, other_pitch, federation_id=federation.id,
                                      partner_bp=5000, now=NOW)
    assert partners.partner_ids(a.collective_id) == [b.collective_id]
    assert partners.partner_ids(b.collective_id) == [a.collective_id]

    logged = sharing.log_partner_time(zoe, shared, worked_on=TODAY, minutes=45, today=TODAY)

    partners.leave_federation(b, federation, reason="we are full", now=NOW)

    assert partners.partner_ids(a.collective_id) == partners.partner_ids(b.collective_id) == []

    assert federation.status == FederationStatus.LEFT
    assert (federation.left_at, federation.left_by_id, federation.left_by_collective_id,
            federation.leave_reason) == (NOW, b.user_id, b.collective_id, "we are full")
    assert offered.status == ShareStatus.WITHDRAWN   # unanswered offers go
    with pytest.raises(NotFound):                     # no search
        search.search_partner_members(a, federation)
    with pytest.raises(NotFound):                     # no new shared pitch
        sharing.propose_sharing(a, make_pitch(a), federation_id=federation.id,
                                partner_bp=1000, now=NOW)
    with pytest.raises(DomainError, match="ended"):  # no new allocation on the shared one
        sharing.allocate_partner_member(a, shared, membership_id=yan.id, now=NOW)
    with pytest.raises(DomainError, match="ended"):  # no new hours
        sharing.log_partner_time(zoe, shared, worked_on=TODAY, minutes=60, today=TODAY)
    with pytest.raises(DomainError, match="ended"):  # nor changed or deleted: they stay
        time.edit_time_entry(zoe, logged, worked_on=TODAY, minutes=30, today=TODAY)
    with pytest.raises(DomainError, match="ended"):
        time.delete_time_entry(zoe, logged)
    assert db.session.get(TimeEntry, logged.id).minutes == 45
    with pytest.raises(DomainError):                 # and it cannot be left twice
        partners.leave_federation(a, federation, now=NOW)


def test_leaving_a_proposed_federation_withdraws_the_open_vote(pair):
    a, b = pair
    federation = partners.propose_federation(a, b.collective.slug, now=NOW)
    partners.leave_federation(a, federation, now=NOW)
    assert own_proposal(federation, a).status == ProposalStatus.WITHDRAWN
    assert federation.status == FederationStatus.LEFT


def test_leaving_needs_a_coordinator_of_one_side(shared_world):
    a, b, federation, *_ = shared_world
    treasurer_only = make_member(b.collective, roles=(Role.MEMBER, Role.TREASURER))
    with pytest.raises(NotAllowed):
        partners.leave_federation(treasurer_only, federation, now=NOW)
    stranger = make_collective()
    with pytest.raises(NotFound):
        partners.leave_federation(stranger, federation, now=NOW)


def test_the_search_shows_partner_members_by_skill_and_free_hours(shared_world):
    a, b, federation, pitch, shared, zoe = shared_world
    yan = make_member(b.collective, hours=10)
    paused = make_member(b.collective, hours=40)
    paused.status = "paused"
    db.session.add_all([Skill(user_id=zoe.user_id, name="bookkeeping", level=4),
                        Skill(user_id=zoe.user_id, name="tax prep", level=2),
                        Skill(user_id=yan.user_id, name="bookkeeping", level=2),
                        Skill(user_id=paused.user_id, name="bookkeeping", level=5)])
    db.session.flush()

    # Zoe delivered 150 minutes of bookkeeping on two of B's own pitches (the evidence).
    from collective.pool.evidence.models import SkillCredit
    for minutes in (100, 50):
        db.session.add(SkillCredit(collective_id=b.collective_id, membership_id=zoe.id,
                                   pitch_id=make_pitch(b).id, skill="bookkeeping",
                                   minutes=minutes))
    db.session.flush()

    found, more = search.search_partner_members(a, federation, skill="Bookkeeping")
    assert not more
    # Zoe: 30 h capacity less 5 h on the shared (won) pitch; paused members are left out.
    assert [(m.name, m.skills, m.free_hours, m.delivered) for m in found] == [
        (zoe.user.name, [("bookkeeping", 4), ("tax prep", 2)], 25, {"bookkeeping": 2}),
        (yan.user.name, [("bookkeeping", 2)], 10, {})]
    found, _ = search.search_partner_members(a, federation, skill="bookkeeping",
                                             min_level=3)
    assert [m.membership_id for m in found] == [zoe.id]
    found, _ = search.search_partner_members(a, federation, min_free_hours=26)
    assert found == []   # B's founder has 0 hours, Zoe 25, Yan 10
    plain = make_member(a.collective)
    with pytest.raises(NotAllowed):
        search.search_partner_members(plain, federation)


def test_nothing_of_a_partnership_is_visible_to_a_third_collective(shared_world):
    a, b, federation, pitch, shared, zoe = shared_world
    stranger = make_collective()
    with pytest.raises(NotFound):
        partners.get_federation(stranger.collective_id, federation.id)
    with pytest.raises(NotFound):
        sharing.get_shared(stranger.collective_id, shared.id)
    with pytest.raises(NotFound):
        search.search_partner_members(stranger, federation)
    # And the partner reaches only the shared pitch, not the host's other members.
    host_member = make_member(a.collective)
    with pytest.raises(NotFound):
        sharing.allocate_partner_member(b, shared, membership_id=host_member.id, now=NOW)


def test_a_partner_member_logs_time_only_on_their_own_part(shared_world):
    a, b, federation, pitch, shared, zoe = shared_world
    entry = sharing.log_partner_time(zoe, shared, worked_on=TODAY, minutes=90, today=TODAY)
    assert entry.minutes == 90 and entry.membership_id == zoe.id
    yan = make_member(b.collective)
    with pytest.raises(NotFound):   # not allocated
        sharing.log_partner_time(yan, shared, worked_on=TODAY, minutes=60, today=TODAY)
    with pytest.raises(NotFound):   # the host's members use the host's own pages
        sharing.log_partner_time(a, shared, worked_on=TODAY, minutes=60, today=TODAY)
    assert [row[1:] for row in sharing.partner_team(shared)] == [(zoe.user.name, 1, 5, 90)]


def test_a_shared_pitch_needs_the_partners_acceptance_and_a_valid_split(pair):
    a, b = pair
    federation = federate(a, b)
    pitch = make_pitch(a)
    with pytest.raises(DomainError) as bad:
        sharing.propose_sharing(a, pitch, federation_id=federation.id, partner_bp=10_001,
                                now=NOW)
    assert bad.value.field == "partner_bp"
    offered = sharing.propose_sharing(a, pitch, federation_id=federation.id,
                                      partner_bp=2500, role="supplier", now=NOW)
    with pytest.raises(Conflict):
        sharing.propose_sharing(a, pitch, federation_id=federation.id, partner_bp=100,
                                now=NOW)
    zoe = make_member(b.collective)
    move_to(a, pitch, PitchState.WON)
    with pytest.raises(DomainError, match="not accepted"):
        sharing.allocate_partner_member(a, offered, membership_id=zoe.id, now=NOW)
    with pytest.raises(NotFound):   # the host cannot accept its own offer
        sharing.answer_sharing(a, offered, accept=True, now=NOW)
    sharing.answer_sharing(b, offered, accept=True, now=NOW)
    assert offered.is_accepted and offered.role == "supplier"


def test_a_pitch_is_shared_only_between_collectives_of_one_currency(ctx):
    a, b = make_collective(currency="USD"), make_collective(currency="EUR")
    federation = federate(a, b)
    with pytest.raises(DomainError, match="same base currency"):
        sharing.propose_sharing(a, make_pitch(a), federation_id=federation.id,
                                partner_bp=5000, now=NOW)


def test_the_partner_members_own_work_page_takes_no_hours_once_the_partnership_ended(
        shared_world):
    from collective.pool import time
    a, b, federation, pitch, shared, zoe = shared_world
    placed = time.get_allocation(zoe, pitch.allocations[-1].id)
    assert time.log_time(zoe, placed, worked_on=TODAY, minutes=30, today=TODAY).minutes == 30
    partners.leave_federation(a, federation, now=NOW)
    with pytest.raises(DomainError, match="ended"):
        time.log_time(zoe, placed, worked_on=TODAY, minutes=30, today=TODAY)


def test_time_on_another_collectives_pitch_needs_a_sharing(pair):
    from collective.pool import time
    from collective.pool.models import Allocation
    a, b = pair
    pitch = make_pitch(a)
    move_to(a, pitch, PitchState.WON)
    stray = Allocation(pitch_id=pitch.id, membership_id=b.id)   # as a bad row would be
    db.session.add(stray)
    db.session.flush()
    with pytest.raises(NotFound):
        time.log_time(b, stray, worked_on=TODAY, minutes=30, today=TODAY)


def test_a_deadline_reminder_links_a_partner_member_to_the_shared_pitch_in_their_own_collective(
        shared_world):
    from collective.notifications.models import Notification
    from collective.pool import notices
    a, b, federation, pitch, shared, zoe = shared_world
    pitch.deadline_on = TODAY + timedelta(days=1)
    db.session.flush()
    assert notices.remind_work_deadlines(a.collective, TODAY) == [pitch]
    links = dict(db.session.execute(
        sa.select(Notification.membership_id, Notification.link)
        .where(Notification.title.like(f"{pitch.title} is due%"))).all())
    assert links == {a.id: f"/c/{a.collective.slug}/pool/pitches/{pitch.id}",
                     zoe.id: f"/c/{b.collective.slug}/partners/shared/{shared.id}"}

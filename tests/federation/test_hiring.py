"""Issue 15, subcontracting: a member who works a pitch asks to hire an active partner as
supplier for part of it; a host coordinator confirms (it is offered to the partner, then
everything is as with a coordinator's own offer) or turns it down; the member may withdraw
it until then. The partner sees nothing of a request until it is confirmed."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from collective.audit.models import AuditEvent
from collective.errors import Conflict, DomainError, NotAllowed, NotFound
from collective.extensions import db
from collective.federation import hiring, partners, sharing
from collective.federation.models import SharedPitch, ShareStatus
from collective.ledger import balances
from collective.ledger import services as ledger
from collective.ledger.models import JournalEntry
from collective.notifications.models import Notification
from collective.pool import payments
from collective.pool.models import PitchState
from tests.factories import make_collective, make_member
from tests.federation.factories import federate
from tests.pool.factories import NOW, TODAY, allocate, found_rule, log, make_pitch, move_to

PAID_ON = date(2026, 10, 5)


@pytest.fixture
def hire_world(ctx):
    """Host H (EUR, 10% fund, 5% finder) and partner P (EUR, 20% fund) are partners. H's
    won pitch has Ann (a plain member) on it; Bob is a member of H not on it; Zoe is P's."""
    host, partner = make_collective(currency="EUR"), make_collective(currency="EUR")
    found_rule(host)
    found_rule(partner, common_fund_bp=2000, finder_fee_bp=0)
    federation = federate(host, partner)
    ann, bob = make_member(host.collective), make_member(host.collective)
    zoe = make_member(partner.collective)
    pitch = make_pitch(host)
    move_to(host, pitch, PitchState.WON)
    allocate(host, pitch, ann)
    return host, partner, federation, pitch, ann, bob, zoe


def _ask(member, pitch, federation, partner_bp=3333, note="The bank reconciliations"):
    return hiring.request_supplier(member, pitch, federation_id=federation.id,
                                   partner_bp=partner_bp, note=note, now=NOW)


def _told(membership) -> list[Notification]:
    """What the member was told about hiring and shared pitches (not the votes before)."""
    return list(db.session.scalars(
        sa.select(Notification).where(Notification.membership_id == membership.id,
                                      sa.or_(Notification.event_key.like("hire-request:%"),
                                             Notification.event_key.like("shared-pitch:%")))
        .order_by(Notification.id)))


def _actions(shared: SharedPitch) -> list[str]:
    return list(db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.subject_type == "shared_pitch",
                                           AuditEvent.subject_id == shared.id)
        .order_by(AuditEvent.id)))


def test_a_member_on_the_pitch_asks_and_only_the_hosts_coordinators_are_told(hire_world):
    host, partner, federation, pitch, ann, bob, zoe = hire_world
    shared = _ask(ann, pitch, federation)
    assert (shared.status, shared.role, shared.requested_by_id, shared.requested_at,
            shared.proposed_by_id, shared.partner_bp, shared.note) == (
        ShareStatus.REQUESTED, "supplier", ann.id, NOW, None, 3333, "The bank reconciliations")
    assert sharing.live_sharing(pitch.id) is shared
    [told] = _told(host)
    assert ann.user.name in told.title and told.link.endswith(f"/partners/shared/{shared.id}")
    assert _told(partner) == []     # nothing reaches the partner yet
    assert _actions(shared) == ["shared_pitch.requested"]
    assert hiring.requests_waiting(host.collective_id) == [shared]
    assert hiring.requests_waiting(partner.collective_id) == []


def test_a_member_not_on_the_pitch_or_not_of_the_host_is_refused(hire_world):
    host, partner, federation, pitch, ann, bob, zoe = hire_world
    with pytest.raises(DomainError, match="allocated") as refused:
        _ask(bob, pitch, federation)
    assert refused.value.field == "federation_id"
    with pytest.raises(DomainError, match="allocated"):   # a coordinator not on it either
        _ask(host, pitch, federation)
    # A partner's member on the pitch (it was shared before) is no member of the host.
    with pytest.raises(NotFound):
        _ask(zoe, pitch, federation)
    stranger = make_collective(currency="EUR")
    with pytest.raises(NotFound):
        _ask(stranger, pitch, federation)
    assert db.session.scalar(sa.select(sa.func.count(SharedPitch.id))) == 0


def test_a_request_needs_a_note_a_valid_part_and_an_active_partner(hire_world):
    host, partner, federation, pitch, ann, bob, zoe = hire_world
    with pytest.raises(DomainError) as no_note:
        _ask(ann, pitch, federation, note="  ")
    assert no_note.value.field == "note"
    with pytest.raises(DomainError) as too_much:
        _ask(ann, pitch, federation, partner_bp=10_001)
    assert too_much.value.field == "partner_bp"
    other = make_collective(currency="EUR")
    with pytest.raises(NotFound):   # a federation of another collective
        _ask(ann, pitch, federate(other, make_collective(currency="EUR")))
    partners.leave_federation(partner, federation, now=NOW)
    with pytest.raises(NotFound):   # a partner that left
        _ask(ann, pitch, federation)


def test_a_request_is_invisible_and_unanswerable_to_the_partner_until_confirmed(hire_world):
    host, partner, federation, pitch, ann, bob, zoe = hire_world
    shared = _ask(ann, pitch, federation)
    with pytest.raises(NotFound):
        sharing.get_shared(partner.collective_id, shared.id)
    with pytest.raises(NotFound):
        sharing.answer_sharing(partner, shared, accept=True, now=NOW)
    with pytest.raises(NotFound):   # nor may the partner confirm it for the host
        hiring.confirm_request(partner, shared, now=NOW)
    assert sharing.sharings_of(federation, partner.collective_id) == []
    assert partners.live_shares(federation, partner.collective_id) == 0
    assert sharing.sharings_of(federation, host.collective_id) == [shared]
    assert sharing.get_shared(host.collective_id, shared.id) is shared
    assert shared.status == ShareStatus.REQUESTED

    hiring.confirm_request(host, shared, now=NOW)
    assert (shared.status, shared.proposed_by_id, shared.proposed_at) == (
        ShareStatus.PROPOSED, host.id, NOW)
    assert sharing.get_shared(partner.collective_id, shared.id) is shared
    [offer] = _told(partner)
    assert offer.link == f"/c/{partner.collective.slug}/partners/shared/{shared.id}"
    assert "confirmed" in _told(ann)[-1].title
    assert _actions(shared) == ["shared_pitch.requested", "shared_pitch.confirmed"]


def test_confirmed_then_accepted_a_payment_splits_as_a_supplier_share(hire_world):
    host, partner, federation, pitch, ann, bob, zoe = hire_world
    log(ann, pitch.allocations[0], 180)
    shared = _ask(ann, pitch, federation)
    hiring.confirm_request(host, shared, now=NOW)
    sharing.answer_sharing(partner, shared, accept=True, now=NOW)
    assert shared.is_accepted and shared.role == "supplier"
    assert sharing.accepted_sharing(pitch.id) is shared
    sharing.allocate_partner_member(partner, shared, membership_id=zoe.id, now=NOW)
    sharing.log_partner_time(zoe, shared, worked_on=date(2026, 10, 1), minutes=60,
                             today=TODAY)

    payment = payments.record_payment(host, pitch, amount=100_001, currency="EUR",
                                      received_on=PAID_ON, today=TODAY)

    # As tests/federation/test_money.py: 1000.01 at 3333 bp is 666.71 and 333.30.
    host_entry = db.session.get(JournalEntry, payment.entry_id)
    assert {p.account.code: p.amount for p in host_entry.postings} == {
        "1000": 100_001, "4000": -100_001,
        "5800": 33_330, f"2400-{partner.collective_id}": -33_330,
        "5100": 60_004, f"2100-{ann.id}": -60_004}
    theirs = ledger.find_entry(partner.collective_id, f"partner-share:{payment.id}")
    assert {p.account.code: p.amount for p in theirs.postings} == {
        f"1400-{host.collective_id}": 33_330, "4000": -33_330,
        "5100": 26_664, f"2100-{zoe.id}": -26_664}
    for collective_id in (host.collective_id, partner.collective_id):
        assert balances.check_ledger(collective_id).ok
    assert balances.run_extra_checks(host.collective_id)["partner balances"] == []


def test_a_coordinator_turns_a_request_down_and_the_member_is_told_why(hire_world):
    host, partner, federation, pitch, ann, bob, zoe = hire_world
    shared = _ask(ann, pitch, federation)
    with pytest.raises(NotAllowed):
        hiring.turn_down_request(bob, shared, now=NOW)
    hiring.turn_down_request(host, shared, reason="We can do it ourselves", now=NOW)
    assert (shared.status, shared.answered_by_id, shared.answered_at) == (
        ShareStatus.TURNED_DOWN, host.id, NOW)
    told = _told(ann)[-1]
    assert "turned down" in told.title and told.body == "We can do it ourselves"
    assert _told(partner) == []
    assert _actions(shared) == ["shared_pitch.requested", "shared_pitch.turned_down"]
    with pytest.raises(DomainError, match="already"):
        hiring.confirm_request(host, shared, now=NOW)
    with pytest.raises(NotFound):   # still the host's own business
        sharing.get_shared(partner.collective_id, shared.id)
    # The pitch is free again: a new request, or a coordinator's own offer.
    assert sharing.live_sharing(pitch.id) is None
    again = _ask(ann, pitch, federation, partner_bp=2000)
    assert again.id != shared.id


def test_only_the_member_who_asked_withdraws_and_only_before_it_is_confirmed(hire_world):
    host, partner, federation, pitch, ann, bob, zoe = hire_world
    shared = _ask(ann, pitch, federation)
    with pytest.raises(DomainError, match="only the member who asked"):
        hiring.withdraw_request(host, shared, now=NOW)
    with pytest.raises(NotFound):
        hiring.withdraw_request(zoe, shared, now=NOW)
    hiring.withdraw_request(ann, shared, now=NOW)
    assert shared.status == ShareStatus.WITHDRAWN and shared.answered_at == NOW
    assert _actions(shared)[-1] == "shared_pitch.request_withdrawn"
    with pytest.raises(DomainError):
        hiring.confirm_request(host, shared, now=NOW)

    confirmed = _ask(ann, pitch, federation)
    hiring.confirm_request(host, confirmed, now=NOW)
    with pytest.raises(DomainError, match="already"):
        hiring.withdraw_request(ann, confirmed, now=NOW)


def test_a_second_live_request_on_the_same_pitch_is_refused(hire_world):
    host, partner, federation, pitch, ann, bob, zoe = hire_world
    allocate(host, pitch, bob)
    first = _ask(ann, pitch, federation)
    with pytest.raises(Conflict):
        _ask(bob, pitch, federation)
    with pytest.raises(Conflict):   # nor a coordinator's own offer beside it
        sharing.propose_sharing(host, pitch, federation_id=federation.id, partner_bp=100,
                                now=NOW)
    assert pitch.id not in [p.id for p in sharing.shareable_pitches(host.collective_id)]
    # The database refuses it too: a request counts in the one-live-sharing index.
    with pytest.raises(sa.exc.IntegrityError, match="ix_shared_pitches_live_pitch|UNIQUE"), \
            db.session.begin_nested():
        db.session.add(SharedPitch(
            pitch_id=pitch.id, federation_id=federation.id,
            host_collective_id=host.collective_id,
            partner_collective_id=partner.collective_id, partner_bp=100, role="supplier",
            status="requested", requested_by_id=bob.id, requested_at=NOW))
        db.session.flush()
    assert sharing.live_sharing(pitch.id) is first


def test_the_database_holds_a_request_to_a_supplier_and_to_someone_who_asked(hire_world):
    host, partner, federation, pitch, ann, bob, zoe = hire_world
    for constraint, row in (
            ("ck_shared_pitches_request_hires_supplier",
             dict(role="partner", status="requested", requested_by_id=ann.id)),
            ("ck_shared_pitches_someone_asked", dict(role="supplier", status="requested"))):
        with pytest.raises(sa.exc.IntegrityError, match=constraint), \
                db.session.begin_nested():
            db.session.add(SharedPitch(
                pitch_id=pitch.id, federation_id=federation.id,
                host_collective_id=host.collective_id,
                partner_collective_id=partner.collective_id, partner_bp=100, **row))
            db.session.flush()


def test_confirming_rechecks_the_partnership_and_leaving_withdraws_requests(hire_world):
    host, partner, federation, pitch, ann, bob, zoe = hire_world
    shared = _ask(ann, pitch, federation)
    with pytest.raises(NotAllowed):   # a plain member cannot confirm
        hiring.confirm_request(bob, shared, now=NOW)
    partners.leave_federation(partner, federation, now=NOW)
    assert shared.status == ShareStatus.WITHDRAWN
    with pytest.raises(DomainError):
        hiring.confirm_request(host, shared, now=NOW)

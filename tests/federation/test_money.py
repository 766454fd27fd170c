"""Issue 15: a client payment on a shared pitch posts once in each collective's ledger (the
host keeps its part and owes the partner the rest; each splits its own part by its own
share rule), idempotently, in one transaction; a settlement clears both sides."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from collective.errors import DomainError, NotAllowed
from collective.extensions import db
from collective.federation import money, partners, sharing
from collective.ledger import balances
from collective.ledger import services as ledger
from collective.ledger.models import JournalEntry
from collective.pool import payments
from collective.pool.models import ClientPayment, PitchState
from tests.factories import make_collective, make_member
from tests.federation.factories import federate, share
from tests.pool.factories import NOW, TODAY, allocate, found_rule, log, make_pitch, move_to

PAID_ON = date(2026, 10, 5)


@pytest.fixture
def world(ctx):
    """Host H (EUR, 10% fund, 5% finder, by hours) shares a won pitch with partner P (EUR,
    20% fund, by hours) at 3333 bp. Ann of H logged 3 h; Zoe and Yan of P 1 h and 2 h."""
    host, partner = make_collective(currency="EUR"), make_collective(currency="EUR")
    found_rule(host)
    found_rule(partner, common_fund_bp=2000, finder_fee_bp=0)
    federation = federate(host, partner)
    ann = make_member(host.collective)
    zoe, yan = make_member(partner.collective), make_member(partner.collective)
    pitch = make_pitch(host)
    move_to(host, pitch, PitchState.WON)
    log(ann, allocate(host, pitch, ann), 180)
    shared = share(host, partner, federation, pitch, partner_bp=3333)
    for member, minutes in ((zoe, 60), (yan, 120)):
        sharing.allocate_partner_member(host, shared, membership_id=member.id, now=NOW)
        sharing.log_partner_time(member, shared, worked_on=date(2026, 10, 1),
                                 minutes=minutes, today=TODAY)
    return host, partner, federation, pitch, shared, ann, zoe, yan


def _lines(entry: JournalEntry) -> dict[str, int]:
    return {p.account.code: p.amount for p in entry.postings}


def _pay(host, pitch, amount=100_001, key=None):
    return payments.record_payment(host, pitch, amount=amount, currency="EUR",
                                   received_on=PAID_ON, request_key=key, today=TODAY)


def test_a_shared_payment_posts_once_in_each_ledger_with_hand_checked_amounts(world):
    host, partner, federation, pitch, shared, ann, zoe, yan = world
    payment = _pay(host, pitch)   # EUR 1,000.01

    # 1000.01 at 3333 bp: the partner's exact part is 333.303333, the host's 666.706667;
    # the one cent left goes to the larger remainder, the host's: 666.71 and 333.30.
    assert money.split_with_partner(100_001, 3333) == (66_671, 33_330)
    host_entry = db.session.get(JournalEntry, payment.entry_id)
    assert _lines(host_entry) == {
        "1000": 100_001, "4000": -100_001,              # the whole payment
        "5800": 33_330, f"2400-{partner.collective_id}": -33_330,   # owed to P
        # H's own 666.71: 10% fund 66.67 (stays), no finder, 600.04 to Ann's 3 h.
        "5100": 60_004, f"2100-{ann.id}": -60_004}
    theirs = ledger.find_entry(partner.collective_id, f"partner-share:{payment.id}")
    # P's 333.30: 20% fund 66.66 (stays), 266.64 by hours: Zoe 1 h 88.88, Yan 2 h 177.76.
    assert _lines(theirs) == {
        f"1400-{host.collective_id}": 33_330, "4000": -33_330,
        "5100": 26_664, f"2100-{zoe.id}": -8_888, f"2100-{yan.id}": -17_776}
    assert theirs.kind == "payment" and theirs.occurred_on == PAID_ON
    for collective_id in (host.collective_id, partner.collective_id):
        assert balances.check_ledger(collective_id).ok
    assert balances.run_extra_checks(host.collective_id)["partner balances"] == []
    assert money.standing(host.collective, partner.collective_id).we_owe == 33_330
    assert money.standing(partner.collective, host.collective_id).they_owe == 33_330
    # Every hour the payment used is linked to it, the partner's too: none is paid twice.
    assert "33.33% to" in payment.split_note


def test_the_same_payment_sent_twice_posts_once_per_collective(world):
    host, partner, federation, pitch, shared, *_ = world
    first = _pay(host, pitch, key="form-1")
    again = _pay(host, pitch, key="form-1")
    assert again.id == first.id
    # Posting the partner's side again returns the same entry.
    part = money.partner_part(pitch, first.split_amount, PAID_ON)
    entry = money.post_partner_share(shared, part.amount, first, [])   # no split needed again
    keys = db.session.scalars(sa.select(JournalEntry.id).where(
        JournalEntry.idempotency_key == f"partner-share:{first.id}")).all()
    assert keys == [entry.id]
    assert db.session.scalar(sa.select(sa.func.count(ClientPayment.id))
                             .where(ClientPayment.pitch_id == pitch.id)) == 1


def test_a_payment_the_partner_cannot_split_leaves_neither_ledger_touched(world):
    host, partner, federation, pitch, shared, ann, zoe, yan = world
    lonely = make_pitch(host)
    move_to(host, lonely, PitchState.WON)
    allocate(host, lonely, ann)
    share(host, partner, federation, lonely, partner_bp=5000)   # nobody of P on it
    before = db.session.scalar(sa.select(sa.func.count(JournalEntry.id)))
    with pytest.raises(DomainError, match="allocate its members"), db.session.begin_nested():
        _pay(host, lonely, amount=10_000)
    assert db.session.scalar(sa.select(sa.func.count(JournalEntry.id))) == before
    assert db.session.scalar(sa.select(sa.func.count(ClientPayment.id))
                             .where(ClientPayment.pitch_id == lonely.id)) == 0


def test_the_whole_payment_to_the_partner_leaves_the_host_nothing_to_split(world):
    host, partner, federation, pitch, shared, *_ = world
    shared.partner_bp = 10_000
    payment = _pay(host, pitch, amount=50_000)
    assert _lines(db.session.get(JournalEntry, payment.entry_id)) == {
        "1000": 50_000, "4000": -50_000, "5800": 50_000,
        f"2400-{partner.collective_id}": -50_000}


def test_reversing_the_hosts_payment_reverses_the_partners_side_too(world):
    host, partner, *_rest = world
    pitch = _rest[1]
    payment = _pay(host, pitch)
    payments.reverse_payment(host, payment, today=TODAY)
    theirs = ledger.find_entry(partner.collective_id, f"partner-share:{payment.id}")
    assert ledger.find_entry(partner.collective_id, f"reversal:{theirs.id}") is not None
    assert money.standing(host.collective, partner.collective_id).we_owe == 0
    assert money.standing(partner.collective, host.collective_id).they_owe == 0
    assert balances.run_extra_checks()["partner balances"] == []


def test_settling_clears_both_sides_once(world):
    host, partner, federation, pitch, *_ = world
    _pay(host, pitch)
    with pytest.raises(DomainError) as too_much:
        money.settle(host, federation, amount=33_331, paid_on=TODAY, today=TODAY)
    assert too_much.value.field == "amount"
    with pytest.raises(NotAllowed):
        money.settle(make_member(host.collective), federation, amount=100, paid_on=TODAY,
                     today=TODAY)

    first = money.settle(host, federation, amount=33_330, paid_on=TODAY, reference="TX-1",
                         request_key="settle-1", today=TODAY)
    again = money.settle(host, federation, amount=33_330, paid_on=TODAY, reference="TX-1",
                         request_key="settle-1", today=TODAY)
    assert again.id == first.id
    payer = db.session.get(JournalEntry, first.payer_entry_id)
    payee = db.session.get(JournalEntry, first.payee_entry_id)
    assert _lines(payer) == {f"2400-{partner.collective_id}": 33_330, "1000": -33_330}
    assert _lines(payee) == {"1000": 33_330, f"1400-{host.collective_id}": -33_330}
    assert (payer.collective_id, payee.collective_id) == (host.collective_id,
                                                          partner.collective_id)
    assert money.standing(host.collective, partner.collective_id).we_owe == 0
    assert money.standing(partner.collective, host.collective_id).they_owe == 0
    for collective_id in (host.collective_id, partner.collective_id):
        assert balances.check_ledger(collective_id).ok
    assert balances.run_extra_checks()["partner balances"] == []
    lines, more = money.history(partner.collective_id, host.collective_id)
    assert [line.amount for line in lines] == [-33_330, 33_330] and not more


def test_debts_can_be_settled_after_the_partnership_ended(world):
    host, partner, federation, pitch, *_ = world
    _pay(host, pitch)
    partners.leave_federation(partner, federation, now=NOW)
    settled = money.settle(host, federation, amount=10_000, paid_on=TODAY, today=TODAY)
    assert settled.amount == 10_000
    assert money.standing(host.collective, partner.collective_id).we_owe == 23_330


def test_the_hosts_split_page_shows_the_partners_part_and_rebuilds_its_own(world):
    from collective.pool import splits
    host, partner, federation, pitch, shared, ann, zoe, yan = world
    payment = _pay(host, pitch)
    shown = splits.payment_split(host, payment)
    assert (shown.partner_part, shown.common_fund, shown.members_part) == (33_330, 6_667,
                                                                           60_004)
    assert shown.is_rebuilt
    assert [(line.membership_id, line.minutes, line.total) for line in shown.lines] == [
        (ann.id, 180, 60_004)]


def test_the_partners_side_alone_cannot_be_reversed(world):
    host, partner, *_rest = world
    payment = _pay(host, _rest[1])
    theirs = ledger.find_entry(partner.collective_id, f"partner-share:{payment.id}")
    with pytest.raises(ledger.LedgerError, match="reversed with it"), \
            db.session.begin_nested():
        ledger.reverse_entry(theirs, today=TODAY)
    assert ledger.find_entry(partner.collective_id, f"reversal:{theirs.id}") is None


def test_the_partners_members_are_told_their_own_share(world):
    from collective.notifications.models import Notification
    host, partner, federation, pitch, shared, ann, zoe, yan = world
    _pay(host, pitch)
    told = dict(db.session.execute(
        sa.select(Notification.membership_id, Notification.title)
        .where(Notification.kind == "payment_split",
               Notification.collective_id == partner.collective_id)).all())
    assert told == {zoe.id: f"A payment for {pitch.title} brought you €88.88",
                    yan.id: f"A payment for {pitch.title} brought you €177.76"}

"""Hours a payment uses: the hours logged and not used by an earlier payment, each time entry
by at most one payment that stands, whatever day it was logged for (docs/sharing.md)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
import sqlalchemy as sa

from collective.extensions import db
from collective.ledger import services as ledger
from collective.ledger.models import JournalEntry
from collective.members.models import Membership
from collective.pool import participation, payments, rules, time
from collective.pool.models import (
    Allocation,
    ClientPayment,
    Pitch,
    PitchState,
    TimeEntry,
    TimeEntryPayment,
)
from tests.factories import make_collective, make_member
from tests.pool.factories import allocate, found_rule, make_pitch, move_to


@dataclass
class Work:
    """A pitch nobody found, with Ann and Bob allocated (weight 1 each); the rule is 10% to
    the common fund, no finder's fee, the rest by hours."""

    founder: Membership
    ann: Membership
    bob: Membership
    pitch: Pitch
    ann_work: Allocation
    bob_work: Allocation

    def log(self, who: str, hours: float, worked_on: date, logged_on: date) -> TimeEntry:
        """`who` logs `hours` for `worked_on`, on the day `logged_on`."""
        return time.log_time(getattr(self, who), getattr(self, f"{who}_work"),
                             worked_on=worked_on, minutes=int(hours * 60), today=logged_on)

    def pay(self, amount: int, received_on: date) -> ClientPayment:
        """A payment received (and recorded) on `received_on`."""
        return payments.record_payment(self.founder, self.pitch, amount=amount,
                                       currency="USD", received_on=received_on,
                                       today=received_on)

    def shares(self, payment: ClientPayment) -> dict[str, int]:
        """What the payment credited the common fund, Ann and Bob."""
        entry = db.session.get(JournalEntry, payment.entry_id)
        by_account = {p.account_id: -p.amount for p in entry.postings}
        income = ledger.account_by_code(self.founder.collective_id, ledger.CLIENT_INCOME).id
        ann = by_account.get(ledger.member_account(self.ann.id).id, 0)
        bob = by_account.get(ledger.member_account(self.bob.id).id, 0)
        # What of the income the members' shares left is the common fund's.
        return {"fund": by_account.get(income, 0) - ann - bob,
                "ann": by_account.get(ledger.member_account(self.ann.id).id, 0),
                "bob": by_account.get(ledger.member_account(self.bob.id).id, 0)}


@pytest.fixture
def work(ctx) -> Work:
    founder = make_collective()
    ann, bob = make_member(founder.collective), make_member(founder.collective)
    found_rule(founder, common_fund_bp=1000, finder_fee_bp=0)
    pitch = move_to(founder, make_pitch(founder), PitchState.WON)
    return Work(founder, ann, bob, pitch, allocate(founder, pitch, ann),
                allocate(founder, pitch, bob))


def _links(entry: TimeEntry) -> list[tuple[int, int | None]]:
    """(payment, released by) of every link of a time entry, oldest first."""
    return [tuple(row) for row in db.session.execute(
        sa.select(TimeEntryPayment.payment_id, TimeEntryPayment.released_by_id)
        .filter_by(time_entry_id=entry.id).order_by(TimeEntryPayment.id))]


def test_hours_logged_late_for_a_day_before_the_last_payment_are_paid_by_the_next(work):
    # Ann and Bob log 2 h each for 10 October; the 15 October payment of 100.00 uses them.
    work.log("ann", 2, date(2026, 10, 10), logged_on=date(2026, 10, 10))
    work.log("bob", 2, date(2026, 10, 10), logged_on=date(2026, 10, 10))
    october = work.pay(10_000, date(2026, 10, 15))
    assert work.shares(october) == {"fund": 1000, "ann": 4500, "bob": 4500}

    # On 20 October Ann logs 3 h for 1 October, a day before that payment; Bob logs 1 h for
    # 25 October.
    late = work.log("ann", 3, date(2026, 10, 1), logged_on=date(2026, 10, 20))
    work.log("bob", 1, date(2026, 10, 25), logged_on=date(2026, 10, 25))

    november = work.pay(10_000, date(2026, 11, 1))

    # 100.00: 10.00 to the fund; 90.00 by Ann's 3 unpaid hours to Bob's 1, 67.50 and 22.50.
    # (The old rule counted only days after 15 October: Bob alone, and Ann's 3 h never.)
    assert work.shares(november) == {"fund": 1000, "ann": 6750, "bob": 2250}
    assert november.split_note == "by 4 hours logged"
    assert _links(late) == [(november.id, None)]


def test_no_hour_is_counted_twice_across_payments(work):
    entries = [work.log("ann", 1, date(2026, 10, 5), logged_on=date(2026, 10, 5)),
               work.log("bob", 3, date(2026, 10, 6), logged_on=date(2026, 10, 6))]
    first = work.pay(8000, date(2026, 10, 10))
    entries.append(work.log("ann", 2, date(2026, 10, 11), logged_on=date(2026, 10, 11)))
    later_day = work.log("bob", 2, date(2026, 10, 21), logged_on=date(2026, 10, 21))
    # Received on 20 October: Bob's hours for the 21st wait for a later payment.
    second = work.pay(8000, date(2026, 10, 20))
    third = work.pay(8000, date(2026, 10, 22))

    assert [_links(e) for e in entries] == [[(first.id, None)], [(first.id, None)],
                                            [(second.id, None)]]
    assert _links(later_day) == [(third.id, None)]
    # 7,200 by 1 h : 3 h, then by Ann's 2 h alone, then by Bob's 2 h alone.
    assert [work.shares(p) for p in (first, second, third)] == [
        {"fund": 800, "ann": 1800, "bob": 5400},
        {"fund": 800, "ann": 7200, "bob": 0},
        {"fund": 800, "ann": 0, "bob": 7200}]
    # A fourth payment finds no unpaid hours: the allocation weights, and it says so.
    fourth = work.pay(8000, date(2026, 10, 23))
    assert work.shares(fourth) == {"fund": 800, "ann": 3600, "bob": 3600}
    assert fourth.split_note == "by allocation weights (no unpaid hours logged)"
    assert participation.logged_hours(work.pitch)[work.ann_work.id].unpaid == 0


def test_the_database_refuses_a_second_standing_link_for_a_time_entry(work):
    entry = work.log("ann", 1, date(2026, 10, 5), logged_on=date(2026, 10, 5))
    first = work.pay(8000, date(2026, 10, 10))
    second = work.pay(8000, date(2026, 10, 11))

    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        db.session.add(TimeEntryPayment(time_entry_id=entry.id, payment_id=second.id))
        db.session.flush()

    assert _links(entry) == [(first.id, None)]


def test_reversing_a_payment_frees_its_hours_for_the_next_and_keeps_the_link(work):
    ann_entry = work.log("ann", 3, date(2026, 10, 5), logged_on=date(2026, 10, 5))
    work.log("bob", 1, date(2026, 10, 5), logged_on=date(2026, 10, 5))
    mistaken = work.pay(8000, date(2026, 10, 10))
    assert participation.logged_hours(work.pitch)[work.ann_work.id].unpaid == 0

    reversal = payments.reverse_payment(work.founder, mistaken)

    assert _links(ann_entry) == [(mistaken.id, reversal.id)]
    hours = participation.logged_hours(work.pitch)
    assert (hours[work.ann_work.id].unpaid, hours[work.bob_work.id].unpaid) == (180, 60)
    again = work.pay(8000, date(2026, 10, 11))
    assert work.shares(again) == {"fund": 800, "ann": 5400, "bob": 1800}
    assert _links(ann_entry) == [(mistaken.id, reversal.id), (again.id, None)]


def test_a_payment_reversed_from_the_ledger_also_frees_its_hours(work):
    entry = work.log("ann", 3, date(2026, 10, 5), logged_on=date(2026, 10, 5))
    payment = work.pay(8000, date(2026, 10, 10))

    reversal = ledger.reverse_entry(db.session.get(JournalEntry, payment.entry_id))
    # Reversing again returns the same reversal and changes nothing.
    assert ledger.reverse_entry(db.session.get(JournalEntry, payment.entry_id)) == reversal

    assert _links(entry) == [(payment.id, reversal.id)]
    assert participation.logged_hours(work.pitch)[work.ann_work.id].unpaid == 180


def test_the_preview_splits_each_payment_by_the_hours_it_used(work):
    work.log("ann", 2, date(2026, 10, 10), logged_on=date(2026, 10, 10))
    work.log("bob", 2, date(2026, 10, 10), logged_on=date(2026, 10, 10))
    work.pay(10_000, date(2026, 10, 15))
    work.log("ann", 3, date(2026, 10, 1), logged_on=date(2026, 10, 20))
    work.log("bob", 1, date(2026, 10, 25), logged_on=date(2026, 10, 25))
    work.pay(10_000, date(2026, 11, 1))

    table = rules.preview_rule(work.founder.collective_id,
                               rules.terms_from(1000, 0, "hours"), date(2026, 11, 1))

    shares = dict(zip(table["membership_id"], table["current"], strict=True))
    assert shares == {0: 2000, work.ann.id: 4500 + 6750, work.bob.id: 4500 + 2250}
    assert (table["current"] == table["proposed"]).all()

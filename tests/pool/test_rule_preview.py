"""The share-rule preview: the same figures as the payments themselves, in a fixed number of
queries however many payments the last 90 days hold."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta

import sqlalchemy as sa

from collective.extensions import db
from collective.ledger import services as ledger
from collective.ledger.models import Account, JournalEntry, Posting
from collective.members.models import Membership
from collective.pool import payments, rules
from collective.pool.models import Pitch, PitchState
from tests.factories import make_collective, make_member
from tests.pool.factories import TODAY, allocate, found_rule, log, make_pitch, move_to

PROPOSED = rules.terms_from(2000, 0, "equal")


@contextmanager
def statements() -> Iterator[list[str]]:
    """Every SQL statement the block sends to the database."""
    sent: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        sent.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)


def _busy_collective(pitch_count: int, payments_per_pitch: int) -> Membership:
    """A collective whose pitches each have a finder, two workers with hours logged between
    monthly payments, and `payments_per_pitch` payments in the last 90 days."""
    founder = make_collective()
    found_rule(founder)                                # 10% fund, 5% finder, rest by hours
    people = [make_member(founder.collective) for _ in range(3)]
    for n in range(pitch_count):
        finder, first, second = people[n % 3], people[(n + 1) % 3], people[(n + 2) % 3]
        pitch = move_to(founder, make_pitch(founder, finder=finder, title=f"Retainer {n}"),
                        PitchState.WON)
        work = [allocate(founder, pitch, first, role="lead", weight=2),
                allocate(founder, pitch, second, weight=1)]
        for k in range(payments_per_pitch):
            paid_on = TODAY - timedelta(days=80 - 25 * k)
            for i, allocation in enumerate(work):
                # The first payment's stretch has no hours for anyone after the first pitch:
                # all hours up to that payment count instead.
                if k or n == 0:
                    log(allocation.membership, allocation, 60 * (1 + i + k + n),
                        worked_on=paid_on - timedelta(days=3))
            payments.record_payment(founder, pitch, amount=10_000 * (1 + n + k),
                                    currency="USD", received_on=paid_on, today=TODAY)
    return founder


def _preview_statements(collective_id: int) -> int:
    db.session.expire_all()
    with statements() as sent:
        rules.preview_rule(collective_id, PROPOSED, TODAY)
    return len(sent)


def test_the_preview_runs_as_many_queries_for_two_payments_as_for_twelve(ctx):
    few = _busy_collective(pitch_count=1, payments_per_pitch=2)
    many = _busy_collective(pitch_count=4, payments_per_pitch=3)

    assert _preview_statements(few.collective_id) == _preview_statements(many.collective_id)
    assert _preview_statements(many.collective_id) <= 8


def _posted_shares(collective_id: int, since: date, until: date) -> dict[int, int]:
    """What the payments in (since, until] that stand credited to each member (0: the
    common fund: what of each payment's income no member's share or finder's fee took)."""
    reversed_ids = sa.select(JournalEntry.reverses_id).where(JournalEntry.reverses_id.is_not(None))
    rows = db.session.execute(
        sa.select(Account.membership_id, Account.code, Posting.amount)
        .join(Posting, Posting.account_id == Account.id)
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .where(JournalEntry.collective_id == collective_id, JournalEntry.kind == "payment",
               JournalEntry.reverses_id.is_(None), JournalEntry.id.not_in(reversed_ids),
               JournalEntry.occurred_on > since,
               JournalEntry.occurred_on <= until, Posting.amount < 0)).all()
    shares: dict[int, int] = defaultdict(int)
    for membership_id, code, amount in rows:
        if membership_id is not None:
            shares[membership_id] -= amount
        elif code == ledger.CLIENT_INCOME:
            shares[0] -= amount
    shares[0] -= sum(amount for membership_id, amount in shares.items() if membership_id)
    return {m: a for m, a in shares.items() if a or m}


def test_the_preview_under_the_rule_in_force_is_what_the_payments_paid(ctx):
    founder = _busy_collective(pitch_count=3, payments_per_pitch=3)
    # One payment reversed: it is left out of both.
    pitch = db.session.scalars(sa.select(Pitch).filter_by(
        collective_id=founder.collective_id, title="Retainer 1")).one()
    wrong = payments.record_payment(founder, pitch, amount=77_777, currency="USD",
                                    received_on=TODAY - timedelta(days=1), today=TODAY)
    payments.reverse_payment(founder, wrong)

    table = rules.preview_rule(founder.collective_id, rules.terms_from(1000, 500, "hours"),
                               TODAY)

    posted = _posted_shares(founder.collective_id, TODAY - timedelta(days=90), TODAY)
    assert dict(zip(table["membership_id"], table["current"], strict=True)) == posted
    assert (table["current"] == table["proposed"]).all()
    assert table["current"].sum() == sum(10_000 * (1 + n + k) for n in range(3)
                                         for k in range(3))


def test_odd_cents_go_round_a_retainers_members_and_the_preview_deals_them_the_same(ctx):
    # Issue 9: 30 payments of $1.00 split equally among three members used to give the
    # first-listed member all 30 odd cents. Seeded by the pitch and its earlier payments,
    # the odd cent goes round: $10.00 each. The preview splits each payment with the same
    # seed, so under the rule in force it shows exactly what was posted.
    founder = make_collective()
    found_rule(founder, common_fund_bp=0, finder_fee_bp=0, method="equal")
    people = [make_member(founder.collective) for _ in range(3)]
    pitch = move_to(founder, make_pitch(founder, title="Retainer"), PitchState.WON)
    for person in people:
        allocate(founder, pitch, person)
    for k in range(30):
        payments.record_payment(founder, pitch, amount=100, currency="USD",
                                received_on=TODAY - timedelta(days=60 - 2 * k), today=TODAY)

    posted = _posted_shares(founder.collective_id, TODAY - timedelta(days=90), TODAY)
    assert {m: a for m, a in posted.items() if m} == {person.id: 1000 for person in people}
    table = rules.preview_rule(founder.collective_id, rules.terms_from(0, 0, "equal"), TODAY)
    previewed = dict(zip(table["membership_id"], table["current"], strict=True))
    assert {m: a for m, a in previewed.items() if a} == {m: a for m, a in posted.items() if a}

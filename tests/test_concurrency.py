"""Two coordinators changing the same pitch at the same time: exactly one wins.

These tests commit for real (no rollback fixture), each thread with its own app context,
session and database connection. On PostgreSQL the loser's conditional UPDATE waits for the
winner's row lock, then finds the version changed; on SQLite the writers queue.
"""
from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from collective.errors import Conflict
from collective.extensions import db
from collective.ledger import balances
from collective.ledger.models import JournalEntry
from collective.members.models import Membership
from collective.pool import allocation, clients, payments, pitches, rules, time
from collective.pool.models import Pitch, PitchEvent, PitchState, TimeEntry
from collective.pool.payouts import pay_everyone, record_deposit
from tests.factories import make_collective, make_member
from tests.pool.factories import NOW, TODAY, allocate, make_pitch, move_to


@pytest.fixture
def contested(app):
    """A committed collective with two coordinators and an open pitch."""
    with app.app_context():
        founder = make_collective()
        second = make_member(founder.collective, roles=("member", "coordinator"))
        worker = make_member(founder.collective)
        client = clients.create_client(founder, name="Harbour Dental")
        pitch = pitches.create_pitch(founder, client_id=client.id, title="Retainer",
                                     value_amount=100_000, value_currency="USD", today=TODAY,
                                     at=NOW)
        db.session.commit()
        return {"a": founder.id, "b": second.id, "worker": worker.id, "pitch": pitch.id,
                "version": pitch.version}


def race(app, *actions):
    """Run each action in its own thread and app context, all starting together."""
    barrier = threading.Barrier(len(actions))
    outcomes: list[object] = [None] * len(actions)

    def run(i, action):
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                action()
                db.session.commit()
                outcomes[i] = "ok"
            except Conflict as exc:
                db.session.rollback()
                outcomes[i] = exc
            except Exception as exc:  # pragma: no cover - reported by the assertion below
                db.session.rollback()
                outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return outcomes


def test_two_coordinators_moving_a_pitch_at_once_cannot_both_win(app, contested):
    def move(actor_key, state):
        def action():
            actor = db.session.get(Membership, contested[actor_key])
            pitch = db.session.get(Pitch, contested["pitch"])
            pitches.transition_pitch(actor, pitch, state, expected_version=contested["version"],
                                     note="the client changed their mind", at=NOW)
        return action

    outcomes = race(app, move("a", PitchState.PITCHED), move("b", PitchState.CANCELLED))
    assert sorted(type(o).__name__ if o != "ok" else "ok" for o in outcomes) == ["Conflict", "ok"]
    loser = next(o for o in outcomes if o != "ok")
    assert "changed by someone else" in str(loser)
    with app.app_context():
        pitch = db.session.get(Pitch, contested["pitch"])
        events = db.session.query(PitchEvent).filter_by(pitch_id=pitch.id).all()
        assert len(events) == 2  # recorded, plus exactly one move
        assert pitch.version == contested["version"] + 1
        winner = "a" if outcomes[0] == "ok" else "b"
        expected = PitchState.PITCHED if winner == "a" else PitchState.CANCELLED
        assert pitch.state == expected.value


def test_a_stale_form_is_refused_after_someone_else_allocated(app, contested):
    with app.app_context():
        a = db.session.get(Membership, contested["a"])
        pitch = db.session.get(Pitch, contested["pitch"])
        pitches.transition_pitch(a, pitch, PitchState.PITCHED, at=NOW)
        pitches.transition_pitch(a, pitch, PitchState.WON, at=NOW)
        db.session.commit()
        seen = db.session.get(Pitch, contested["pitch"]).version

    def allocate(actor_key, weight):
        def action():
            actor = db.session.get(Membership, contested[actor_key])
            pitch = db.session.get(Pitch, contested["pitch"])
            allocation.allocate_member(actor, pitch, membership_id=contested["worker"],
                                       weight=weight, expected_version=seen)
        return action

    outcomes = race(app, allocate("a", 2), allocate("b", 5))
    assert outcomes.count("ok") == 1
    assert sum(isinstance(o, Conflict) for o in outcomes) == 1
    with app.app_context():
        pitch = db.session.get(Pitch, contested["pitch"])
        assert [a.weight for a in pitch.allocations] == [2 if outcomes[0] == "ok" else 5]


def test_on_postgresql_both_read_the_same_version_and_one_update_loses(app, contested):
    """Both sessions hold version N before either writes: the row lock decides."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("A SQLite transaction that may write takes the write lock at its "
                        "first read, so two writers' reads cannot overlap")
    loaded = threading.Barrier(2)
    outcomes: list[object] = [None, None]

    def run(i, actor_key, state):
        with app.app_context():
            actor = db.session.get(Membership, contested[actor_key])
            pitch = db.session.get(Pitch, contested["pitch"])
            assert pitch.version == contested["version"]
            loaded.wait(timeout=10)
            try:
                pitches.transition_pitch(actor, pitch, state, expected_version=pitch.version,
                                         note="the client changed their mind", at=NOW)
                db.session.commit()
                outcomes[i] = "ok"
            except Conflict as exc:
                db.session.rollback()
                outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(0, "a", PitchState.PITCHED)),
               threading.Thread(target=run, args=(1, "b", PitchState.CANCELLED))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert outcomes.count("ok") == 1
    assert sum(isinstance(o, Conflict) for o in outcomes) == 1


def test_two_treasurers_paying_everyone_at_once_pay_once(app):
    """Each form has its own key, so only the balance lock stops a second full payout."""
    from datetime import date

    from collective.errors import DomainError
    from collective.members.models import Role

    with app.app_context():
        first = make_collective()
        second = make_member(first.collective, roles=(Role.MEMBER, Role.TREASURER))
        people = [make_member(first.collective) for _ in range(3)]
        for i, person in enumerate(people):
            record_deposit(first, person, amount=10_000 * (i + 1),
                           received_on=date.today(), request_key=f"race-deposit-{i}",
                           today=date.today())
        db.session.commit()
        ids = {"a": first.id, "b": second.id, "people": [p.id for p in people],
               "collective": first.collective_id}

    barrier = threading.Barrier(2)
    outcomes: list[object] = [None, None]

    def pay(i: int, actor_key: str) -> None:
        with app.app_context():
            barrier.wait(timeout=10)  # before any read: SQLite's first read takes the lock
            try:
                actor = db.session.get(Membership, ids[actor_key])
                pay_everyone(actor, paid_on=date.today(), reference="race",
                             request_key=f"race-{i}",
                             today=date.today())
                db.session.commit()
                outcomes[i] = "ok"
            except DomainError as exc:
                db.session.rollback()
                outcomes[i] = exc

    threads = [threading.Thread(target=pay, args=(0, "a")),
               threading.Thread(target=pay, args=(1, "b"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert outcomes.count("ok") == 1
    loser = next(o for o in outcomes if o != "ok")
    assert "nobody is owed anything" in str(loser)
    with app.app_context():
        assert [balances.member_balance(m).get("USD", 0) for m in ids["people"]] == [0, 0, 0]
        payouts = db.session.scalar(sa.select(sa.func.count(JournalEntry.id)).where(
            JournalEntry.collective_id == ids["collective"], JournalEntry.kind == "payout"))
        assert payouts == 1


def test_two_payments_recorded_at_once_on_one_pitch_use_each_hour_once(app):
    """The pitch's row lock (and behind it the unique key on the hours' links) lets only one
    of two payments recorded at once use the unpaid hours; the other splits by weights."""
    from collective.pool.models import ClientPayment, TimeEntryPayment
    from collective.pool.payments import record_payment
    from tests.pool.factories import allocate, found_rule, log, make_pitch, move_to

    with app.app_context():
        founder = make_collective()
        second = make_member(founder.collective, roles=("member", "coordinator"))
        worker = make_member(founder.collective)
        found_rule(founder)
        pitch = move_to(founder, make_pitch(founder), PitchState.WON)
        allocate(founder, pitch, founder)
        entry = log(worker, allocate(founder, pitch, worker), 120)
        db.session.commit()
        ids = {"a": founder.id, "b": second.id, "pitch": pitch.id, "entry": entry.id}

    def pay(actor_key):
        def action():
            actor = db.session.get(Membership, ids[actor_key])
            record_payment(actor, db.session.get(Pitch, ids["pitch"]), amount=10_000,
                           currency="USD", received_on=TODAY, request_key=f"race-{actor_key}",
                           confirm_duplicate=True, today=TODAY)
        return action

    assert race(app, pay("a"), pay("b")) == ["ok", "ok"]
    with app.app_context():
        links = db.session.scalars(sa.select(TimeEntryPayment.payment_id).filter_by(
            time_entry_id=ids["entry"])).all()
        notes = db.session.scalars(sa.select(ClientPayment.split_note).filter_by(
            pitch_id=ids["pitch"]).order_by(ClientPayment.id)).all()
    assert len(links) == 1
    assert sorted(notes) == ["by 2 hours logged",
                             "by allocation weights (no unpaid hours logged)"]



@pytest.fixture
def logged(app):
    """A committed won pitch with Ann (3 hours) and Bob (1 hour) logged, and a rule that
    splits everything by hours."""
    with app.app_context():
        founder = make_collective()
        rules.set_founding_rule(founder, rules.terms_from(0, 0, "hours"),
                                effective_on=TODAY.replace(day=1), today=TODAY)
        ann, bob = make_member(founder.collective), make_member(founder.collective)
        pitch = move_to(founder, make_pitch(founder), PitchState.WON)
        ann_entry = time.log_time(ann, allocate(founder, pitch, ann), worked_on=TODAY,
                                  minutes=180, today=TODAY)
        time.log_time(bob, allocate(founder, pitch, bob), worked_on=TODAY, minutes=60,
                      today=TODAY)
        db.session.commit()
        return {"founder": founder.id, "ann": ann.id, "bob": bob.id, "pitch": pitch.id,
                "entry": ann_entry.id}


def test_hours_changed_while_a_payment_is_recorded_match_what_it_paid(app, logged):
    """Either the payment uses the hours first (and the change is refused), or the change
    comes first (and the payment splits the changed hours): never a split by hours the
    entry no longer holds."""
    def pay():
        founder = db.session.get(Membership, logged["founder"])
        payments.record_payment(founder, db.session.get(Pitch, logged["pitch"]),
                                amount=100_000, currency="USD", received_on=TODAY,
                                today=TODAY)

    def edit():
        ann = db.session.get(Membership, logged["ann"])
        time.edit_time_entry(ann, db.session.get(TimeEntry, logged["entry"]),
                             worked_on=TODAY, minutes=60, today=TODAY)

    outcomes = race(app, pay, edit)
    assert outcomes[0] == "ok"
    with app.app_context():
        minutes = db.session.get(TimeEntry, logged["entry"]).minutes
        paid = [balances.member_balance(logged[who]).get("USD", 0) for who in ("ann", "bob")]
    if outcomes[1] == "ok":
        assert (minutes, paid) == (60, [50_000, 50_000])
    else:
        assert "can no longer be changed" in str(outcomes[1])
        assert (minutes, paid) == (180, [75_000, 25_000])

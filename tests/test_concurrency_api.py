"""Two requests sent at once with one Idempotency-Key post one payment, and both get its
answer. They commit for real (no rollback fixture), each in its own thread, app context and
connection: on PostgreSQL the second's insert of the key waits for the first to commit; on
SQLite the writers queue. It sits beside tests/test_concurrency.py, after the tests that count
every row of a table (the mail outbox's), since what it commits stays."""
from __future__ import annotations

import threading

import sqlalchemy as sa

from collective.api import tokens
from collective.clock import now_utc, today_in
from collective.extensions import db, limiter
from collective.pool.models import ClientPayment, PitchState
from tests.factories import make_collective, make_member
from tests.pool.factories import allocate, found_rule, log, make_pitch, move_to


def test_two_requests_at_once_with_one_key_post_once(app):
    limiter.reset()
    with app.app_context():
        founder = make_collective()
        member = make_member(founder.collective)
        work = make_pitch(founder)
        move_to(founder, work, PitchState.WON)
        log(member, allocate(founder, work, member), 60)
        found_rule(founder)
        _token, secret = tokens.create_token(founder.user, name="race", now=now_utc())
        db.session.commit()
        url = f"/api/v1/collectives/{founder.collective.slug}/payments"
        body = {"pitch_id": work.id, "amount": 7_000, "currency": "USD",
                "received_on": today_in("UTC").isoformat()}
        pitch_id = work.id
    barrier = threading.Barrier(2)
    answers: list = [None, None]

    def send(i: int) -> None:
        client = app.test_client()
        client.adds_csrf_token = False
        barrier.wait(timeout=10)
        answers[i] = client.post(url, json=body, headers={
            "Authorization": f"Bearer {secret}", "Idempotency-Key": "one-key"})

    threads = [threading.Thread(target=send, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [a.status_code for a in answers] == [201, 201], [a.get_data() for a in answers]
    assert answers[0].get_data() == answers[1].get_data()
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ClientPayment)
                                 .filter_by(pitch_id=pitch_id)) == 1


def test_two_reversals_of_one_entry_at_once_post_one_and_refuse_the_other(app):
    from collective.ledger.balances import check_ledger
    from collective.ledger.models import JournalEntry

    limiter.reset()
    with app.app_context():
        founder = make_collective()
        member = make_member(founder.collective)
        work = make_pitch(founder)
        move_to(founder, work, PitchState.WON)
        log(member, allocate(founder, work, member), 60)
        found_rule(founder)
        _token, secret = tokens.create_token(founder.user, name="undo race", now=now_utc())
        db.session.commit()
        slug, pitch_id, collective_id = founder.collective.slug, work.id, founder.collective_id
    client = app.test_client()
    client.adds_csrf_token = False
    auth = {"Authorization": f"Bearer {secret}"}
    paid = client.post(f"/api/v1/collectives/{slug}/payments", headers=auth, json={
        "pitch_id": pitch_id, "amount": 5_000, "currency": "USD",
        "received_on": today_in("UTC").isoformat()}).get_json()
    url = f"/api/v1/collectives/{slug}/ledger/entries/{paid['entry_id']}/reversal"
    barrier = threading.Barrier(2)
    answers: list = [None, None]

    def send(i: int) -> None:
        other = app.test_client()
        other.adds_csrf_token = False
        barrier.wait(timeout=10)
        answers[i] = other.post(url, json={}, headers={**auth, "Idempotency-Key": f"undo-{i}"})

    threads = [threading.Thread(target=send, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(a.status_code for a in answers) == [201, 409], [a.get_data() for a in answers]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(JournalEntry)
                                 .filter_by(reverses_id=paid["entry_id"])) == 1
        assert check_ledger(collective_id).ok

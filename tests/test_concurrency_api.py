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


def _paid_work(app, token_name: str) -> tuple[str, int, int, str]:
    """A collective with won work a member logged an hour on, its share rule, and a token
    of the founder's, committed: (slug, pitch id, collective id, token secret)."""
    limiter.reset()
    with app.app_context():
        founder = make_collective()
        member = make_member(founder.collective)
        work = make_pitch(founder)
        move_to(founder, work, PitchState.WON)
        log(member, allocate(founder, work, member), 60)
        found_rule(founder)
        _token, secret = tokens.create_token(founder.user, name=token_name, now=now_utc())
        db.session.commit()
        return founder.collective.slug, work.id, founder.collective_id, secret


def _at_once(app, url: str, body: dict, headers_of) -> list:
    """POST `body` to `url` from two clients, each in its own thread, released together;
    `headers_of(i)` gives client i's headers. The two answers, in client order."""
    barrier = threading.Barrier(2)
    answers: list = [None, None]

    def send(i: int) -> None:
        client = app.test_client()
        client.adds_csrf_token = False
        barrier.wait(timeout=10)
        answers[i] = client.post(url, json=body, headers=headers_of(i))

    threads = [threading.Thread(target=send, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def test_two_requests_at_once_with_one_key_post_once(app):
    slug, pitch_id, _, secret = _paid_work(app, "race")
    body = {"pitch_id": pitch_id, "amount": 7_000, "currency": "USD",
            "received_on": today_in("UTC").isoformat()}
    answers = _at_once(app, f"/api/v1/collectives/{slug}/payments", body, lambda i: {
        "Authorization": f"Bearer {secret}", "Idempotency-Key": "one-key"})
    assert [a.status_code for a in answers] == [201, 201], [a.get_data() for a in answers]
    assert answers[0].get_data() == answers[1].get_data()
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ClientPayment)
                                 .filter_by(pitch_id=pitch_id)) == 1


def test_two_reversals_of_one_entry_at_once_post_one_and_refuse_the_other(app):
    from collective.ledger.balances import check_ledger
    from collective.ledger.models import JournalEntry

    slug, pitch_id, collective_id, secret = _paid_work(app, "undo race")
    client = app.test_client()
    client.adds_csrf_token = False
    auth = {"Authorization": f"Bearer {secret}"}
    paid = client.post(f"/api/v1/collectives/{slug}/payments", headers=auth, json={
        "pitch_id": pitch_id, "amount": 5_000, "currency": "USD",
        "received_on": today_in("UTC").isoformat()}).get_json()
    url = f"/api/v1/collectives/{slug}/ledger/entries/{paid['entry_id']}/reversal"
    answers = _at_once(app, url, {}, lambda i: {**auth, "Idempotency-Key": f"undo-{i}"})
    assert sorted(a.status_code for a in answers) == [201, 409], [a.get_data() for a in answers]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(JournalEntry)
                                 .filter_by(reverses_id=paid["entry_id"])) == 1
        assert check_ledger(collective_id).ok

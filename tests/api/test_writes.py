"""Writes through the API: idempotent payments, CSRF for sessions only, and the pool's
own rules behind every write."""
from __future__ import annotations

import sqlalchemy as sa

from collective.api.models import IdempotencyKey
from collective.extensions import db
from collective.ledger.models import JournalEntry
from collective.pool.models import ClientPayment
from tests.api.conftest import payment_body
from tests.factories import PASSWORD


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_payment_is_recorded_split_and_its_split_read_back(api, world):
    made = api("POST", "/collectives/ours/payments", world.full, json=payment_body(world))
    assert made.status_code == 201, made.get_data(as_text=True)
    payment = made.get_json()
    assert (payment["amount"], payment["currency"], payment["base_amount"]) == (10_000, "USD",
                                                                               10_000)
    split = api("GET", f"/collectives/ours/payments/{payment['id']}/split", world.full)
    body = split.get_json()
    # 10% to the common fund, no finder, the rest to the one member who logged hours.
    assert body["common_fund"] == 1_000
    assert [(line["membership_id"], line["total"]) for line in body["lines"]] == [
        (world.member_id, 9_000)]
    assert body["common_fund"] + sum(line["total"] for line in body["lines"]) == 10_000


def test_an_idempotent_replay_returns_the_first_answer_and_posts_nothing(api, world, setup):
    key = {"Idempotency-Key": "pay-2026-0001"}
    first = api("POST", "/collectives/ours/payments", world.full, json=payment_body(world),
                headers=key)
    assert first.status_code == 201
    with setup():
        counts = _count(ClientPayment), _count(JournalEntry)
    again = api("POST", "/collectives/ours/payments", world.full, json=payment_body(world),
                headers=key)
    assert (again.status_code, again.get_data()) == (201, first.get_data())
    assert again.headers["Idempotent-Replayed"] == "true"
    with setup():
        assert (_count(ClientPayment), _count(JournalEntry)) == counts
    other = api("POST", "/collectives/ours/payments", world.full,
                json=payment_body(world, amount=20_000), headers=key)
    assert other.status_code == 409
    assert other.get_json()["error"]["fields"] == {
        "Idempotency-Key": ["this Idempotency-Key was used for another request"]}
    with setup():
        assert (_count(ClientPayment), _count(JournalEntry)) == counts


def test_keys_are_kept_per_token_and_a_refused_write_keeps_no_key(api, world, setup):
    key = {"Idempotency-Key": "same-key"}
    refused = api("POST", "/collectives/ours/payments", world.full,
                  json=payment_body(world, received_on="2020-01-01"), headers=key)
    assert refused.status_code == 422
    with setup():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(IdempotencyKey)
                                 .filter_by(key="same-key")) == 0
    assert api("POST", "/collectives/ours/payments", world.full, json=payment_body(world),
               headers=key).status_code == 201
    # The same key from another token is that token's own: its payment is refused as a
    # duplicate of the first (the pool's own rule), not answered from the first's key.
    other = api("POST", "/collectives/ours/payments", world.limited, json=payment_body(world),
                headers=key)
    assert other.status_code == 409 and "confirm_duplicate" in other.get_json()["error"][
        "fields"]


def test_a_malformed_key_or_a_key_without_a_token_is_a_400_naming_the_header(api, auth, world):
    bad = api("POST", "/collectives/ours/payments", world.full, json=payment_body(world),
              headers={"Idempotency-Key": "with space"})
    assert bad.status_code == 400 and "Idempotency-Key" in bad.get_json()["error"]["fields"]
    api.client.adds_csrf_token = True
    auth.login(world.founder_email, PASSWORD)
    session = api("POST", "/collectives/ours/payments", json=payment_body(world),
                  headers={"Idempotency-Key": "k1"})
    assert session.status_code == 400
    assert "token" in session.get_json()["error"]["message"]


def test_a_token_post_needs_no_csrf_token_and_a_session_post_does(api, auth, world, setup):
    assert api("POST", "/collectives/ours/clients", world.full,
               json={"name": "By token"}).status_code == 201
    api.client.adds_csrf_token = True  # the sign-in form has its token
    auth.login(world.founder_email, PASSWORD)
    api.client.adds_csrf_token = False
    refused = api("POST", "/collectives/ours/clients", json={"name": "By session"})
    assert refused.status_code == 400
    assert "CSRF" in refused.get_json()["error"]["message"]
    with setup():
        assert _count_named("By session") == 0
    api.client.adds_csrf_token = True
    accepted = api("POST", "/collectives/ours/clients", json={"name": "By session"})
    assert accepted.status_code == 201
    # A session may read without one.
    api.client.adds_csrf_token = False
    assert api("GET", "/collectives/ours/clients").status_code == 200


def _count_named(name: str) -> int:
    from collective.pool.models import Client

    return db.session.scalar(sa.select(sa.func.count()).select_from(Client)
                             .filter_by(name=name))


def test_pitches_move_and_are_allocated_through_the_pool_services(api, world):
    made = api("POST", "/collectives/ours/pitches", world.full, json={
        "client_id": api("GET", f"/collectives/ours/pitches/{world.pitch_id}",
                         world.full).get_json()["client_id"],
        "title": "Newsletter", "value_amount": 50_000, "value_currency": "USD"})
    assert made.status_code == 201 and made.get_json()["state"] == "open"
    pitch = made.get_json()
    moves = f"/collectives/ours/pitches/{pitch['id']}/transitions"
    illegal = api("POST", moves, world.full, json={"to_state": "paid"})
    assert illegal.status_code == 422 and list(illegal.get_json()["error"]["fields"]) == ["state"]
    moved = api("POST", moves, world.full, json={"to_state": "pitched",
                                                 "version": pitch["version"]})
    assert moved.status_code == 200 and moved.get_json()["state"] == "pitched"
    stale = api("POST", moves, world.full, json={"to_state": "won", "version": pitch["version"]})
    assert stale.status_code == 409 and "version" in stale.get_json()["error"]["fields"]
    api("POST", moves, world.full, json={"to_state": "won"})
    allocated = api("POST", f"/collectives/ours/pitches/{pitch['id']}/allocations", world.full,
                    json={"membership_id": world.member_id, "role": "lead", "weight": 2})
    assert allocated.status_code == 200 and allocated.get_json()["role"] == "lead"
    listed = api("GET", f"/collectives/ours/pitches/{pitch['id']}/allocations", world.full)
    assert [a["membership_id"] for a in listed.get_json()["items"]] == [world.member_id]


def test_a_member_logs_time_on_their_own_allocation_only(api, world):
    logged = api("POST", "/collectives/ours/time-entries", world.member, json={
        "allocation_id": world.allocation_id, "worked_on": "2026-10-02", "minutes": 90})
    assert logged.status_code == 201 and logged.get_json()["pitch_id"] == world.pitch_id
    mine = api("GET", "/collectives/ours/time-entries", world.member,
               query={"since": "2026-10-02"})
    assert [e["minutes"] for e in mine.get_json()["items"]] == [90]
    # The founder has no part in that allocation: it is not theirs to log on.
    theirs = api("POST", "/collectives/ours/time-entries", world.full, json={
        "allocation_id": world.allocation_id, "worked_on": "2026-10-02", "minutes": 90})
    assert theirs.status_code == 404


def test_keys_older_than_a_day_are_forgotten_by_the_scheduler_and_on_use(api, world, setup,
                                                                          app):
    from datetime import timedelta

    from collective.api.idempotency import purge_expired
    from collective.clock import now_utc
    from collective.scheduling import build_scheduler

    assert "api_idempotency_keys" in {job.id for job in
                                      build_scheduler(app, blocking=False).get_jobs()}
    key = {"Idempotency-Key": "yesterday"}
    assert api("POST", "/collectives/ours/clients", world.full, json={"name": "Old"},
               headers=key).status_code == 201
    with setup():
        row = db.session.scalar(sa.select(IdempotencyKey).filter_by(key="yesterday"))
        row.expires_at = now_utc() - timedelta(seconds=1)
        db.session.commit()
    # Used again after 24 hours, the key is a new one: the request runs again (and the
    # pool refuses a second client of that name).
    again = api("POST", "/collectives/ours/clients", world.full, json={"name": "Old"},
                headers=key)
    assert again.status_code == 409 and "Idempotent-Replayed" not in again.headers
    with setup():
        # The refusal rolled back, the expired row with it; the scheduler's purge takes it.
        assert purge_expired(now_utc()) >= 1
        db.session.commit()
        assert db.session.scalar(sa.select(IdempotencyKey).filter_by(key="yesterday")) is None
    fresh = api("POST", "/collectives/ours/clients", world.full, json={"name": "Newer"},
                headers=key)
    assert fresh.status_code == 201 and fresh.get_json()["name"] == "Newer"

"""Rate limits (collective/web/limits.py): per client address and per account, answered 429
with the error page before the view runs; the window passes by moving the clock, not by
sleeping (the limiter's memory storage reads time.time(), which time-machine moves)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import time_machine

from collective.extensions import db
from collective.members.models import User
from tests.factories import PASSWORD, commit, make_user

ROOT = Path(__file__).resolve().parents[2]


def _login(client, email, password, ip="203.0.113.5"):
    return client.post("/login", data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": ip})


def test_thirty_failed_logins_get_429s_and_the_right_password_works_after_the_window(
        app, client, setup):
    with setup():
        email = make_user(email="target@example.test").email
        commit()
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False):
        statuses = [_login(client, email, "wrong password").status_code for _ in range(30)]
        assert statuses[:10] == [200] * 10  # the form again, with its error
        assert statuses[10:] == [429] * 20
        refused = _login(client, email, PASSWORD)
        assert refused.status_code == 429
        assert b"Too many tries" in refused.data
        assert int(refused.headers["Retry-After"]) > 0
        assert client.get("/collectives").status_code == 302  # not signed in
    with time_machine.travel(start + timedelta(minutes=16), tick=False):
        accepted = _login(client, email, PASSWORD)
        assert accepted.status_code == 302
        signed_in = client.get("/collectives", environ_base={"REMOTE_ADDR": "203.0.113.5"})
        assert signed_in.status_code == 200


def test_the_account_limit_holds_from_another_address_and_spares_other_accounts(
        client, setup):
    with setup():
        target = make_user(email="victim@example.test").email
        other = make_user(email="other@example.test").email
        commit()
    for _ in range(10):
        _login(client, target, "guess", ip="198.51.100.1")
    assert _login(client, target, "guess", ip="198.51.100.2").status_code == 429
    assert _login(client, " VICTIM@example.test ", PASSWORD,
                  ip="198.51.100.3").status_code == 429
    assert _login(client, other, PASSWORD, ip="198.51.100.4").status_code == 302


def test_one_address_trying_many_accounts_is_limited(client):
    statuses = [_login(client, f"nobody{n}@example.test", "guess", ip="192.0.2.9").status_code
                for n in range(51)]
    assert statuses[:50] == [200] * 50
    assert statuses[50] == 429
    assert _login(client, "fresh@example.test", "guess", ip="192.0.2.10").status_code == 200


def test_successful_sign_ins_do_not_count(client, setup):
    with setup():
        email = make_user().email
        commit()
    for _ in range(12):
        assert _login(client, email, PASSWORD).status_code == 302
        client.post("/logout")
    assert _login(client, email, "wrong").status_code == 200


def test_registrations_from_one_address_are_limited_and_the_refused_one_writes_nothing(
        app, client):
    def register(n):
        return client.post("/register", environ_base={"REMOTE_ADDR": "192.0.2.50"}, data={
            "email": f"new{n}@example.com", "name": f"New {n}", "password": PASSWORD,
            "confirm": PASSWORD, "timezone": "UTC"})

    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.count(User.id)))
    statuses = []
    for n in range(11):
        client.post("/logout", environ_base={"REMOTE_ADDR": "192.0.2.50"})
        statuses.append(register(n).status_code)
    assert statuses[:10] == [302] * 10
    assert statuses[10] == 429
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == before + 10
        assert db.session.scalar(sa.select(User.id).where(
            User.email == "new10@example.com")) is None


def test_password_reset_requests_from_one_address_are_limited(client):
    statuses = [client.post("/password/forgot", data={"email": f"p{n}@example.com"},
                            environ_base={"REMOTE_ADDR": "192.0.2.77"}).status_code
                for n in range(31)]
    # The database's own limit (members/limits.py, 20 an hour per client) answers first;
    # Flask-Limiter's per-address limit is the one shared by every worker.
    assert statuses[:20] == [302] * 20
    assert set(statuses[20:30]) == {429}
    assert statuses[30] == 429


def test_guessing_invitation_links_is_limited(client):
    statuses = [client.get(f"/invite/guess-{n}", environ_base={"REMOTE_ADDR": "192.0.2.88"}
                           ).status_code for n in range(31)]
    assert 429 not in statuses[:30]
    assert statuses[30] == 429


def test_guessing_reset_and_confirmation_links_is_limited(client):
    for path in ("/password/reset/guess-{n}", "/email/confirm/guess-{n}"):
        statuses = [client.get(path.format(n=n), environ_base={"REMOTE_ADDR": "192.0.2.99"}
                               ).status_code for n in range(31)]
        assert 429 not in statuses[:30], path
        assert statuses[30] == 429, path


#: The Redis the shared-store test counts in: CI starts the machine's and names it
#: (.ci/run); without REDIS_URL the test looks on the usual port and skips if none answers.
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")

#: One worker: its own process and app, posting `n` failed sign-ins for one address; prints
#: the statuses it got.
WORKER = """
import json, sys
from collective import create_app
config, email, n = json.loads(sys.argv[1]), sys.argv[2], int(sys.argv[3])
client = create_app(config).test_client()
print(json.dumps([client.post("/login", data={"email": email, "password": "wrong"},
                              environ_base={"REMOTE_ADDR": "192.0.2.77"}).status_code
                  for _ in range(n)]))
"""


def _worker(database_url: str, storage: str, prefix: str, email: str, n: int) -> list[int]:
    config = {"SQLALCHEMY_DATABASE_URI": database_url, "WTF_CSRF_ENABLED": False,
              "SECRET_KEY": "test-secret", "RATELIMIT_STORAGE_URI": storage,
              "RATELIMIT_KEY_PREFIX": prefix}
    done = subprocess.run([sys.executable, "-c", WORKER, json.dumps(config), email, str(n)],
                          env={**os.environ, "COLLECTIVE_ENV": "testing"}, cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _redis_or_skip() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.RedisError:
        if "REDIS_URL" in os.environ:
            raise  # CI named it: a Redis that does not answer fails the run
        pytest.skip(f"no Redis answers at {REDIS_URL} (CI starts one and sets REDIS_URL)")


def test_workers_on_one_redis_count_together_and_alone_in_memory(app, database_url):
    """Two worker processes on the shared store: the second is refused once the first has
    used the account's ten tries. In memory, each would allow the whole limit."""
    _redis_or_skip()
    prefix = f"collective-test-{uuid.uuid4().hex}"  # this run's counts only
    email = "shared-target@example.test"
    assert _worker(database_url, REDIS_URL, prefix, email, 10) == [200] * 10
    assert _worker(database_url, REDIS_URL, prefix, email, 2) == [429, 429]
    # Counting in each process's memory, a second worker starts from nothing.
    assert _worker(database_url, "memory://", prefix, email, 10) == [200] * 10

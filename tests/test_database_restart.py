"""PostgreSQL restarts while the app is under load (issue 13, faults): requests fail only while
the database is down, each with the clean 503 page; the gunicorn workers survive; the pool's
pre-ping replaces the dead connections, so every request after the restart succeeds; and the
ledger check passes, with every payment the app confirmed in the books.

The database is a private cluster (tests/private_postgres.py), never the shared server; it
and gunicorn listen on ports the system hands out, so xdist workers cannot clash. The test
runs on the SQLite and the PostgreSQL suites alike; it is skipped only when the machine has
no PostgreSQL server programs."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import flask_migrate
import pytest
import sqlalchemy as sa

from bench.webclient import Browser, Reply
from collective import create_app
from collective.extensions import db
from collective.ledger.balances import check_ledger, run_extra_checks
from collective.pool import allocation, clients, pitches, rules
from collective.pool import time as work_time
from collective.pool.models import ClientPayment
from tests.factories import PASSWORD, commit, make_collective
from tests.ports import free_port
from tests.private_postgres import PrivateCluster, find_binaries

ROOT = Path(__file__).resolve().parent.parent
#: Requests each loader makes before the stop, and after the restart, at the least.
BEFORE, AFTER = 4, 4
#: Failed requests seen while the database is down before it is started again.
FAILURES_WHILE_DOWN = 4


@pytest.fixture
def cluster():
    binaries = find_binaries()
    if binaries is None:
        pytest.skip("no PostgreSQL server programs (initdb, pg_ctl) under "
                    "/usr/lib/postgresql/*/bin or on PATH")
    private = PrivateCluster(binaries, free_port())
    try:
        private.create()
        private.start()
        yield private
    finally:
        private.remove()


@dataclass
class World:
    slug: str
    email: str
    pitch_id: int


def build(url: str) -> World:
    """Migrate the private database and found a collective whose work in progress can be
    paid: a founder with every role, a share rule, a pitch with logged hours."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "test-secret",
                      "PASSWORD_HASH_METHOD": "scrypt:1024:8:1"})
    today, now = date.today(), datetime.now(UTC)
    with app.app_context():
        flask_migrate.upgrade()
        founder = make_collective()
        client = clients.create_client(founder, name="Harbour Press", country="NZ")
        pitch = pitches.create_pitch(founder, client_id=client.id, title="Annual report",
                                     value_amount=500_000, value_currency="USD",
                                     today=today, at=now)
        for state in ("pitched", "won"):
            pitches.transition_pitch(founder, pitch, state, at=now)
        work = allocation.allocate_member(founder, pitch, membership_id=founder.id)
        pitches.transition_pitch(founder, pitch, "in_progress", at=now)
        work_time.log_time(founder, work, worked_on=today, minutes=120, today=today)
        rules.set_founding_rule(founder, rules.terms_from(1000, 0, "hours"),
                                today - timedelta(days=30), today=today)
        commit()
        world = World(founder.collective.slug, founder.user.email, pitch.id)
        db.engine.dispose()
    return world


@pytest.fixture
def server(cluster, tmp_path):
    """gunicorn with two workers, as in production, on the private database, which holds
    a collective by the time the fixture returns: (the process, the world, its port)."""
    port = free_port()
    log = tmp_path / "gunicorn.log"
    env = {**os.environ, "COLLECTIVE_ENV": "production", "SECRET_KEY": "restart-test",
           "RATELIMIT_STORAGE_URI": "memory://",
           "COLLECTIVE_INSECURE_COOKIES": "1", "DATABASE_URL": cluster.url}
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--preload", "--no-control-socket",
         "--graceful-timeout", "1", "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log.open("wb"))
    try:
        # gunicorn boots (it needs no database for that) while the database is migrated.
        world = build(cluster.url)
        probe = Browser(port, timeout=5)
        deadline = time.monotonic() + 30
        while probe.get("/health").status != 200:
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "gunicorn did not answer /health in 30 s"
            time.sleep(0.1)  # waiting for the server to boot, not timing anything
        probe.close()
        yield process, world, port
    finally:
        process.send_signal(signal.SIGINT)  # quick shutdown: the test is over
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def workers(process: subprocess.Popen) -> set[int]:
    """The gunicorn master's worker processes."""
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text()
    return {int(pid) for pid in children.split()}


@dataclass
class Loader:
    """One visitor making requests in a loop until told to stop; keeps every reply."""

    name: str
    send: object  # () -> (Reply, what it was)
    replies: list[tuple[Reply, str]] = field(default_factory=list)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.replies.append(self.send())


def ok(reply: Reply) -> bool:
    return reply.status in (200, 302)


def test_requests_fail_only_while_postgresql_is_down_and_the_ledger_holds(cluster, server):
    process, world, port = server
    base = f"/c/{world.slug}"
    pay_page = f"{base}/pool/pitches/{world.pitch_id}/payments/new"

    reader = Browser(port)
    reader.login(world.email, PASSWORD)
    pages = [f"{base}/ledger/trial-balance", f"{base}/dashboard", "/health",
             f"{base}/pool/payments"]
    turn = iter(range(10**9))

    def read():
        path = pages[next(turn) % len(pages)]
        return reader.get(path), path

    writer = Browser(port)
    writer.login(world.email, PASSWORD)
    token = writer.csrf_token(pay_page)
    amounts = iter(range(1, 10**9))
    sent: dict[str, int] = {}

    def write():
        n = next(amounts)
        reference = f"LOAD-{n}"
        reply = writer.request("POST", pay_page, {
            "amount": f"{100 + n}.00", "currency": "USD",
            "received_on": date.today().isoformat(), "reference": reference,
            "request_key": uuid.uuid4().hex, "csrf_token": token})
        sent[reference] = reply.status
        return reply, reference

    loaders = [Loader("reader", read), Loader("writer", write)]
    stop = threading.Event()
    threads = [threading.Thread(target=loader.run, args=(stop,)) for loader in loaders]
    for thread in threads:
        thread.start()
    try:
        before_workers = workers(process)

        def wait_for(condition, what: str, seconds: float = 20) -> None:
            deadline = time.monotonic() + seconds
            while not condition():
                assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
                time.sleep(0.02)  # polling the loaders' progress, not timing anything

        wait_for(lambda: all(len(lo.replies) >= BEFORE for lo in loaders), "requests before")
        down_at = time.perf_counter()
        cluster.stop("fast")
        wait_for(lambda: sum(not ok(r) for lo in loaders for r, _ in lo.replies
                             if r.started >= down_at) >= FAILURES_WHILE_DOWN,
                 "requests failing while the database is down")
        cluster.start()
        up_at = time.perf_counter()
        wait_for(lambda: all(sum(r.started > up_at for r, _ in lo.replies) >= AFTER
                             for lo in loaders), "requests after the restart")
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)

    replies = [(lo.name, reply, what) for lo in loaders for reply, what in lo.replies]
    before = [(n, r, w) for n, r, w in replies if r.started + r.seconds < down_at]
    after = [(n, r, w) for n, r, w in replies if r.started > up_at]
    failed = [(n, r, w) for n, r, w in replies if not ok(r)]
    assert [x for x in before if not ok(x[1])] == []
    assert [x for x in after if not ok(x[1])] == []
    assert {n for n, _, _ in after} == {"reader", "writer"}
    # Failures: only requests that were running while the database was down, and each one
    # the clean 503 page (no traceback, no broken connection).
    assert len(failed) >= FAILURES_WHILE_DOWN
    assert all(r.started + r.seconds >= down_at and r.started <= up_at for _, r, _ in failed)
    assert {r.status for _, r, _ in failed} == {503}, {(r.status, r.body[:200])
                                                     for _, r, _ in failed}
    assert all("Briefly unavailable" in r.body and "Traceback" not in r.body
               for _, r, _ in failed)
    # The server and its workers lived through it.
    assert process.poll() is None
    assert workers(process) == before_workers

    app = create_app({"SQLALCHEMY_DATABASE_URI": cluster.url, "SECRET_KEY": "test-secret"})
    with app.app_context():
        recorded = set(db.session.scalars(sa.select(ClientPayment.reference)))
        result, problems = check_ledger(), run_extra_checks()
        db.engine.dispose()
    confirmed = {ref for ref, status in sent.items() if status == 302}
    assert len(confirmed) >= BEFORE + AFTER
    assert confirmed <= recorded
    assert result.ok, result
    assert {name: found for name, found in problems.items() if found} == {}
    assert result.entries >= len(confirmed)


def test_the_pool_pings_its_connections_before_use(app):
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True
    with app.app_context():
        assert db.engine.pool._pre_ping is True

"""Several scheduler processes share the collectives between them (PostgreSQL): each
collective's due runs are done once, by one process, and the work is spread.

Three real processes (multiprocessing, spawn: each its own interpreter, app and database
connections) run the fund job's round at once over 200 small collectives; each collective's
runs record the process that did them in `triggered_by`. Commits for real, like
test_runs_reliability.py.

200, as issue 13 asks: a collective costs a process about a hundred statements, so the round
takes a minute or more (three on a loaded machine); the wait below only guards against a hang.
"""
from __future__ import annotations

import multiprocessing
import queue
from collections import Counter
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from collective.benefits import jobs
from collective.benefits.compute import add_months, month_start
from collective.benefits.models import BenefitRun, FundRunFailure
from collective.extensions import db
from collective.joblocks import FUND_RUNS_LOCK, CollectiveClaims
from collective.ledger.models import JournalEntry
from collective.mail.models import OutboxMessage
from collective.members.models import Collective
from tests.benefits.factories import found_fund
from tests.benefits.scheduler_process import run_fund_round

NOW = datetime.now(UTC)
LAST_MONTH = add_months(month_start(NOW.date()), -1)
COLLECTIVES = 200
#: How long the test waits for the processes to report: a guard against a hang, not a
#: measure of speed (on a loaded machine the round takes a while).
REPORT_TIMEOUT = 300
PROCESSES = 3


@pytest.fixture
def no_mail_left(app):
    """Take back the mail these rounds queue (a treasurer hears of each run): hundreds of
    committed outbox rows would hold up the mail tests that run later."""
    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(OutboxMessage.id),
                                                               0)))
    yield
    with app.app_context():
        db.session.execute(sa.delete(OutboxMessage).where(OutboxMessage.id > before))
        db.session.commit()


def _small_collectives(app, count: int) -> dict[int, str]:
    """`count` committed collectives of one member each, their plan from last month: each
    owes last month's contributions and payouts runs. Slug by id."""
    with app.app_context():
        founders = [found_fund(1, start=LAST_MONTH)[0] for _ in range(count)]
        db.session.commit()
        return {f.collective_id: f.collective.slug for f in founders}


def test_three_scheduler_processes_share_200_collectives_and_do_each_run_once(
        app, database_url, no_mail_left):
    if not database_url.startswith("postgresql"):
        pytest.skip("several scheduler processes need PostgreSQL's advisory locks; "
                    "SQLite runs one writer and one scheduler process")
    collectives = _small_collectives(app, COLLECTIVES)
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(PROCESSES), context.Queue()
    names = [f"scheduler-{i}" for i in range(PROCESSES)]
    processes = [context.Process(target=run_fund_round,
                                 args=(database_url, name, NOW, start, results))
                 for name in names]
    for process in processes:
        process.start()
    try:
        reported = dict(results.get(timeout=REPORT_TIMEOUT) for _ in processes)
    except queue.Empty:
        reported = {}
    for process in processes:
        process.join(timeout=30)
        if process.is_alive():
            process.kill()
    assert sorted(reported) == names, reported
    assert all(isinstance(slugs, list) for slugs in reported.values()), reported

    with app.app_context():
        rows = db.session.execute(
            sa.select(BenefitRun.collective_id, BenefitRun.kind, BenefitRun.period,
                      BenefitRun.triggered_by)
            .where(BenefitRun.collective_id.in_(collectives))).all()
        entries = Counter(db.session.scalars(
            sa.select(JournalEntry.collective_id)
            .where(JournalEntry.collective_id.in_(collectives),
                   JournalEntry.kind == "contribution")).all())
        failures = db.session.scalar(sa.select(sa.func.count(FundRunFailure.id)).where(
            FundRunFailure.collective_id.in_(collectives)))

    # Every due run done exactly once: both of last month's runs of each collective...
    runs = Counter((cid, kind, period) for cid, kind, period, _ in rows)
    assert set(runs) == {(cid, kind, LAST_MONTH) for cid in collectives
                         for kind in ("contributions", "payouts")}
    assert set(runs.values()) == {1}
    assert entries == dict.fromkeys(collectives, 1)  # one member's contribution, once
    assert failures == 0
    # ...and each collective's by one process, which says it ran that collective.
    by_collective: dict[int, set[str]] = {}
    for cid, _, _, name in rows:
        by_collective.setdefault(cid, set()).add(name)
    assert all(len(ran) == 1 for ran in by_collective.values()), by_collective
    ran_by = {cid: ran.pop() for cid, ran in by_collective.items()}
    for name, slugs in reported.items():
        mine = {collectives[cid] for cid, who in ran_by.items() if who == name}
        assert mine == set(slugs) & set(collectives.values()), name
    # The work was spread: every process ran a fair part of the collectives.
    shares = Counter(ran_by.values())
    assert set(shares) == set(names), shares
    assert min(shares.values()) >= COLLECTIVES // (PROCESSES * 4), shares


def test_a_round_skips_a_collective_another_process_holds_instead_of_waiting(
        app, database_url, no_mail_left):
    if not database_url.startswith("postgresql"):
        pytest.skip("the per-collective locks are PostgreSQL's advisory locks")
    held, free = _small_collectives(app, 2)  # ids, in order
    with app.app_context(), CollectiveClaims(FUND_RUNS_LOCK) as other_process:
        with other_process.claim(held) as mine:
            assert mine
            with CollectiveClaims(FUND_RUNS_LOCK) as this_process:
                with this_process.claim(held) as also_mine:
                    assert not also_mine

            done = jobs.run_all_due(NOW, triggered_by="this process")

            assert collectives_posted(done, [held, free]) == {free}
        # Let go, the next round does it.
        done = jobs.run_all_due(NOW, triggered_by="this process")
        assert collectives_posted(done, [held, free]) == {held}


def collectives_posted(done: dict, ids: list[int]) -> set[int]:
    """Which of these collectives the round posted runs for."""
    slugs = {db.session.get(Collective, cid).slug: cid for cid in ids}
    return {slugs[slug] for slug, posted in done.items() if posted and slug in slugs}

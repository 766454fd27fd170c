"""Fund runs that survive a crash half-way, two processes at once, the scheduler catching
up, and the command line.

Most tests here commit for real (no rollback fixture), like tests/test_concurrency.py: each
block has its own app context, session and connection. The test database is reset when the
test session starts, so the rows they leave behind do no harm. Runs use real months (the
scheduler and the command only run months that have ended by today).
"""
from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED

from collective.benefits import jobs, queries
from collective.benefits import runs as fund_runs
from collective.benefits.compute import add_months, month_start
from collective.benefits.models import BenefitRun, RunLine
from collective.extensions import db
from collective.ledger import balances
from collective.ledger import services as ledger
from collective.ledger.models import JournalEntry, Posting
from tests.benefits.factories import deposit, found_fund

TODAY = datetime.now(UTC).date()
THIS_MONTH = month_start(TODAY)
LAST_MONTH = add_months(THIS_MONTH, -1)
#: Three months whose runs are due: the plan starts with the first.
MISSED = [add_months(THIS_MONTH, -3), add_months(THIS_MONTH, -2), LAST_MONTH]
CRASH = "benefits_test_crash"


def _committed_fund(app, size: int = 3) -> dict:
    """A committed collective whose plan started three months ago; everyone paid in 500.00."""
    with app.app_context():
        people = found_fund(size, start=MISSED[0])
        for person in people:
            deposit(people[0], person, 50_000, on=MISSED[0], today=datetime.now(UTC).date())
        db.session.commit()
        return {"id": people[0].collective_id, "slug": people[0].collective.slug,
                "members": [p.id for p in people]}


def _state(collective_id: int) -> dict:
    """What the runs of a collective have written so far."""
    return {
        "runs": [tuple(row) for row in db.session.execute(
            sa.select(BenefitRun.kind, BenefitRun.period, BenefitRun.entry_count)
            .filter_by(collective_id=collective_id).order_by(BenefitRun.period, BenefitRun.id))],
        "keys": db.session.scalars(
            sa.select(JournalEntry.idempotency_key)
            .where(JournalEntry.collective_id == collective_id,
                   JournalEntry.kind == "contribution").order_by(JournalEntry.id)).all(),
        "lines": db.session.scalar(
            sa.select(sa.func.count(RunLine.id)).join(BenefitRun)
            .where(BenefitRun.collective_id == collective_id)),
        "postings": db.session.scalar(
            sa.select(sa.func.count(Posting.id)).join(JournalEntry)
            .where(JournalEntry.collective_id == collective_id)),
    }


def _keys(period: date, member_ids: list[int]) -> list[str]:
    return [f"contribution:{period:%Y-%m}:member:{m}" for m in member_ids]


# --- Killed half-way --------------------------------------------------------------------------


def _install_crash(fail_from: int) -> None:
    """A real trigger that refuses every posting once the table holds `fail_from` rows."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text(
            f"CREATE FUNCTION {CRASH}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN IF (SELECT count(*) FROM postings) >= {fail_from} THEN "
            "RAISE EXCEPTION 'simulated crash'; END IF; RETURN NEW; END $$"))
        db.session.execute(sa.text(
            f"CREATE TRIGGER {CRASH} BEFORE INSERT ON postings FOR EACH ROW "
            f"EXECUTE FUNCTION {CRASH}()"))
    else:
        db.session.execute(sa.text(
            f"CREATE TRIGGER {CRASH} BEFORE INSERT ON postings "
            f"WHEN (SELECT count(*) FROM postings) >= {fail_from} "
            "BEGIN SELECT RAISE(ABORT, 'simulated crash'); END"))


def _drop_crash() -> None:
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text(f"DROP TRIGGER IF EXISTS {CRASH} ON postings"))
        db.session.execute(sa.text(f"DROP FUNCTION IF EXISTS {CRASH}()"))
    else:
        db.session.execute(sa.text(f"DROP TRIGGER IF EXISTS {CRASH}"))


def test_a_run_killed_half_way_leaves_nothing_and_posts_once_when_run_again(app):
    fund = _committed_fund(app)
    with app.app_context():
        before = _state(fund["id"])
        existing = db.session.scalar(sa.select(sa.func.count(Posting.id)))
        _install_crash(existing + 2)  # the run's third posting fails
        db.session.commit()
    try:
        with app.app_context():
            with pytest.raises(sa.exc.DBAPIError, match="simulated crash"):
                fund_runs.run_contributions(fund["id"], LAST_MONTH, today=TODAY,
                                            triggered_by="test")
                db.session.commit()
            db.session.rollback()
    finally:
        with app.app_context():
            _drop_crash()
            db.session.commit()

    with app.app_context():
        crashed = _state(fund["id"])
        assert (crashed["runs"], crashed["keys"], crashed["lines"]) == ([], [], 0)
        assert crashed["postings"] == before["postings"]
        assert [balances.member_balance(m)["USD"] for m in fund["members"]] == [50_000] * 3
        assert queries.fund_balance(fund["id"]) == 0

    with app.app_context():
        result = fund_runs.run_contributions(fund["id"], LAST_MONTH, today=TODAY,
                                             triggered_by="test")
        db.session.commit()
        assert (result.entries, result.total) == (3, 3 * 2_250)

    with app.app_context():
        after = _state(fund["id"])
        assert after["runs"] == [("contributions", LAST_MONTH, 3)]
        assert after["keys"] == _keys(LAST_MONTH, fund["members"])
        assert after["lines"] == 3
        assert after["postings"] == before["postings"] + 6
        assert queries.fund_balance(fund["id"]) == 3 * 2_250


# --- Two at once --------------------------------------------------------------------------


def _run_in_thread(app, collective_id: int, outcomes: list, i: int,
                   barrier: threading.Barrier | None = None) -> threading.Thread:
    def run() -> None:
        with app.app_context():
            try:
                if barrier is not None:
                    barrier.wait(timeout=10)
                result = fund_runs.run_contributions(collective_id, LAST_MONTH,
                                                     triggered_by=f"thread-{i}", today=TODAY)
                db.session.commit()
                outcomes[i] = "already done" if result.already_done else "posted"
            except Exception as exc:  # reported by the test's assertions
                db.session.rollback()
                outcomes[i] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_two_processes_running_the_same_month_at_once_post_once(app):
    fund = _committed_fund(app, size=4)
    barrier = threading.Barrier(2)
    outcomes: list[object] = [None, None]

    threads = [_run_in_thread(app, fund["id"], outcomes, i, barrier) for i in range(2)]
    for thread in threads:
        thread.join(timeout=60)

    assert outcomes.count("posted") == 1, outcomes
    other = next(o for o in outcomes if o != "posted")
    assert other == "already done" or isinstance(other, sa.exc.IntegrityError), other
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            # The advisory lock makes the second wait, then it sees the finished run.
            assert other == "already done"
        state = _state(fund["id"])
        assert state["runs"] == [("contributions", LAST_MONTH, 4)]
        assert state["keys"] == _keys(LAST_MONTH, fund["members"])
        assert state["lines"] == 4
        assert queries.fund_balance(fund["id"]) == 4 * 2_250


def test_on_postgresql_a_run_waits_while_another_process_holds_the_collective_s_lock(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("advisory locks are PostgreSQL's; SQLite queues writers instead")
    fund = _committed_fund(app, size=2)
    with app.app_context():
        holder = db.engine.connect()
    held = holder.begin()
    holder.execute(sa.select(sa.func.pg_advisory_xact_lock(ledger.BALANCE_LOCK_SPACE,
                                                           fund["id"])))
    outcomes: list[object] = [None]
    try:
        thread = _run_in_thread(app, fund["id"], outcomes, 0)
        thread.join(timeout=1.5)
        assert thread.is_alive(), outcomes  # still waiting for the lock
    finally:
        held.rollback()
        holder.close()
    thread.join(timeout=30)
    assert outcomes == ["posted"]


# --- The scheduler --------------------------------------------------------------------------


def _setting(scheduler, job, name: str):
    """A job's setting; a scheduler that has not started keeps its defaults for later, so
    read them from the scheduler (APScheduler has no public accessor for them)."""
    return getattr(job, name, scheduler._job_defaults[name])


def test_the_scheduler_s_fund_job_catches_up_every_missed_month_once(app):
    fund = _committed_fund(app, size=2)
    scheduler = jobs.make_scheduler(app, blocking=False)

    assert isinstance(scheduler, BackgroundScheduler)
    assert scheduler.state == STATE_STOPPED
    runs, closer = scheduler.get_job("fund-runs"), scheduler.get_job("close-proposals")
    assert {j.id for j in scheduler.get_jobs()} == {"fund-runs", "close-proposals"}
    for job in (runs, closer):
        assert _setting(scheduler, job, "coalesce") is True
        assert _setting(scheduler, job, "max_instances") == 1
        assert _setting(scheduler, job, "misfire_grace_time") >= 86_400
        assert job.next_run_time is not None  # also runs once at start
    fields = {f.name: str(f) for f in runs.trigger.fields}
    assert (fields["hour"], fields["minute"]) == ("2", "0")
    assert closer.trigger.interval == timedelta(minutes=10)

    done = runs.func()

    assert [(r.kind, r.period) for r in done[fund["slug"]]] == [
        (kind, period) for period in MISSED for kind in ("contributions", "payouts")]
    with app.app_context():
        state = _state(fund["id"])
        assert [(kind, period) for kind, period, _ in state["runs"]] == [
            (kind, period) for period in MISSED for kind in ("contributions", "payouts")]
        assert state["keys"] == [k for period in MISSED
                                 for k in _keys(period, fund["members"])]
        assert fund_runs.due_periods(fund["id"], THIS_MONTH) == []

    again = runs.func()

    assert again[fund["slug"]] == []
    with app.app_context():
        assert _state(fund["id"]) == state
        assert queries.fund_balance(fund["id"]) == 3 * 2 * 2_250


# --- The command line ---------------------------------------------------------------------


def test_the_run_command_previews_posts_once_and_refuses_a_bad_period(runner, setup):
    with setup():
        people = found_fund(2, start=MISSED[0])
        for person in people:
            deposit(people[0], person, 10_000, on=MISSED[0], today=datetime.now(UTC).date())
        db.session.commit()
        slug, collective_id = people[0].collective.slug, people[0].collective_id
    label = f"{LAST_MONTH:%Y-%m}"
    command = ["benefits", "run", "contributions", "--collective", slug, "--period", label]

    preview = runner.invoke(args=[*command, "--dry-run"])

    assert preview.exit_code == 0, preview.output
    assert f"{slug}: contributions {label}: would post 2 entries, $45.00" in preview.output
    with setup():
        assert _state(collective_id)["runs"] == []
        assert _state(collective_id)["keys"] == []

    posted = runner.invoke(args=command)

    assert posted.exit_code == 0, posted.output
    assert f"{slug}: contributions {label}: posted 2 entries, $45.00" in posted.output
    with setup():
        assert _state(collective_id)["runs"] == [("contributions", LAST_MONTH, 2)]
        assert db.session.scalar(sa.select(BenefitRun.triggered_by)
                                 .filter_by(collective_id=collective_id)) == "cli"

    again = runner.invoke(args=command)

    assert again.exit_code == 0, again.output
    assert f"{slug}: contributions {label}: already done; nothing posted" in again.output
    with setup():
        assert len(_state(collective_id)["keys"]) == 2

    bad = runner.invoke(args=[*command[:-1], "2026-13"])
    assert bad.exit_code != 0
    assert "write the period as YYYY-MM, like 2026-10" in bad.output
    running = runner.invoke(args=[*command[:-1], f"{THIS_MONTH:%Y-%m}"])
    assert running.exit_code != 0
    assert "only a month that has ended can be run" in running.output
    unknown = runner.invoke(args=[*command[:4], "no-such-collective", *command[5:]])
    assert unknown.exit_code != 0
    assert "no collective 'no-such-collective'" in unknown.output


@pytest.mark.parametrize("period", ["26-1", "2026-1", "2026-10-01", "202610", "٢٠٢٦-١٠",
                                    "0000-10", "2026-00", " "])
def test_the_run_command_reads_a_period_as_yyyy_mm_only(runner, period):
    # Issue 9: '26-1' was read as January of the year 26. The option is refused before any
    # collective is looked at, so nothing runs.
    for kind in ("contributions", "payouts"):
        result = runner.invoke(args=["benefits", "run", kind, "--period", period])

        assert result.exit_code == 2, result.output
        assert "Invalid value for --period" in result.output
        assert "write the period as YYYY-MM, like 2026-10" in result.output


def test_the_run_command_shows_the_service_s_refusal_of_a_running_month_and_posts_nothing(
        runner, setup):
    with setup():
        people = found_fund(2, start=MISSED[0])
        for person in people:
            deposit(people[0], person, 10_000, on=MISSED[0], today=TODAY)
        db.session.commit()
        slug, collective_id = people[0].collective.slug, people[0].collective_id
        entries = db.session.scalar(sa.select(sa.func.count(JournalEntry.id))
                                    .filter_by(collective_id=collective_id))
    label = f"{THIS_MONTH:%Y-%m}"

    for extra in ([], ["--dry-run"]):
        refused = runner.invoke(args=["benefits", "run", "payouts", "--collective", slug,
                                      "--period", label, *extra])

        assert refused.exit_code == 1, refused.output
        assert (f"{slug}: payouts {label}: refused: only a month that has ended can be run; "
                f"{THIS_MONTH:%B %Y} ends on") in refused.output
    with setup():
        assert _state(collective_id)["runs"] == []
        assert db.session.scalar(sa.select(sa.func.count(JournalEntry.id))
                                 .filter_by(collective_id=collective_id)) == entries

"""`flask demo --scale N`: a synthetic collective as valid as what the app posts (every entry
balances, the fund's reserves add up, the keys are the app's), whose logins work, which a
second run refuses, after which a real fund run carries on; and the demo refuses to load
outside development unless forced."""
import os
import subprocess
import sys
from datetime import date

import sqlalchemy as sa

from collective.benefits import runs
from collective.benefits.models import BenefitRun, RunKind
from collective.demo.scale import LOGINS, SCALE_PASSWORD, build_scale, counts
from collective.extensions import db
from collective.ledger.balances import check_ledger, member_balances, run_extra_checks
from collective.ledger.models import JournalEntry, Posting
from collective.members.models import Collective, User

#: The history is October to December 2025; January 2026 is the month after it.
TODAY = date(2026, 1, 15)


def _build(members: int = 40, months: int = 3):
    return build_scale(members, months, seed=7, progress=False, today=TODAY)


def _keys(collective_id: int, prefix: str) -> list[str]:
    return list(db.session.scalars(sa.select(JournalEntry.idempotency_key).where(
        JournalEntry.collective_id == collective_id,
        JournalEntry.idempotency_key.like(f"{prefix}%"))))


def test_scale_collective_has_the_history_it_promises(ctx):
    summary = _build()
    cid = summary.collective_id
    assert summary.slug == "scale-40" and summary.counts == counts(cid)
    got = summary.counts
    assert got["members"] == 40
    assert got["pitches"] == 12  # about 0.3 per member
    assert got["clients"] == 5
    assert got["fund_runs"] == 6  # contributions and payouts, three months
    assert got["claims"] >= 2  # one approved in November, one pending this month
    assert got["payments"] > 0 and got["time_entries"] > got["payments"]
    # One contribution a member a month, under the run's own keys.
    contributions = _keys(cid, "contribution:")
    assert len(contributions) == len(set(contributions)) == 40 * 3
    assert "contribution:2025-12:member:" in contributions[-1]
    assert len(_keys(cid, "payment:")) == got["payments"]
    assert got["postings"] == db.session.scalar(
        sa.select(sa.func.count(Posting.id)).join(JournalEntry)
        .where(JournalEntry.collective_id == cid))


def test_every_entry_balances_and_the_fund_adds_up(ctx):
    cid = _build().collective_id
    check = check_ledger(cid)
    assert check.ok, (check.unbalanced_entry_ids, check.short_entry_ids)
    assert check.entries > 40 * 3
    assert run_extra_checks(cid) == {name: [] for name in run_extra_checks(cid)}
    # Nobody was paid out more than the collective owed them.
    owed = member_balances(cid, "USD")
    assert len(owed) == 40 and min(amount for _, amount in owed.values()) >= 0


def test_a_real_run_carries_on_after_the_synthetic_months(ctx):
    summary = _build()
    cid = summary.collective_id
    again = runs.run(cid, RunKind.CONTRIBUTIONS, date(2025, 12, 1), today=TODAY)
    assert again.already_done
    entries_before = check_ledger(cid).entries
    january = runs.run(cid, RunKind.CONTRIBUTIONS, date(2026, 1, 1), today=date(2026, 2, 2))
    assert not january.already_done and january.run is not None
    dues = int(january.lines["paid"].sum() + january.lines["owed"].sum())
    assert len(january.lines) == 40 and dues == january.total + january.shortfall > 0
    payouts = runs.run(cid, RunKind.PAYOUTS, date(2026, 1, 1), today=date(2026, 2, 2))
    assert payouts.run is not None
    assert check_ledger(cid).ok and check_ledger(cid).entries > entries_before
    assert run_extra_checks(cid) == {name: [] for name in run_extra_checks(cid)}
    repeat = runs.run(cid, RunKind.CONTRIBUTIONS, date(2026, 1, 1), today=date(2026, 2, 2))
    assert repeat.already_done
    assert db.session.scalar(sa.select(sa.func.count(BenefitRun.id))
                             .filter_by(collective_id=cid)) == 8


def test_the_same_seed_builds_the_same_numbers(ctx):
    first = _build(members=12, months=2)
    rows = db.session.execute(
        sa.select(JournalEntry.kind, sa.func.sum(sa.func.abs(Posting.amount)))
        .join(Posting).where(JournalEntry.collective_id == first.collective_id)
        .group_by(JournalEntry.kind).order_by(JournalEntry.kind)).all()
    assert dict(rows)["contribution"] > 0
    assert {kind for kind, _ in rows} >= {"opening", "contribution", "payment", "deposit"}


def test_command_loads_once_and_its_logins_work(app, runner, client):
    result = runner.invoke(args=["demo", "--scale", "30", "--months", "2"])
    assert result.exit_code == 0, result.output
    assert "Loaded Scale 30 at /c/scale-30/" in result.output
    assert "treasurer@scale.demo" in result.output and SCALE_PASSWORD in result.output
    second = runner.invoke(args=["demo", "--scale", "30", "--months", "2"])
    assert second.exit_code == 1
    assert "loaded already" in second.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Collective.id))
                                 .filter_by(name="Scale 30")) == 1

    def sign_in(role: str) -> None:
        client.post("/logout")
        response = client.post("/login", data={"email": LOGINS[role][0],
                                               "password": SCALE_PASSWORD})
        assert response.status_code == 302, role

    sign_in("treasurer")
    for path in ("/c/scale-30/fund/", "/c/scale-30/fund/treasurer", "/c/scale-30/ledger/"):
        assert client.get(path).status_code == 200, path
    sign_in("member")
    home = client.get("/c/scale-30/", follow_redirects=True)
    assert home.status_code == 200 and b"Scale 30" in home.data
    assert client.get("/c/scale-30/fund/treasurer").status_code == 403


def test_demo_refuses_outside_development_unless_forced(app, runner, monkeypatch):
    monkeypatch.setitem(app.config, "COLLECTIVE_ENV", "production")
    for args in (["demo"], ["demo", "--scale", "5", "--months", "1"]):
        refused = runner.invoke(args=args)
        assert refused.exit_code == 1, refused.output
        assert "refusing to load demo data in production" in refused.output
        assert "--force" in refused.output
    with app.app_context():
        assert db.session.scalar(sa.select(User.id).filter_by(
            email=LOGINS["treasurer"][0])) is None
    forced = runner.invoke(args=["demo", "--scale", "5", "--months", "1", "--force"])
    assert forced.exit_code == 0, forced.output
    assert "Loaded Scale 5" in forced.output


def test_demo_command_in_production_exits_non_zero(tmp_path):
    env = {**os.environ, "COLLECTIVE_ENV": "production", "SECRET_KEY": "not-a-secret",
           "RATELIMIT_STORAGE_URI": "memory://",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'prod.sqlite3'}"}
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "collective", "demo",
                           "--scale", "10"], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 1
    assert "refusing to load demo data in production" in done.stderr

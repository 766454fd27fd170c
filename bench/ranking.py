"""Allocation suggestions for a big collective: `suggest_members` against an ORM loop.

    .venv/bin/python bench/ranking.py                     # SQLite (a temporary file), 5,000
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/wt_alloc \
        .venv/bin/python bench/ranking.py                 # PostgreSQL, 10,000 (emptied first)

Builds the database with the real migrations, then members, skills, the delivered work
behind them (skill credits, issue 15), allocations and a ledger of about BENCH_POSTINGS
postings (a million by default) over three years with set-based SQL, and runs ANALYZE
(VACUUM ANALYZE on PostgreSQL: what autovacuum would have done by then, so index-only scans
can skip the table). Times `suggest_members` (median of BENCH_RUNS runs, 20) and the
obvious loop over ORM objects computing the same score (median of BENCH_BASELINE_RUNS, 3;
0 skips it), checks that both give the same top of the list, and
prints both, the ratio and the target.
"""
from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("COLLECTIVE_ENV", "testing")

import flask_migrate  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from conftest_reset import reset  # noqa: E402
from sqlalchemy import orm as so  # noqa: E402

from bench.bulk import add_members  # noqa: E402
from collective import create_app  # noqa: E402
from collective.extensions import db  # noqa: E402
from collective.ledger.models import Account, JournalEntry, Posting  # noqa: E402
from collective.members.accounts import register_user  # noqa: E402
from collective.members.models import Membership, MembershipStatus  # noqa: E402
from collective.members.services import create_collective  # noqa: E402
from collective.pool import compute  # noqa: E402
from collective.pool.allocation import suggest_members  # noqa: E402
from collective.pool.checks import FAIRNESS_WINDOW  # noqa: E402
from collective.pool.clients import create_client  # noqa: E402
from collective.pool.evidence.models import SkillCredit  # noqa: E402
from collective.pool.models import Allocation, Pitch, PitchState  # noqa: E402
from collective.pool.pitches import create_pitch, volunteers_of  # noqa: E402

URL = os.environ.get("BENCH_DATABASE_URL")
IS_POSTGRES = bool(URL and URL.startswith("postgresql"))
MEMBERS = int(os.environ.get("BENCH_MEMBERS", "10000" if IS_POSTGRES else "5000"))
POSTINGS = int(os.environ.get("BENCH_POSTINGS", "1000000"))
RUNS = int(os.environ.get("BENCH_RUNS", "20"))
BASELINE_RUNS = int(os.environ.get("BENCH_BASELINE_RUNS", "3"))
TARGET_MS = 150 if IS_POSTGRES else 100
TODAY = date(2026, 11, 26)
#: Days of ledger history; the fairness window sees the last 90 of them.
HISTORY_DAYS = 1095
SKILLS = ["customer service", "scheduling", "research", "bookkeeping", "tax prep",
          "spreadsheets", "copywriting", "editing", "ghostwriting", "data entry",
          "social media", "live chat", "payroll", "graphic design", "marketing"]


def build(app, members: int, postings: int) -> int:
    """Fill the database: `members` members (every 50th paused) with three skills each and
    payable accounts, a pitch to rank for, a third of them busy on another pitch, and a
    ledger of about `postings` postings (payments of four postings, every tenth entry a
    payout of two, every 500th payment reversed). Returns the pitch's id."""
    rng = random.Random(7)
    with app.app_context():
        reset(db.engine)
        flask_migrate.upgrade()
        founder = create_collective(register_user("founder@bench.test", "Founder", "x" * 12),
                                    name="Bench", slug="bench", base_currency="USD",
                                    timezone="UTC")
        cid = founder.collective_id
        ids = add_members(founder, members,
                          status_of=lambda i: "paused" if i % 50 == 0 else "active",
                          capacity_of=lambda i: rng.randint(5, 40))
        conn = db.session.connection()
        conn.execute(sa.insert(sa.table("skills", sa.column("user_id"), sa.column("name"),
                                        sa.column("level"))), [
            {"user_id": uid, "name": name, "level": rng.randint(1, 5)}
            for uid in ids for name in rng.sample(SKILLS, 3)])
        now = datetime.now(UTC)
        client = create_client(founder, name="Client")
        work = create_pitch(founder, client_id=client.id, title="Busy work",
                            value_amount=100_000, value_currency="USD",
                            required_skills={"customer service": 4, "scheduling": 3},
                            today=TODAY, at=now)
        other = create_pitch(founder, client_id=client.id, title="Other work",
                             value_amount=100_000, value_currency="USD", today=TODAY, at=now)
        db.session.execute(sa.update(Pitch).where(Pitch.id.in_([work.id, other.id]))
                           .values(state=PitchState.IN_PROGRESS.value))
        member_ids = db.session.scalars(sa.select(Membership.id).where(
            Membership.collective_id == cid, Membership.user_id.in_(ids))
            .order_by(Membership.id)).all()
        conn.execute(sa.insert(Allocation.__table__), [
            {"pitch_id": other.id, "membership_id": mid, "role": "contributor", "weight": 1,
             "weekly_hours": rng.randint(0, 10), "created_at": founder.joined_at}
            for mid in member_ids[::3]])
        conn.execute(sa.insert(Account.__table__), [
            {"collective_id": cid, "code": f"2100-{mid}", "name": f"Payable to member {mid}",
             "type": "liability", "membership_id": mid, "created_at": now}
            for mid in member_ids])
        _ledger(conn, cid, postings)
        _skill_credits(conn, cid, client.id, member_ids, rng)
        db.session.commit()
        if IS_POSTGRES:
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(sa.text("VACUUM ANALYZE"))
        else:
            db.session.execute(sa.text("ANALYZE"))
            db.session.commit()
        return work.id


def _skill_credits(conn, cid: int, client_id: int, member_ids: list[int],
                   rng: random.Random) -> None:
    """Delivered work behind members' skills: a paid pitch for every five members, each
    member credited on three of them in two skills (issue 15's evidence)."""
    now = datetime.now(UTC)
    conn.execute(sa.insert(Pitch.__table__), [
        {"collective_id": cid, "client_id": client_id, "title": f"Delivered {n}",
         "description": "", "estimated_hours": 40, "value_amount": 100_000,
         "value_currency": "USD", "state": PitchState.PAID.value, "version": 1,
         "created_at": now} for n in range(max(1, len(member_ids) // 5))])
    done = conn.execute(sa.select(Pitch.id).where(Pitch.collective_id == cid,
                                                  Pitch.title.like("Delivered %"))
                        ).scalars().all()
    conn.execute(sa.insert(SkillCredit.__table__), [
        {"collective_id": cid, "membership_id": mid, "pitch_id": pid, "skill": skill,
         "minutes": rng.randint(60, 6000), "credited_at": now}
        for mid in member_ids for pid in rng.sample(done, min(3, len(done)))
        for skill in rng.sample(SKILLS, 2)])


def _ledger(conn, cid: int, postings: int) -> None:
    """About `postings` postings in set-based SQL, in date order over HISTORY_DAYS up to
    TODAY (as a ledger grows)."""
    code = dict(conn.execute(sa.text(
        "SELECT code, id FROM accounts WHERE collective_id = :c AND membership_id IS NULL"),
        {"c": cid}).all())
    payables = conn.execute(sa.text(
        "SELECT min(id), count(*) FROM accounts WHERE membership_id IS NOT NULL")).one()
    low, n = payables
    entries = postings * 10 // 38   # nine payments of 4 postings per payout of 2
    start = TODAY - timedelta(days=HISTORY_DAYS - 1)
    if conn.dialect.name == "postgresql":
        series = f"SELECT generate_series(1, {entries}) AS i"
        day = f"DATE '{start}' + ((s.i - 1) * {HISTORY_DAYS} / {entries})"
    else:
        series = (f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s "
                  f"WHERE i < {entries}) SELECT i FROM s")
        day = f"date('{start}', '+' || ((s.i - 1) * {HISTORY_DAYS} / {entries}) || ' days')"
    conn.execute(sa.text(
        f"INSERT INTO journal_entries (collective_id, occurred_on, posted_at, kind, memo, "
        f"idempotency_key) SELECT {cid}, {day}, CURRENT_TIMESTAMP, "
        f"CASE WHEN s.i % 10 = 0 THEN 'payout' ELSE 'payment' END, 'Bench ' || s.i, "
        f"'bench:' || s.i FROM ({series}) AS s"))
    first = conn.execute(sa.text("SELECT min(id) FROM journal_entries WHERE "
                                 "idempotency_key LIKE 'bench:%'")).scalar()
    member = f"{low} + (e.id * 7919) % {n}"
    amount = "(1000 + e.id % 99000)"
    share = f"({amount} * 8 / 10)"
    legs = {"payment": [(code["1000"], amount), (code["4000"], f"-{amount}"),
                        (code["5100"], share), (member, f"-{share}")],
            "payout": [(member, amount), (code["1000"], f"-{amount}")]}
    for kind, lines in legs.items():
        for account, value in lines:
            conn.execute(sa.text(
                f"INSERT INTO postings (entry_id, account_id, amount, currency) "
                f"SELECT e.id, {account}, {value}, 'USD' FROM journal_entries e "
                f"WHERE e.id >= {first} AND e.kind = '{kind}'"))
    reversed_ids = conn.execute(sa.text(
        f"SELECT id, occurred_on FROM journal_entries WHERE id >= {first} AND "
        f"kind = 'payment' AND (id - {first}) % 500 = 1")).all()
    reversed_ids = [(rid, on if isinstance(on, date) else date.fromisoformat(on))
                    for rid, on in reversed_ids]
    reversals = [
        {"collective_id": cid, "occurred_on": on + timedelta(days=5),
         "posted_at": datetime.now(UTC), "kind": "reversal", "memo": f"Reverses {rid}",
         "idempotency_key": f"reversal:{rid}",
         "reverses_id": rid} for rid, on in reversed_ids if on + timedelta(days=5) <= TODAY]
    if reversals:
        conn.execute(sa.insert(JournalEntry.__table__), reversals)
    conn.execute(sa.text(
        "INSERT INTO postings (entry_id, account_id, amount, currency) "
        "SELECT r.id, p.account_id, -p.amount, p.currency FROM journal_entries r "
        "JOIN postings p ON p.entry_id = r.reverses_id WHERE r.kind = 'reversal'"))


def orm_loop(pitch: Pitch, today: date) -> list[tuple[int, int]]:
    """The baseline: walk ORM objects in Python, with a few queries per member (their
    skills, allocations and the sum of their earnings), as a first version would.
    Returns (membership_id, score) of the top 20."""
    members = db.session.scalars(sa.select(Membership).where(
        Membership.collective_id == pitch.collective_id,
        Membership.status == MembershipStatus.ACTIVE.value)).all()
    required = {s.name: s.level for s in pitch.required_skills}
    taken = {a.membership_id for a in pitch.allocations}
    volunteers = {v.membership_id for v in volunteers_of(pitch)}
    rows = []
    for m in members:
        if m.id in taken:
            continue
        levels = {s.name: s.level for s in m.user.skills}
        fit = (sum(min(levels.get(n, 0) / lv, 1) for n, lv in required.items()) / len(required)
               if required else 1.0)
        allocations = db.session.scalars(sa.select(Allocation).filter_by(
            membership_id=m.id)).all()
        load = sum(a.weekly_hours for a in allocations
                   if a.pitch.state in ("won", "in_progress"))
        original = so.aliased(JournalEntry)
        earned = -int(db.session.scalar(
            sa.select(sa.func.sum(Posting.amount))
            .join(JournalEntry, Posting.entry_id == JournalEntry.id)
            .outerjoin(original, JournalEntry.reverses_id == original.id)
            .join(Account, Posting.account_id == Account.id)
            .where(Account.membership_id == m.id,
                   sa.func.coalesce(original.kind, JournalEntry.kind) == "payment",
                   JournalEntry.occurred_on >= today - FAIRNESS_WINDOW,
                   JournalEntry.occurred_on <= today)) or 0)
        delivered = dict(db.session.execute(
            sa.select(SkillCredit.skill, sa.func.sum(SkillCredit.minutes))
            .where(SkillCredit.membership_id == m.id, SkillCredit.skill.in_(list(required)))
            .group_by(SkillCredit.skill)).all())
        evidence = (sum(min(minutes / compute.EVIDENCE_FULL_MINUTES, 1)
                        for minutes in delivered.values()) / len(required) if required else 0)
        rows.append((m.id, fit, max(m.weekly_capacity_hours - load, 0), earned,
                     m.id in volunteers, evidence))
    most_free = max(r[2] for r in rows)
    most_earned = max(r[3] for r in rows)
    scored = [(mid, round(compute.SKILL_POINTS * fit
                          + compute.CAPACITY_POINTS * (free / most_free if most_free else 0)
                          + compute.FAIRNESS_POINTS * (1 - earned / most_earned
                                                       if most_earned > 0 else 1)
                          + compute.VOLUNTEER_BONUS * vol
                          + compute.EVIDENCE_POINTS * evidence), fit, free)
              for mid, fit, free, earned, vol, evidence in rows]
    scored.sort(key=lambda r: (-r[1], -r[2], -r[3], r[0]))
    return [(mid, score) for mid, score, _, _ in scored[:20]]


def median_ms(fn, runs: int) -> tuple[float, float, object]:
    """The median wall time and the median CPU time of this process of `runs` calls in ms
    (the session's identity map cleared before each), and the last result. The CPU time
    leaves out waiting for other processes on a busy machine (and PostgreSQL's own work)."""
    times, cpu = [], []
    for _ in range(runs):
        db.session.expire_all()
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(times) * 1000, statistics.median(cpu) * 1000, result


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = URL or f"sqlite:///{tmp}/bench.sqlite3"
        # As a web worker runs it: its start-up heap frozen (production settings do this;
        # the bench's testing settings do not).
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
                          "FREEZE_START_HEAP": True})
        t0 = time.perf_counter()
        pitch_id = build(app, MEMBERS, POSTINGS)
        with app.app_context():
            count = db.session.scalar(sa.select(sa.func.count(Posting.id)))
            print(f"{db.engine.dialect.name}: built {MEMBERS:,} members and {count:,} postings "
                  f"in {time.perf_counter() - t0:.1f} s")
            work = db.session.get(Pitch, pitch_id)
            ours, ours_cpu, ranked = median_ms(lambda: suggest_members(work, TODAY), RUNS)
            print(f"suggest_members: {ours:8.1f} ms (median of {RUNS}; CPU in this process "
                  f"{ours_cpu:.1f} ms); load average {os.getloadavg()[0]:.1f}", flush=True)
            if not BASELINE_RUNS:
                print(f"target under {TARGET_MS} ms: {'met' if ours < TARGET_MS else 'NOT met'}")
                return
            base, _, looped = median_ms(lambda: orm_loop(work, TODAY), BASELINE_RUNS)
        top = list(zip(ranked["membership_id"].tolist(), ranked["score"].tolist(), strict=True))
        print(f"ORM loop:        {base:8.1f} ms (median of {BASELINE_RUNS})")
        print(f"same top 20: {top == looped}; top 3 = {top[:3]}")
        print(f"ranking {MEMBERS:,} members over {count:,} postings: ours {ours:.1f} ms, "
              f"baseline {base:.1f} ms, ratio {base / ours:.1f}x; target under {TARGET_MS} ms: "
              f"{'met' if ours < TARGET_MS else 'NOT met'}")


if __name__ == "__main__":
    main()

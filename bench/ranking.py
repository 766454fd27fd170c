"""Allocation ranking for a collective of 5,000 members: pandas vs. a loop over ORM objects.

Builds a throw-away SQLite database with the real migrations, fills it in bulk, then times
`suggest_members` (SQL into pandas, vectorised) against the obvious ORM loop computing the
same score. Prints both times and the ratio.
"""
from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("COLLECTIVE_ENV", "testing")

import flask_migrate  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from bench.bulk import add_members  # noqa: E402
from collective import create_app  # noqa: E402
from collective.extensions import db  # noqa: E402
from collective.members.accounts import register_user  # noqa: E402
from collective.members.models import Membership, MembershipStatus  # noqa: E402
from collective.members.services import create_collective  # noqa: E402
from collective.pool import compute  # noqa: E402
from collective.pool.allocation import suggest_members  # noqa: E402
from collective.pool.clients import create_client  # noqa: E402
from collective.pool.models import Allocation, Pitch, PitchState  # noqa: E402
from collective.pool.pitches import create_pitch  # noqa: E402

MEMBERS = int(os.environ.get("BENCH_MEMBERS", "5000"))
SKILLS = ["customer service", "scheduling", "research", "bookkeeping", "tax prep",
          "spreadsheets", "copywriting", "editing", "ghostwriting", "data entry",
          "social media", "live chat", "payroll", "graphic design", "marketing"]


def build(app) -> Pitch:
    rng = random.Random(7)
    with app.app_context():
        flask_migrate.upgrade()
        founder = create_collective(register_user("founder@bench.test", "Founder", "x" * 12),
                                    name="Bench", slug="bench", base_currency="USD",
                                    timezone="UTC")
        cid = founder.collective_id
        ids = add_members(founder, MEMBERS,
                          status_of=lambda i: "paused" if i % 50 == 0 else "active",
                          capacity_of=lambda i: rng.randint(5, 40))
        conn = db.session.connection()
        conn.execute(sa.insert(sa.table("skills", sa.column("user_id"), sa.column("name"),
                                        sa.column("level"))), [
            {"user_id": uid, "name": name, "level": rng.randint(1, 5)}
            for uid in ids for name in rng.sample(SKILLS, 3)])
        today, now = date.today(), datetime.now(UTC)
        client = create_client(founder, name="Client")
        work = create_pitch(founder, client_id=client.id, title="Busy work",
                            value_amount=100_000, value_currency="USD",
                            required_skills={"customer service": 4, "scheduling": 3},
                            today=today, at=now)
        other = create_pitch(founder, client_id=client.id, title="Other work",
                             value_amount=100_000, value_currency="USD", today=today, at=now)
        db.session.execute(sa.update(Pitch).where(Pitch.id.in_([work.id, other.id]))
                           .values(state=PitchState.IN_PROGRESS.value))
        member_ids = db.session.scalars(sa.select(Membership.id).where(
            Membership.collective_id == cid, Membership.status == "active")).all()
        conn.execute(sa.insert(Allocation.__table__), [
            {"pitch_id": other.id, "membership_id": mid, "role": "contributor", "weight": 1,
             "weekly_hours": rng.randint(0, 10), "created_at": founder.joined_at}
            for mid in member_ids[::3]])
        db.session.commit()
        return work.id


def orm_loop(pitch: Pitch) -> list[tuple[int, int]]:
    """The baseline: walk ORM objects in Python, as a first version would."""
    members = db.session.scalars(sa.select(Membership).where(
        Membership.collective_id == pitch.collective_id,
        Membership.status == MembershipStatus.ACTIVE.value)).all()
    required = {s.name: s.level for s in pitch.required_skills}
    rows = []
    for m in members:
        levels = {s.name: s.level for s in m.user.skills}
        fit = (sum(min(levels.get(n, 0) / lv, 1) for n, lv in required.items()) / len(required)
               if required else 1.0)
        allocations = db.session.scalars(sa.select(Allocation).filter_by(
            membership_id=m.id)).all()
        load = sum(a.weekly_hours for a in allocations
                   if a.pitch.state in ("won", "in_progress"))
        rows.append((m.id, fit, max(m.weekly_capacity_hours - load, 0)))
    most_free = max(r[2] for r in rows) or 1
    scored = [(mid, round(compute.SKILL_POINTS * fit + compute.CAPACITY_POINTS * free / most_free
                          + compute.FAIRNESS_POINTS)) for mid, fit, free in rows]
    return sorted(scored, key=lambda r: (-r[1], r[0]))[:20]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite3",
                          "SECRET_KEY": "bench"})
        t0 = time.perf_counter()
        pitch_id = build(app)
        print(f"built {MEMBERS} members in {time.perf_counter() - t0:.1f} s")
        with app.app_context():
            work = db.session.get(Pitch, pitch_id)
            timings = {}
            for name, fn in (("pandas", lambda: suggest_members(work, date.today())),
                             ("orm_loop", lambda: orm_loop(work))):
                best = float("inf")
                for _ in range(3):
                    db.session.expire_all()
                    start = time.perf_counter()
                    result = fn()
                    best = min(best, time.perf_counter() - start)
                timings[name] = best
                print(f"{name:>9}: {best * 1000:8.1f} ms (best of 3), top = "
                      f"{list(result['membership_id'][:3]) if name == 'pandas' else result[:3]}")
        ratio = timings["orm_loop"] / timings["pandas"]
        print(f"ranking {MEMBERS} members: pandas {timings['pandas'] * 1000:.1f} ms, "
              f"ORM loop {timings['orm_loop'] * 1000:.1f} ms, ratio {ratio:.1f}x")


if __name__ == "__main__":
    main()

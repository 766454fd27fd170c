"""The monthly contribution run at 10,000 members, over a ledger of 100,000 and of 1,000,000
postings: ours against the floor and against a per-member ORM loop, measured in the same run.

    .venv/bin/python bench/contribution_run.py                  # SQLite (a temporary file)
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/wt_contrib \\
        .venv/bin/python bench/contribution_run.py              # PostgreSQL (emptied first)

Builds, with set-based SQL, a collective of BENCH_MEMBERS members (each with a payable
account and a level of the demo's bread fund; one in twenty is never paid, so their months
are owed and later settled, and ten leave after the first month) and BENCH_SMALL postings of
client pay into the members' payables, dated before the fund began. Runs the first month
untimed, ANALYZEs, then:

- at the small ledger: the floor, then ours (the second month);
- grows the ledger to BENCH_LARGE postings, ANALYZEs;
- at the large ledger: the per-member ORM loop for the third month (rolled back after it is
  timed and its postings and lines are read), ours for the same month, the floor again.

BENCH_PROFILE=1 prints where ours spends its time at the large ledger (cProfile, our
functions by cumulative time; the profiler slows it, so that run's figure is not one to
quote). Ours is `run_contributions` and the commit, end to end: load the month's figures, compute,
post, check the fund's invariants, commit. The floor is the bare SQL read of the month's
per-member figures (payable balances, levels, arrears) plus bare INSERT ... SELECTs copying
the same number of entries, postings and run lines (the month's, into another collective and
run), committed. The ORM loop computes the same numbers member by member over ORM objects and
posts each entry with ledger.post_entry; the bench asserts it posts the same postings and
lines as ours.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("COLLECTIVE_ENV", "testing")

import sqlalchemy as sa  # noqa: E402

MEMBERS = int(os.environ.get("BENCH_MEMBERS", "10000"))
SMALL = int(os.environ.get("BENCH_SMALL", "100000"))
LARGE = int(os.environ.get("BENCH_LARGE", "1000000"))
#: The fund's first month, and the months the bench runs after it.
FIRST, SECOND, THIRD = date(2026, 3, 1), date(2026, 4, 1), date(2026, 5, 1)
TODAY = date(2026, 11, 26)
LEAVERS = 10


def build(founder_email: str = "treasurer@bench.test") -> int:
    """The collective with its members, accounts, plan and levels; returns its id."""
    from bulk import add_members

    from collective.benefits.compute import PlanTerms
    from collective.benefits.plans import set_founding_plan
    from collective.demo.fund import BREAD_FUND, LEVELS
    from collective.extensions import UTCDateTime, db
    from collective.members.accounts import register_user
    from collective.members.services import create_collective

    founder = create_collective(register_user(founder_email, "Treasurer", "x" * 12),
                                name="Bench", slug="bench", base_currency="USD",
                                timezone="UTC")
    cid = founder.collective_id
    add_members(founder, MEMBERS - 1)
    conn = db.session.connection()
    now = sa.bindparam("now", datetime(2025, 1, 1, tzinfo=UTC), type_=UTCDateTime())
    conn.execute(sa.text("UPDATE memberships SET joined_at = :now WHERE collective_id = :cid")
                 .bindparams(now), {"cid": cid})
    conn.execute(sa.text(
        "INSERT INTO accounts (collective_id, code, name, type, membership_id, created_at) "
        "SELECT m.collective_id, '2100-' || m.id, 'Payable to ' || u.name, 'liability', m.id,"
        " :now FROM memberships m JOIN users u ON u.id = m.user_id "
        "WHERE m.collective_id = :cid "
        "AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.membership_id = m.id)")
        .bindparams(now), {"cid": cid})
    levels = " ".join(f"WHEN {i} THEN {level}" for i, level in enumerate(LEVELS))
    conn.execute(sa.text(
        "INSERT INTO member_levels (membership_id, benefit_amount, from_period, chosen_at) "
        f"SELECT m.id, CASE m.id % {len(LEVELS)} {levels} END, :period, :now "
        "FROM memberships m WHERE m.collective_id = :cid").bindparams(now),
        {"cid": cid, "period": FIRST})
    set_founding_plan(founder, PlanTerms.from_json(BREAD_FUND), FIRST, today=FIRST)
    for table, condition in (("bench_payers", "AND membership_id % 20 <> 0"),
                             ("bench_everyone", "")):
        conn.execute(sa.text(f"CREATE TABLE {table} (slot INTEGER PRIMARY KEY, "
                             "account_id INTEGER NOT NULL)"))
        payers = conn.execute(sa.text(
            "SELECT id FROM accounts WHERE collective_id = :cid AND membership_id IS NOT NULL "
            f"{condition} ORDER BY id"), {"cid": cid}).scalars().all()
        conn.execute(sa.text(f"INSERT INTO {table} (slot, account_id) VALUES (:s, :a)"),
                     [{"s": slot, "a": account} for slot, account in enumerate(payers)])
    db.session.commit()
    return cid


def grow_ledger(cid: int, postings: int, batch: str, payers: str = "bench_payers") -> None:
    """Add client pay to the members' payables (an entry debiting the bank and crediting a
    payable, two postings each) until the ledger holds `postings`, dated before the fund;
    `payers` names who is paid (bench_payers: all but one member in twenty; bench_everyone)."""
    from collective.extensions import db

    conn = db.session.connection()
    entries = (postings - conn.execute(sa.text("SELECT count(*) FROM postings")).scalar()) // 2
    if entries <= 0:
        return
    if conn.dialect.name == "postgresql":
        series = f"SELECT generate_series(1, {entries}) AS i"
        day = "DATE '2024-03-01' + (s.i % 700)"
    else:
        series = (f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s "
                  f"WHERE i < {entries}) SELECT i FROM s")
        day = "date('2024-03-01', '+' || (s.i % 700) || ' days')"
    conn.execute(sa.text(
        f"INSERT INTO journal_entries (collective_id, occurred_on, posted_at, kind, memo, "
        f"idempotency_key) SELECT {cid}, {day}, CURRENT_TIMESTAMP, 'payment', "
        f"'Bench pay ' || s.i, 'bench:{batch}:' || s.i FROM ({series}) AS s"))
    first = conn.execute(sa.text("SELECT min(id) FROM journal_entries WHERE "
                                 "idempotency_key LIKE :k"), {"k": f"bench:{batch}:%"}).scalar()
    bank = conn.execute(sa.text("SELECT id FROM accounts WHERE collective_id = :cid AND "
                                "code = '1000'"), {"cid": cid}).scalar()
    count = conn.execute(sa.text(f"SELECT count(*) FROM {payers}")).scalar()
    conn.execute(sa.text(
        f"INSERT INTO postings (entry_id, account_id, amount, currency) "
        f"SELECT e.id, {bank}, 100 + e.id % 9900, 'USD' FROM journal_entries e "
        f"WHERE e.id >= {first}"))
    conn.execute(sa.text(
        f"INSERT INTO postings (entry_id, account_id, amount, currency) "
        f"SELECT e.id, b.account_id, -(100 + e.id % 9900), 'USD' FROM journal_entries e "
        f"JOIN {payers} b ON b.slot = e.id % {count} WHERE e.id >= {first}"))
    db.session.commit()
    analyze()


def snapshot() -> float:
    """What the scheduler does before its runs (jobs.snapshot_balances): snapshot the
    balances, here whatever the number of postings since the last one; seconds."""
    from collective.extensions import db
    from collective.ledger.snapshots import take_snapshot

    start = time.perf_counter()
    assert take_snapshot(every=1) is not None
    db.session.commit()
    return time.perf_counter() - start


def analyze() -> None:
    """Fresh planner statistics (PostgreSQL: ANALYZE and a VACUUM for the visibility map)."""
    from collective.extensions import db

    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
    else:
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()


def ours(cid: int, period: date) -> float:
    """The run, end to end, committed; seconds."""
    from collective.benefits.contribution_runs import run_contributions
    from collective.extensions import db

    db.session.commit()
    db.session.expunge_all()
    profile = None
    if os.environ.get("BENCH_PROFILE") and period == THIRD:  # where the time goes
        import cProfile
        profile = cProfile.Profile()
        profile.enable()
    start = time.perf_counter()
    result = run_contributions(cid, period, today=TODAY, triggered_by="bench")
    db.session.commit()
    elapsed = time.perf_counter() - start
    if profile is not None:
        import pstats
        profile.disable()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(r"collective/", 40)
    assert result.run is not None and not result.already_done, result
    return elapsed


def floor(cid: int, period: date, floor_cid: int, fake_period: date) -> float:
    """The bare read of the month's per-member figures and bare INSERT ... SELECTs of as
    many entries, postings and run lines as the month's run wrote, committed; seconds. The
    copies of the entries and postings go to the same collective and accounts (so indexes
    and triggers take the same inserts); the lines go to a run of `fake_period` of another
    collective (`floor_cid`), so the members' reserves and arrears stay as they were."""
    from collective.benefits.run_steps import period_end
    from collective.extensions import db

    db.session.commit()
    tag = f"floor:{period:%Y-%m}:"
    params = {"cid": cid, "floor": cid, "day": period_end(period), "tag": tag,
              "period": period, "fake": fake_period, "floor_cid": floor_cid}
    run_id, plan_id = db.session.execute(sa.text(
        "SELECT id, plan_id FROM benefit_runs WHERE collective_id = :cid AND period = :period "
        "AND kind = 'contributions'"), params).one()
    conn = db.session.connection()
    start = time.perf_counter()
    conn.execute(sa.text(
        "SELECT m.id, a.id, sum(p.amount) FROM memberships m "
        "JOIN accounts a ON a.membership_id = m.id "
        "LEFT JOIN postings p ON p.account_id = a.id "
        "WHERE m.collective_id = :cid GROUP BY m.id, a.id"), params).all()
    conn.execute(sa.text(
        "SELECT membership_id, benefit_amount FROM member_levels l "
        "JOIN memberships m ON m.id = l.membership_id WHERE m.collective_id = :cid"),
        params).all()
    conn.execute(sa.text(
        "SELECT l.membership_id, sum(l.amount) FROM run_lines l "
        "JOIN benefit_runs r ON r.id = l.run_id WHERE r.collective_id = :cid "
        "AND l.kind IN ('owed', 'settled') GROUP BY l.membership_id"), params).all()
    conn.execute(sa.text(
        "INSERT INTO journal_entries (collective_id, kind, occurred_on, posted_at, "
        "idempotency_key, memo) SELECT :floor, kind, occurred_on, posted_at, "
        ":tag || idempotency_key, memo FROM journal_entries "
        "WHERE collective_id = :cid AND occurred_on = :day "
        "AND idempotency_key NOT LIKE 'floor:%' ORDER BY id"), params)
    # The same accounts, so the postings' account index takes the same inserts; the floor's
    # entries and lines are a consistent copy (the fund's invariants still hold after it).
    conn.execute(sa.text(
        "INSERT INTO postings (entry_id, account_id, amount, currency) "
        "SELECT f.id, p.account_id, p.amount, p.currency FROM journal_entries e "
        "JOIN journal_entries f ON f.collective_id = :floor "
        "AND f.idempotency_key = :tag || e.idempotency_key "
        "JOIN postings p ON p.entry_id = e.id "
        "WHERE e.collective_id = :cid AND e.occurred_on = :day "
        "AND e.idempotency_key NOT LIKE 'floor:%' ORDER BY p.id"), params)
    floor_run = conn.execute(sa.text(
        "INSERT INTO benefit_runs (collective_id, kind, period, plan_id, total_amount, "
        "shortfall_amount, entry_count, triggered_by, finished_at) "
        "VALUES (:floor_cid, 'contributions', :fake, :plan, 0, 0, 0, 'floor', "
        "CURRENT_TIMESTAMP) RETURNING id"), {**params, "plan": plan_id}).scalar()
    conn.execute(sa.text(
        "INSERT INTO run_lines (run_id, membership_id, kind, amount, shortfall, claim_id, "
        "for_period, entry_id) SELECT :floor_run, membership_id, kind, amount, shortfall, "
        "claim_id, for_period, entry_id FROM run_lines WHERE run_id = :run ORDER BY id"),
        {"floor_run": floor_run, "run": run_id})
    db.session.commit()
    return time.perf_counter() - start


def orm_loop(cid: int, period: date) -> float:
    """The same month member by member over ORM objects, each entry posted on its own with
    ledger.post_entry (not committed: the caller reads what it wrote, then rolls back)."""
    from collective.benefits.compute import LEVELS as LEVEL_KIND
    from collective.benefits.models import BenefitRun, MemberLevel, RunLine, RunLineKind
    from collective.benefits.plans import plan_in_force, plan_terms
    from collective.benefits.receivables import open_receivables
    from collective.benefits.run_steps import period_end
    from collective.extensions import db
    from collective.ledger import balances
    from collective.ledger import services as ledger
    from collective.ledger.models import EntryKind
    from collective.members.models import Membership, MembershipStatus

    db.session.commit()
    db.session.expunge_all()
    start = time.perf_counter()
    ledger.lock_balances(cid)
    plan = plan_in_force(cid, period)
    terms = plan_terms(plan)
    assert terms.contribution_kind == LEVEL_KIND
    run = BenefitRun(collective_id=cid, kind="contributions", period=period, plan_id=plan.id,
                     total_amount=0, shortfall_amount=0, entry_count=0, triggered_by="orm")
    db.session.add(run)
    db.session.flush()
    fund = ledger.account_by_code(cid, ledger.BENEFITS_FUND).id
    due_account = ledger.account_by_code(cid, ledger.FUND_DUE).id
    label, day = f"{period:%Y-%m}", period_end(period)
    members = db.session.scalars(sa.select(Membership).where(
        Membership.collective_id == cid,
        Membership.status != MembershipStatus.REMOVED.value).order_by(Membership.id)).all()
    for member in members:
        level = db.session.scalar(
            sa.select(MemberLevel.benefit_amount).where(MemberLevel.membership_id == member.id,
                                                        MemberLevel.from_period <= period)
            .order_by(MemberLevel.from_period.desc()).limit(1)) or 0
        due = dict(terms.levels)[terms.effective_level(level)]
        available = max(balances.member_balance(member.id).get("USD", 0), 0)
        history = db.session.scalars(sa.select(RunLine).join(BenefitRun).where(
            BenefitRun.collective_id == cid, RunLine.membership_id == member.id)).all()
        sums = Counter()
        for line in history:
            sums[line.kind] += line.amount
        arrears = max(sums[RunLineKind.OWED] - sums[RunLineKind.SETTLED], 0)
        reserve = (sums[RunLineKind.CONTRIBUTION] + sums[RunLineKind.SETTLED]
                   + sums[RunLineKind.DEBT] - sums[RunLineKind.RETURN] - sums[RunLineKind.GIFT]
                   - sums[RunLineKind.DEBT_PAID] - sums[RunLineKind.LEAVING])
        new_debt = max(-reserve, 0)
        debt = max(sums[RunLineKind.DEBT] - sums[RunLineKind.DEBT_PAID] + new_debt, 0)
        paid = due if available >= due else 0
        settled = min(arrears, max(available - paid, 0)) if available >= due else 0
        owed = due if available < due else 0
        debt_paid = min(debt, paid + settled)
        name = member.user.name
        payable = ledger.member_account(member.id).id
        receivable = None
        if owed or new_debt or settled or debt_paid:
            receivable = open_receivables(cid, [member.id])[member.id]

        def post(key, memo, lines, _member=member):
            lines = [ledger.Line(account, amount, "USD") for account, amount in lines if amount]
            if lines:
                entry = ledger.post_entry(cid, kind=EntryKind.CONTRIBUTION, occurred_on=day,
                                          idempotency_key=key, memo=memo, lines=lines)
                return entry.id
            return None

        key = f"contribution:{label}:member:{member.id}"
        into = paid + new_debt - debt_paid
        entry_id = post(key, f"Benefits contribution {label}: {name}" if paid or not new_debt
                        else f"Negative reserve of {name} now owed to the fund ({label})",
                        [(payable, paid), (receivable, new_debt - debt_paid), (fund, -into)])
        for kind, amount in ((RunLineKind.CONTRIBUTION, paid), (RunLineKind.DEBT, new_debt),
                             (RunLineKind.DEBT_PAID, debt_paid)):
            if amount:
                db.session.add(RunLine(run_id=run.id, membership_id=member.id, kind=kind,
                                       amount=amount, shortfall=0, entry_id=entry_id))
        if settled:
            key = f"settled:{label}:member:{member.id}"
            entry_id = post(key, f"Contributions in arrears settled {label}: {name}",
                            [(payable, settled), (receivable, -settled), (due_account, settled),
                             (fund, -settled)])
            db.session.add(RunLine(run_id=run.id, membership_id=member.id,
                                   kind=RunLineKind.SETTLED, amount=settled, shortfall=0,
                                   entry_id=entry_id))
        if owed:
            key = f"arrears:{label}:member:{member.id}"
            entry_id = post(key, f"Benefits contribution {label} owed by {name}: balance short",
                            [(receivable, owed), (due_account, -owed)])
            db.session.add(RunLine(run_id=run.id, membership_id=member.id,
                                   kind=RunLineKind.OWED, amount=owed, shortfall=0,
                                   entry_id=entry_id))
    db.session.flush()
    return time.perf_counter() - start


def written(cid: int, period: date) -> tuple[Counter, Counter]:
    """The month's postings (key, account, amount) and run lines (member, kind, amount, key
    of their entry), as multisets."""
    from collective.benefits.run_steps import period_end
    from collective.extensions import db

    postings = Counter(db.session.execute(sa.text(
        "SELECT e.idempotency_key, p.account_id, p.amount FROM postings p "
        "JOIN journal_entries e ON e.id = p.entry_id "
        "WHERE e.collective_id = :cid AND e.occurred_on = :day"),
        {"cid": cid, "day": period_end(period)}).all())
    lines = Counter(db.session.execute(sa.text(
        "SELECT l.membership_id, l.kind, l.amount, e.idempotency_key FROM run_lines l "
        "JOIN benefit_runs r ON r.id = l.run_id "
        "LEFT JOIN journal_entries e ON e.id = l.entry_id "
        "WHERE r.collective_id = :cid AND r.period = :period"),
        {"cid": cid, "period": period}).all())
    return postings, lines


def postings_count() -> int:
    from collective.extensions import db

    return db.session.scalar(sa.text("SELECT count(*) FROM postings"))


def main() -> None:
    import flask_migrate
    from conftest_reset import reset

    from collective import create_app
    from collective.benefits.contribution_runs import run_contributions
    from collective.extensions import db
    from collective.members.accounts import register_user
    from collective.members.services import create_collective

    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{tmp}/bench.sqlite3")
        # As the scheduler runs it: its start-up heap frozen (production settings do this).
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
                          "FREEZE_START_HEAP": True,
                          "PASSWORD_HASH_METHOD": "scrypt:1024:8:1"})
        with app.app_context():
            dialect = db.engine.dialect.name
            reset(db.engine)
            flask_migrate.upgrade()
            started = time.perf_counter()
            cid = build()
            floor_cid = create_collective(register_user("floor@bench.test", "Floor", "x" * 12),
                                          name="Floor", slug="floor", base_currency="USD",
                                          timezone="UTC").collective_id
            db.session.commit()
            grow_ledger(cid, SMALL, "small")
            run_contributions(cid, FIRST, today=TODAY, triggered_by="bench")
            db.session.execute(sa.text(
                "UPDATE memberships SET status = 'removed' WHERE id IN (SELECT id FROM "
                "memberships WHERE collective_id = :cid ORDER BY id DESC LIMIT :n)"),
                {"cid": cid, "n": LEAVERS})
            db.session.commit()
            analyze()
            print(f"{dialect}: built {MEMBERS:,} members, {postings_count():,} postings and "
                  f"the first month's run in {time.perf_counter() - started:.0f} s")

            snapshots = [snapshot()]
            analyze()
            small_size = postings_count()
            small_floor = floor(cid, FIRST, floor_cid, date(1990, 1, 1))
            small_ours = ours(cid, SECOND)
            small_floor = min(small_floor, floor(cid, SECOND, floor_cid, date(1990, 2, 1)))

            grow_ledger(cid, LARGE, "large", "bench_everyone")
            snapshots.append(snapshot())
            analyze()
            large_size = postings_count()
            baseline = orm_loop(cid, THIRD)
            expected = written(cid, THIRD)
            db.session.rollback()
            large_ours = ours(cid, THIRD)
            got = written(cid, THIRD)
            assert got == expected, "the ORM loop and the run posted different things"
            large_floor = floor(cid, THIRD, floor_cid, date(1990, 3, 1))
            entries = len({key for key, _, _ in got[0]})
            print(f"the month writes {entries:,} entries, {sum(got[0].values()):,} postings "
                  f"and {sum(got[1].values()):,} run lines; the ORM loop wrote the same")
            print(f"{'ledger':>12} {'ours':>8} {'floor':>8} {'ours/floor':>10} "
                  f"{'ORM loop':>9} {'ORM/ours':>9}")
            print(f"{small_size:>12,} {small_ours:>7.2f}s {small_floor:>7.2f}s "
                  f"{small_ours / small_floor:>9.1f}x")
            print(f"{large_size:>12,} {large_ours:>7.2f}s {large_floor:>7.2f}s "
                  f"{large_ours / large_floor:>9.1f}x {baseline:>8.1f}s "
                  f"{baseline / large_ours:>8.0f}x")
            print(f"ours at {large_size:,} / ours at {small_size:,} postings: "
                  f"{large_ours / small_ours:.2f}")
            print("balance snapshots the scheduler took before the runs (not in the run "
                  "times): " + ", ".join(f"{t:.2f} s" for t in snapshots))
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()

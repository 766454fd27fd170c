"""Ledger export of a million postings: our CSV (and XLSX and Beancount) against the
database's own bulk CSV export of the same rows, measured in the same run.

    .venv/bin/python bench/export.py                      # SQLite (a temporary file)
    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench \
        .venv/bin/python bench/export.py                  # PostgreSQL (the database is emptied)

Builds the ledger with set-based SQL (`build`, the one place data is made, so it can be
swapped for `flask demo --scale`), ANALYZEs it, then runs each export as its own process
(the CLI end to end, start-up included) and reads that process's time and peak memory
(ru_maxrss from wait4). The baseline is COPY ... TO STDOUT (psql) on PostgreSQL, and the
sqlite3 shell's CSV mode on SQLite; XLSX and Beancount are compared with the same baseline.
BENCH_FORMATS=csv skips the slow formats; BENCH_REUSE=1 keeps the ledger a previous run
built in BENCH_DATABASE_URL.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("COLLECTIVE_ENV", "testing")


POSTINGS = int(os.environ.get("BENCH_POSTINGS", "1000000"))
MEMBERS = 50
BASELINE_SQL = (
    "SELECT e.occurred_on, e.id, e.kind, e.memo, a.code, a.name, p.amount, p.currency "
    "FROM postings p JOIN journal_entries e ON e.id = p.entry_id "
    "JOIN accounts a ON a.id = p.account_id ORDER BY e.occurred_on, e.id, p.id")


def build(url: str) -> None:
    """Fill the database (run in a child process, so this driver stays small and the
    children it measures do not inherit its memory)."""
    import flask_migrate
    import sqlalchemy as sa
    from conftest_reset import reset

    from collective import create_app
    from collective.extensions import db
    from collective.members.accounts import register_user
    from collective.members.services import add_member, create_collective

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        reset(db.engine)
        flask_migrate.upgrade()
        founder = register_user("founder@bench.test", "Founder", "x" * 12)
        first = create_collective(founder, name="Bench", slug="bench", base_currency="USD",
                                  timezone="UTC")
        for i in range(MEMBERS):
            add_member(first.collective, register_user(f"m{i}@bench.test", f"Member {i}",
                                                       "x" * 12), {"member"})
        db.session.commit()
        entries = POSTINGS // 2
        bank = db.session.scalar(sa.text("SELECT id FROM accounts WHERE code = '1000'"))
        payables = db.session.scalars(sa.text(
            "SELECT id FROM accounts WHERE code LIKE '2100-%' ORDER BY id")).all()
        low, n = min(payables), len(payables)
        conn = db.session.connection()
        if conn.dialect.name == "postgresql":
            series = f"SELECT generate_series(1, {entries}) AS i"
            day = "DATE '2020-01-01' + (s.i % 2000)"
        else:
            series = (f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s "
                      f"WHERE i < {entries}) SELECT i FROM s")
            day = "date('2020-01-01', '+' || (s.i % 2000) || ' days')"
        conn.execute(sa.text(
            f"INSERT INTO journal_entries (collective_id, occurred_on, posted_at, kind, memo, "
            f"idempotency_key) SELECT {first.collective_id}, {day}, CURRENT_TIMESTAMP, "
            f"'payment', 'Bench payment ' || s.i, 'bench:' || s.i FROM ({series}) AS s"))
        first_id = conn.execute(sa.text("SELECT min(id) FROM journal_entries WHERE "
                                        "idempotency_key LIKE 'bench:%'")).scalar()
        for account, sign in ((bank, ""), (f"{low} + (e.id % {n})", "-")):
            conn.execute(sa.text(
                f"INSERT INTO postings (entry_id, account_id, amount, currency) "
                f"SELECT e.id, {account}, {sign}(100 + e.id % 9900), 'USD' "
                f"FROM journal_entries e WHERE e.id >= {first_id}"))
        db.session.commit()
        # As the scheduler's snapshot round leaves a ledger (every 20,000 postings): the
        # ledger totals hold it, which the export's progress bar reads its count from.
        from collective.ledger.snapshots import take_snapshot
        assert take_snapshot(every=1) is not None
        db.session.commit()
        analyze(db.engine)
        count = db.session.scalar(sa.text("SELECT count(*) FROM postings"))
        print(f"built {count:,} postings in {entries:,} entries (and ANALYZEd)")


def analyze(engine) -> None:
    """Planner statistics for what was just bulk-loaded (autovacuum may not have run yet:
    without them PostgreSQL plans the export for empty tables)."""
    import sqlalchemy as sa

    with engine.begin() as conn:
        conn.execute(sa.text("ANALYZE"))


def measure(command: list[str], env: dict, stdout=None) -> tuple[float, float]:
    """Run a command; return (seconds, peak RSS in MiB) of that process alone.

    posix_spawn (no fork copy of this process), so the child's ru_maxrss is its own.
    """
    actions = []
    if stdout is not None:
        actions.append((os.POSIX_SPAWN_DUP2, stdout.fileno(), 1))
    else:
        actions.append((os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0))
    start = time.perf_counter()
    pid = os.posix_spawnp(command[0], command, env, file_actions=actions)
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{command[0]} failed with status {status}")
    return elapsed, usage.ru_maxrss / 1024


def export_command(fmt: str, output: Path) -> list[str]:
    """The CLI exporting the whole bench ledger in `fmt`."""
    return [str(ROOT / ".venv/bin/flask"), "--app", "collective", "reports", "export-ledger",
            "--collective", "bench", "--format", fmt, "--from", "2020-01-01", "--to",
            "2026-12-31", "--output", str(output)]


def main() -> None:
    formats = os.environ.get("BENCH_FORMATS", "csv,xlsx,beancount").split(",")
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{tmp}/bench.sqlite3")
        env = {**os.environ, "DATABASE_URL": url, "COLLECTIVE_ENV": "testing",
               "SECRET_KEY": "bench"}
        # The exports run as a deployment runs them: the production settings, from
        # bytecode (pip compiles on install; a shell's PYTHONDONTWRITEBYTECODE would make
        # every run compile the package from source, a second of start-up).
        run_env = {**env, "COLLECTIVE_ENV": "production", "RATELIMIT_STORAGE_URI": "memory://"}
        run_env.pop("PYTHONDONTWRITEBYTECODE", None)
        t0 = time.perf_counter()
        if os.environ.get("BENCH_REUSE") and "BENCH_DATABASE_URL" in os.environ:
            print("reusing the ledger an earlier run built (BENCH_REUSE)")
        else:
            measure([sys.executable, __file__, "--build", url], env, sys.stdout)
        print(f"(build took {time.perf_counter() - t0:.1f} s)")
        base_file = Path(tmp) / "base.csv"

        def baseline() -> tuple[float, float]:
            with open(base_file, "wb") as sink:
                if url.startswith("postgresql"):
                    dsn = url.replace("postgresql+psycopg://", "postgresql://")
                    return measure(["psql", dsn, "-q", "-c",
                                    f"COPY ({BASELINE_SQL}) TO STDOUT WITH CSV HEADER"],
                                   env, sink)
                return measure(["sqlite3", "-csv", "-header", url.removeprefix("sqlite:///"),
                                BASELINE_SQL], env, sink)

        label = "PostgreSQL COPY TO STDOUT" if url.startswith("postgresql") else "sqlite3 -csv"
        baseline()  # warm the cache the same way for both
        # The same command doing nothing but start (the app and its libraries loaded): what
        # the export adds on top of this is what streaming has to keep flat.
        start_only = [str(ROOT / ".venv/bin/flask"), "--app", "collective", "reports",
                      "export-ledger", "--help"]
        measure(start_only, run_env)  # writes the bytecode, if it is not there yet
        idle = measure(start_only, run_env)
        print(f"{'the same command, start-up only':>42}: {idle[0]:6.1f} s, "
              f"peak {idle[1]:6.1f} MiB", flush=True)
        for fmt in formats:
            out = Path(tmp) / f"ours.{fmt}"
            # Baseline and ours back to back, the baseline first, so both see the same load.
            base = baseline()
            ours = measure(export_command(fmt, out), run_env)
            if fmt == "csv":
                rows = sum(1 for _ in open(out, "rb")) - 1
                print(f"rows exported: {rows:,} (ours), "
                      f"{sum(1 for _ in open(base_file, 'rb')) - 1:,} (baseline)")
            print(f"{'ours: ' + fmt + ' (running balances)':>42}: {ours[0]:6.1f} s, "
                  f"peak {ours[1]:6.1f} MiB (+{ours[1] - idle[1]:.1f} MiB over start-up), "
                  f"{out.stat().st_size / 2**20:.0f} MiB written")
            print(f"{label + ' (its baseline)':>42}: {base[0]:6.1f} s, "
                  f"peak {base[1]:6.1f} MiB, {base_file.stat().st_size / 2**20:.0f} MiB")
            print(f"{'ratio ' + fmt + '/baseline':>42}: time {ours[0] / base[0]:.2f}x, "
                  f"peak memory {ours[1] / base[1]:.1f}x", flush=True)
            out.unlink()

if __name__ == "__main__":
    if sys.argv[1:2] == ["--build"]:
        build(sys.argv[2])
    else:
        main()

"""Start-up: `flask --app collective --help` against a minimal Flask + Flask-SQLAlchemy app's
`flask --help`, measured in the same run.

    .venv/bin/python bench/startup.py          # BENCH_RUNS=7 by default
    BENCH_OTHER_TREE=/tmp/old .venv/bin/python bench/startup.py   # also an older checkout

Each command runs as its own process; its wall time and peak resident memory (ru_maxrss
from wait4) are read from that process alone. Prints the best of BENCH_RUNS runs of each,
the ratio, and the targets (under 1 s, and within 2x the minimal app).
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = int(os.environ.get("BENCH_RUNS", "7"))
FLASK = str(Path(sys.executable).parent / "flask")

MINIMAL_APP = '''\
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()


def create_app():
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///minimal.sqlite3"
    db.init_app(app)
    return app
'''


def measure(args: list[str], cwd: str, env: dict) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system) and peak RSS (MiB) of one run of `args`,
    its output thrown away. On a busy machine the CPU time is the steadier figure."""
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.chdir(cwd)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os.execve(args[0], args, env)
    _, status, usage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(args)} failed")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def best_of(args: list[str], cwd: str, env: dict) -> tuple[float, float, float]:
    """The fastest wall and CPU times of RUNS runs, and the largest peak RSS seen."""
    runs = [measure(args, cwd, env) for _ in range(RUNS)]
    return (min(r[0] for r in runs), min(r[1] for r in runs), max(r[2] for r in runs))


def main() -> None:
    env = {**os.environ, "COLLECTIVE_ENV": "development"}
    env.pop("FLASK_APP", None)
    # A deployed app runs from bytecode (pip compiles it on install); a shell that sets
    # PYTHONDONTWRITEBYTECODE would make ours recompile every module on every run while
    # the libraries of the minimal app load theirs from site-packages.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "minimal.py").write_text(MINIMAL_APP)
        # Warm the disk cache and the bytecode once, so neither side pays for it.
        measure([FLASK, "--app", "minimal", "--help"], tmp, env)
        measure([FLASK, "--app", "collective", "--help"], str(ROOT), env)
        minimal = best_of([FLASK, "--app", "minimal", "--help"], tmp, env)
        ours = best_of([FLASK, "--app", "collective", "--help"], str(ROOT), env)
        other = os.environ.get("BENCH_OTHER_TREE")
        if other:   # Flask puts the working directory first on sys.path: that tree's app
            older = best_of([FLASK, "--app", "collective", "--help"], other, env)
            print(f"{other}: {older[0]:.2f} s, CPU {older[1]:.2f} s, {older[2]:.0f} MiB peak "
                  f"(best of {RUNS})")
    ratio, cpu_ratio = ours[0] / minimal[0], ours[1] / minimal[1]
    print(f"flask --app collective --help: {ours[0]:.2f} s, CPU {ours[1]:.2f} s, "
          f"{ours[2]:.0f} MiB peak (best of {RUNS})")
    print(f"minimal Flask + Flask-SQLAlchemy app: {minimal[0]:.2f} s, CPU {minimal[1]:.2f} s, "
          f"{minimal[2]:.0f} MiB peak")
    print(f"ratio {ratio:.1f}x wall time, {cpu_ratio:.1f}x CPU time, "
          f"{ours[2] / minimal[2]:.1f}x memory; load average {os.getloadavg()[0]:.1f}")
    print(f"targets: under 1 s {'met' if ours[0] < 1 else 'NOT met'} (CPU "
          f"{'under' if ours[1] < 1 else 'over'} 1 s), within 2x "
          f"{'met' if ratio <= 2 else 'NOT met'} (CPU {cpu_ratio:.1f}x)")


if __name__ == "__main__":
    main()

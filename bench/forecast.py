"""The fund forecast (Monte Carlo, 2,000 futures x 120 months) at 10,000 members: counts per
level vs. the member-by-member reference.

No database: the simulation takes plain inputs, built here as compute_forecast builds them
for the demo's bread-fund plan (each member on one of the demo's levels, paying 4.5% of it;
sick pay after one waiting month, for at most 24 months). Each case runs in its own child
process so its peak resident memory (ru_maxrss from wait4) is its own; the child also
reports the simulation's time (best of BENCH_REPEAT) and its peak of Python allocations
(tracemalloc, numpy's arrays included).

- now: `simulation.forecast_months` (counts per level) at BENCH_MEMBERS (10,000);
- baseline, measured in the same run: the member-by-member reference
  (`balances_per_member`, what the forecast used to do) at BENCH_BASELINE_MEMBERS (1,000),
  scaled to BENCH_MEMBERS (its arrays are futures x members, so time and memory grow with
  the members), and the new simulation at that smaller size too.

Prints the figures and the ratios.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MEMBERS = int(os.environ.get("BENCH_MEMBERS", "10000"))
BASELINE_MEMBERS = int(os.environ.get("BENCH_BASELINE_MEMBERS", "1000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "3"))


def inputs(members: int) -> tuple:
    """The simulation's inputs for `members` members on the bread-fund plan: a fund of three
    months of contributions, each member's level and contribution, waiting and max months."""
    import random

    from collective.demo.fund import BREAD_FUND, LEVELS

    rng = random.Random(7)
    levels = [rng.choice(LEVELS) for _ in range(members)]
    dues = [level * 45 // 1000 for level in levels]
    sick = BREAD_FUND["benefits"]["sick"]
    return 3 * sum(dues), levels, dues, sick["waiting_months"], sick["max_months"]


def child(case: str, members: int) -> None:
    """Run one case in this process and print its figures as JSON."""
    from collective.benefits import simulation

    if case == "counts":
        def simulate():
            return simulation.forecast_months(*inputs(members))
    else:
        def simulate():
            return simulation.summarise(simulation.balances_per_member(*inputs(members)))
    times = []
    for _ in range(REPEAT if case == "counts" else 1):
        start = time.perf_counter()
        result = simulate()
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    simulate()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(json.dumps({"seconds": min(times), "traced_mib": peak / 2**20,
                      "median": result["median"], "p10": result["p10"],
                      "never_out": result["never_out_share"],
                      "last_median": result["median_path"][-1]}))


def measure(case: str, members: int) -> dict:
    """Run a case in a child process; its figures plus its peak resident memory."""
    process = subprocess.Popen(
        [sys.executable, __file__, "--child", case, str(members)], stdout=subprocess.PIPE,
        text=True, cwd=ROOT)
    _, status, usage = os.wait4(process.pid, 0)
    output = process.stdout.read()
    process.stdout.close()
    if status != 0:
        raise SystemExit(f"{case} at {members} members failed: {output}")
    return {**json.loads(output), "rss_mib": usage.ru_maxrss / 1024}


def show(label: str, figures: dict) -> None:
    print(f"{label}: {figures['seconds']:.2f} s, {figures['traced_mib']:.0f} MiB of arrays "
          f"at peak (tracemalloc), {figures['rss_mib']:.0f} MiB peak RSS of the process; "
          f"runs out: median month {figures['median']}, p10 {figures['p10']}, never "
          f"{figures['never_out']:.0%}; median balance after 10 years "
          f"{figures['last_median'] / 100:,.0f}")


def main() -> None:
    idle = measure("idle", 0)
    print(f"a child process that only imports the simulation: {idle['rss_mib']:.0f} MiB RSS")
    now = measure("counts", MEMBERS)
    show(f"now, counts per level, {MEMBERS:,} members", now)
    small = measure("counts", BASELINE_MEMBERS)
    show(f"now, counts per level, {BASELINE_MEMBERS:,} members", small)
    reference = measure("members", BASELINE_MEMBERS)
    show(f"baseline, member by member, {BASELINE_MEMBERS:,} members", reference)
    scale = MEMBERS / BASELINE_MEMBERS
    scaled_s, scaled_mib = reference["seconds"] * scale, reference["traced_mib"] * scale
    print(f"baseline scaled to {MEMBERS:,} members (x{scale:g}): {scaled_s:.0f} s, "
          f"{scaled_mib:,.0f} MiB of arrays")
    print(f"ratio at {BASELINE_MEMBERS:,} members: {reference['seconds'] / small['seconds']:.0f}x "
          f"faster, {reference['traced_mib'] / small['traced_mib']:.0f}x less memory")
    print(f"ratio at {MEMBERS:,} members (baseline scaled): {scaled_s / now['seconds']:.0f}x "
          f"faster, {scaled_mib / now['traced_mib']:.0f}x less memory")
    within = now["seconds"] < 2 and now["rss_mib"] < 200
    print(f"target (under 2 s and 200 MB at {MEMBERS:,} members): "
          f"{'met' if within else 'NOT met'}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        if sys.argv[2] == "idle":
            from collective.benefits import simulation  # noqa: F401
            print(json.dumps({}))
        else:
            child(sys.argv[2], int(sys.argv[3]))
    else:
        main()

"""The fund's sustainability forecast as a pure function (Monte Carlo): how many months the
fund lasts if members fall ill at an assumed rate. No Flask, no database; money is integer
minor units (only the probabilities are floats).

The simulation counts members per benefit level rather than following each member: members
on the same level are alike to the fund, so each month it draws, per level, HOW MANY healthy
members fall ill (one binomial draw) and a length for each new sick leave, and keeps per
level how many are ill and how many are paid. Its size grows with the number of levels and
of new sick leaves, not with the members (2,000 futures x 120 months at 10,000 members: see
docs/performance.md and bench/forecast.py). `balances_per_member`, the earlier
member-by-member version, is kept as the reference the tests and the bench compare with.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class ForecastAssumptions:
    """What the forecast assumes, shown next to it."""

    #: Chance a member starts a sick leave in a given month.
    monthly_claim_rate: float = 0.006
    #: Average sick leave length in months (waiting month included).
    mean_duration_months: float = 5.0
    #: How many futures to simulate, and how far.
    runs: int = 2000
    horizon_months: int = 120
    seed: int = 7


def forecast_months(fund: int, levels: Sequence[int], contributions: Sequence[int],
                    waiting_months: int, max_months: int,
                    assumptions: ForecastAssumptions = ForecastAssumptions()) -> dict:
    """Monte Carlo: how many months the fund lasts if members fall ill at the assumed rate.

    Each simulated month every healthy member may fall ill; an illness lasts a geometric
    number of months, capped at max_months; after the waiting months the member receives
    their level. Contributions keep coming in. Returns the median, the 10th percentile
    (bad luck), the share of futures that never run out within the horizon, and the fund
    balance per month in the median case with a band around it: the 10th and the 90th
    percentile of the balances that month, each a balance one of the futures had (integer
    minor units). Forecasts stored before the band was added lack p10_path and p90_path;
    readers treat them as optional.
    """
    return summarise(balances(fund, levels, contributions, waiting_months, max_months,
                              assumptions))


def balances(fund: int, levels: Sequence[int], contributions: Sequence[int],
             waiting_months: int, max_months: int,
             assumptions: ForecastAssumptions = ForecastAssumptions()) -> np.ndarray:
    """The fund's balance at the end of each month in each simulated future (an int64 array
    of horizon x runs, minor units), simulated by counts per level.

    Per month and level: the healthy members are the level's headcount less those ill; the
    number who fall ill is Binomial(healthy, rate); each new leave lasts d months (geometric,
    capped), so it is ill from this month to d - 1 months on and paid from `waiting_months`
    on. Counters per (future, level) and month to come hold how many leaves end then and
    how many of those ill then are still in their waiting months; nothing is kept per
    member.
    """
    import numpy as np
    runs, horizon = assumptions.runs, assumptions.horizon_months
    paths = np.full((horizon, runs), int(fund), dtype=np.int64)
    amounts, headcount = np.unique(np.asarray(levels, dtype=np.int64), return_counts=True)
    if amounts.size == 0:
        return paths
    rng = np.random.default_rng(assumptions.seed)
    monthly_in = int(np.sum(np.asarray(contributions, dtype=np.int64)))
    cap = max(int(max_months), 0)
    waiting = min(max(int(waiting_months), 0), cap)
    # A geometric length from an exponential draw E: floor(E / -log(1 - p)) + 1 months.
    stop = min(1.0 / max(assumptions.mean_duration_months, 1.0), 1 - 1e-12)
    months_per_draw = -1.0 / np.log1p(-stop)
    groups = amounts.size
    cells = runs * groups                   # one counter per (future, level)
    ahead = cap + 1                         # a leave ends at most `cap` months on
    headcount_cells = np.tile(headcount, runs)
    cell_ids = np.arange(cells, dtype=np.int64)
    ill = np.zeros(cells, dtype=np.int64)
    # Per month (to the horizon and `cap` past it) and cell: the leaves that end that month,
    # and those ill that month but still in their waiting months.
    ending = np.zeros((horizon + ahead, cells), dtype=np.int64)
    unpaid = np.zeros((horizon + ahead, cells), dtype=np.int64)
    balance = np.full(runs, int(fund), dtype=np.int64)
    for month in range(horizon):
        ill -= ending[month]
        if cap > 0:
            falls_ill = rng.binomial(headcount_cells - ill, assumptions.monthly_claim_rate)
            ill += falls_ill
            who = np.repeat(cell_ids, falls_ill)
            lasts = (rng.standard_exponential(who.size) * months_per_draw).astype(np.int64)
            np.minimum(lasts + 1, cap, out=lasts)
            ends = lasts * cells
            ends += who
            ending[month:month + ahead].reshape(-1)[...] += np.bincount(
                ends, minlength=ahead * cells)
            for months_in in range(waiting):  # leaves still ill `months_in` months on
                unpaid[month + months_in] += falls_ill if months_in == 0 else np.bincount(
                    who[lasts > months_in], minlength=cells)
        paid = ill - unpaid[month]
        balance += monthly_in - paid.reshape(runs, groups) @ amounts
        paths[month] = balance
    return paths


def balances_per_member(fund: int, levels: Sequence[int], contributions: Sequence[int],
                        waiting_months: int, max_months: int,
                        assumptions: ForecastAssumptions = ForecastAssumptions()
                        ) -> np.ndarray:
    """The reference: the same balances simulated member by member (arrays of futures x
    members, as the forecast used to). Only the tests and the bench use it, to check and
    time `balances`."""
    import numpy as np
    runs, horizon = assumptions.runs, assumptions.horizon_months
    paths = np.full((horizon, runs), int(fund), dtype=np.int64)
    levels_arr = np.asarray(levels, dtype=np.int64)
    members = len(levels_arr)
    if members == 0:
        return paths
    rng = np.random.default_rng(assumptions.seed)
    monthly_in = int(np.sum(np.asarray(contributions, dtype=np.int64)))
    remaining = np.zeros((runs, members), dtype=np.int64)  # months of illness left
    elapsed = np.zeros((runs, members), dtype=np.int64)    # months since it started
    balance = np.full(runs, int(fund), dtype=np.int64)
    stop = 1.0 / max(assumptions.mean_duration_months, 1.0)
    for month in range(horizon):
        healthy = remaining == 0
        falls_ill = healthy & (rng.random((runs, members)) < assumptions.monthly_claim_rate)
        durations = np.minimum(rng.geometric(stop, size=(runs, members)), max_months)
        remaining = np.where(falls_ill, durations, remaining)
        elapsed = np.where(falls_ill, 0, elapsed)
        paying = (remaining > 0) & (elapsed >= waiting_months)
        balance = balance + monthly_in - (paying * levels_arr).sum(axis=1)
        paths[month] = balance
        remaining = np.maximum(remaining - 1, 0)
        elapsed = elapsed + 1
    return paths


def summarise(paths: np.ndarray) -> dict:
    """The stored result from the balances (horizon x runs): each future runs out in the
    first month its balance is below zero (or never, within the horizon). The paths'
    percentiles are balances some future had (inverted CDF), so they stay whole minor
    units."""
    import numpy as np
    horizon = paths.shape[0]
    below = paths < 0
    ran_out = np.where(below.any(axis=0), below.argmax(axis=0), horizon)

    def path(q: int) -> list[int]:
        return [int(v) for v in np.percentile(paths, q, axis=1, method="inverted_cdf")]

    return {
        "median": int(np.median(ran_out)),
        "p10": int(np.percentile(ran_out, 10)),
        "never_out_share": float(np.mean(ran_out == horizon)),
        "median_path": path(50),
        "p10_path": path(10),
        "p90_path": path(90),
    }

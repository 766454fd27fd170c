"""The fund's sustainability forecast as a pure function (Monte Carlo): how many months the
fund lasts if members fall ill at an assumed rate. No Flask, no database; money is integer
minor units."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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
    percentile of the balances that month (forecasts stored before the band was added
    lack p10_path and p90_path; readers treat them as optional).
    """
    rng = np.random.default_rng(assumptions.seed)
    levels_arr = np.asarray(levels, dtype=np.int64)
    monthly_in = int(np.sum(np.asarray(contributions, dtype=np.int64)))
    members, runs, horizon = len(levels_arr), assumptions.runs, assumptions.horizon_months
    if members == 0:
        return {"median": horizon, "p10": horizon, "never_out_share": 1.0,
                "median_path": [int(fund)] * horizon, "p10_path": [int(fund)] * horizon,
                "p90_path": [int(fund)] * horizon}
    remaining = np.zeros((runs, members), dtype=np.int64)  # months of illness left
    elapsed = np.zeros((runs, members), dtype=np.int64)    # months since it started
    balance = np.full(runs, int(fund), dtype=np.int64)
    ran_out = np.full(runs, horizon, dtype=np.int64)
    paths = np.empty((horizon, runs), dtype=np.int64)
    stop = 1.0 / max(assumptions.mean_duration_months, 1.0)
    for month in range(horizon):
        healthy = remaining == 0
        falls_ill = healthy & (rng.random((runs, members)) < assumptions.monthly_claim_rate)
        durations = np.minimum(rng.geometric(stop, size=(runs, members)), max_months)
        remaining = np.where(falls_ill, durations, remaining)
        elapsed = np.where(falls_ill, 0, elapsed)
        paying = (remaining > 0) & (elapsed >= waiting_months)
        payouts = (paying * levels_arr).sum(axis=1)
        balance = balance + monthly_in - payouts
        newly_out = (balance < 0) & (ran_out == horizon)
        ran_out[newly_out] = month
        paths[month] = balance
        remaining = np.maximum(remaining - 1, 0)
        elapsed = elapsed + 1
    return {
        "median": int(np.median(ran_out)),
        "p10": int(np.percentile(ran_out, 10)),
        "never_out_share": float(np.mean(ran_out == horizon)),
        "median_path": [int(v) for v in np.median(paths, axis=1)],
        "p10_path": [int(v) for v in np.percentile(paths, 10, axis=1)],
        "p90_path": [int(v) for v in np.percentile(paths, 90, axis=1)],
    }

"""The forecast simulates counts per level (binomial draws), not each member: it agrees with
the member-by-member reference on small collectives (means and spreads of the balances,
month by month, over many futures with fixed seeds), keeps money in whole minor units, is
the same for the same seed, and stays small at 10,000 members."""
from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from collective.benefits import simulation
from collective.benefits.simulation import ForecastAssumptions

FUND = 300_000
#: Eight members on 1,000.00 a month and four on 500.00, each paying 45.00.
LEVELS = [100_000] * 8 + [50_000] * 4
DUES = [4_500] * 12
MANY = ForecastAssumptions(runs=4000, horizon_months=36, monthly_claim_rate=0.03, seed=11)


def _both(waiting: int, max_months: int, assumptions: ForecastAssumptions = MANY):
    args = (FUND, LEVELS, DUES, waiting, max_months, assumptions)
    return simulation.balances(*args), simulation.balances_per_member(*args)


@pytest.mark.parametrize(("waiting", "max_months"), [(1, 24), (1, 6), (0, 3), (2, 4), (0, 1)])
def test_counts_per_level_agree_with_the_member_by_member_reference(waiting, max_months):
    counts, members = _both(waiting, max_months)
    runs = MANY.runs
    assert counts.shape == members.shape == (36, runs)
    # What the fund pays each month, in every future: contributions less the change.
    paid_counts = 54_000 - np.diff(counts, axis=0, prepend=FUND)
    paid_members = 54_000 - np.diff(members, axis=0, prepend=FUND)
    for month in range(36):
        a, b = paid_counts[month], paid_members[month]
        error = np.sqrt(a.var() / runs + b.var() / runs)
        assert abs(a.mean() - b.mean()) <= 4.5 * error, (month, a.mean(), b.mean())
        assert b.std() * 0.85 <= a.std() <= b.std() * 1.15, (month, a.std(), b.std())
    # The balance after three years: the same mean and spread, within sampling error.
    last_a, last_b = counts[-1], members[-1]
    assert abs(last_a.mean() - last_b.mean()) <= 4.5 * np.sqrt(
        (last_a.var() + last_b.var()) / runs)
    assert last_b.std() * 0.9 <= last_a.std() <= last_b.std() * 1.1
    # And the stored summary: the bad-luck band and the share that never runs out agree.
    ours, reference = simulation.summarise(counts), simulation.summarise(members)
    assert abs(ours["never_out_share"] - reference["never_out_share"]) <= 0.03
    for key in ("median_path", "p10_path", "p90_path"):
        assert abs(ours[key][-1] - reference[key][-1]) <= 0.1 * last_b.std() + 50_000, key


def test_the_reference_comparison_notices_a_wrong_waiting_period():
    """The agreement test has the power to fail: a simulation that pays one month sooner is
    far outside its tolerance."""
    counts = simulation.balances(FUND, LEVELS, DUES, 0, 6, MANY)
    members = simulation.balances_per_member(FUND, LEVELS, DUES, 1, 6, MANY)
    a, b = counts[-1], members[-1]
    assert abs(a.mean() - b.mean()) > 10 * np.sqrt((a.var() + b.var()) / MANY.runs)


def test_balances_move_by_whole_levels_and_contributions():
    counts = simulation.balances(FUND, LEVELS, DUES, 1, 24, MANY)
    assert counts.dtype == np.int64
    months = np.arange(1, 37)[:, None]
    # Fund plus what came in less a whole number of 500.00 benefits (the smaller level).
    assert ((FUND + 54_000 * months - counts) % 50_000 == 0).all()
    result = simulation.forecast_months(FUND, LEVELS, DUES, 1, 24, MANY)
    for key in ("median_path", "p10_path", "p90_path"):
        assert all(type(v) is int for v in result[key])
        assert all((FUND + 54_000 * m - v) % 50_000 == 0
                   for m, v in enumerate(result[key], start=1))


def test_nobody_is_paid_when_the_waiting_outlasts_the_longest_leave():
    counts, members = _both(4, 3)
    expected = FUND + 54_000 * np.arange(1, 37)
    assert (counts == expected[:, None]).all()
    assert (members == expected[:, None]).all()


def test_the_same_seed_gives_the_same_futures_and_another_seed_others():
    small = ForecastAssumptions(runs=300, horizon_months=24, monthly_claim_rate=0.05)
    first = simulation.balances(FUND, LEVELS, DUES, 1, 6, small)
    assert np.array_equal(first, simulation.balances(FUND, LEVELS, DUES, 1, 6, small))
    other = ForecastAssumptions(runs=300, horizon_months=24, monthly_claim_rate=0.05, seed=8)
    assert not np.array_equal(first, simulation.balances(FUND, LEVELS, DUES, 1, 6, other))


def test_a_forecast_of_10_000_members_stays_small():
    """The default assumptions (2,000 futures x 120 months) at 10,000 members: the arrays
    grow with the levels and the sick leaves, not the members (the member-by-member version
    needed about 1 GB). No timing here: bench/forecast.py times it."""
    rng = np.random.default_rng(3)
    levels = rng.choice([50_000, 75_000, 100_000, 125_000], size=10_000).tolist()
    dues = [level * 45 // 1000 for level in levels]
    tracemalloc.start()
    try:
        result = simulation.forecast_months(10_000 * 50_000, levels, dues, 1, 24)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20, peak
    assert len(result["median_path"]) == 120
    assert result["p10_path"][-1] <= result["median_path"][-1] <= result["p90_path"][-1]

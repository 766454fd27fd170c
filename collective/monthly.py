"""The monthly table: amounts summed per calendar month and column, with no month missing.

No Flask, no database: shared by the dashboards, the fund pages and "my shares". It takes
and gives pandas frames, but sums in plain Python (a few hundred rows at most, where a
pivot table costs milliseconds). Amounts are integer minor units and stay int64.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


def monthly_table(
    frame: pd.DataFrame,
    columns: Sequence[str],
    *,
    day: str = "day",
    column: str = "column",
    amount: str = "amount",
    until: date | None = None,
    last_months: int | None = None,
    cumulative: bool = False,
) -> pd.DataFrame:
    """Sum `amount` by the month of `day` and by `column` into one int64 column each.

    Rows run from the first month with data to `until`'s month (or the last with data, if
    later), with months without data as zero. `cumulative` turns each column into a running
    total over all those months; `last_months` then keeps only the most recent ones.
    Returns the columns month ('2026-10') and `columns`, in that order.
    """
    import pandas as pd
    names = list(columns)
    place = {name: i for i, name in enumerate(names)}
    sums: dict[int, list[int]] = {}
    for when, name, value in zip(frame[day].tolist(), frame[column].tolist(),
                                 frame[amount].tolist(), strict=True):
        if pd.isna(name) or pd.isna(when):
            continue  # no column (a missing value), or no day: grouped by nothing
        key = _month_number(when)
        row = sums.get(key)
        if row is None:
            row = sums[key] = [0] * len(names)
        if name in place:
            row[place[name]] += int(value)
    if not sums:
        return pd.DataFrame({"month": pd.Series(dtype=str),
                             **{name: pd.Series(dtype="int64") for name in names}})
    first, last = min(sums), max(sums)
    if until is not None:
        last = max(last, until.year * 12 + until.month - 1)
    zero = [0] * len(names)
    rows = [sums.get(key, zero) for key in range(first, last + 1)]
    if cumulative:
        running = [0] * len(names)
        totals = []
        for row in rows:
            running = [a + b for a, b in zip(running, row, strict=True)]
            totals.append(running)
        rows = totals
    months = [f"{key // 12:04d}-{key % 12 + 1:02d}" for key in range(first, last + 1)]
    if last_months is not None:
        rows, months = rows[-last_months:], months[-last_months:]
    return pd.DataFrame({"month": months, **{
        name: pd.Series([row[i] for row in rows], dtype="int64")
        for i, name in enumerate(names)}})


def _month_number(when) -> int:
    """year * 12 + month - 1 of a date, a datetime, a pandas Timestamp or an ISO text."""
    if isinstance(when, str):
        return int(when[:4]) * 12 + int(when[5:7]) - 1
    return when.year * 12 + when.month - 1

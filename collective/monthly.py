"""The monthly table: amounts summed per calendar month and column, with no month missing.

Pure pandas (no Flask, no database), shared by the dashboards, the fund pages and "my
shares". Amounts are integer minor units and stay int64 throughout.
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
    if frame.empty:
        return pd.DataFrame({"month": pd.Series(dtype=str),
                             **{name: pd.Series(dtype="int64") for name in names}})
    months = pd.to_datetime(frame[day]).dt.to_period("M")
    table = (frame.assign(_month=months)
             .pivot_table(index="_month", columns=column, values=amount, aggfunc="sum",
                          fill_value=0)
             .reindex(columns=names, fill_value=0))
    last = table.index.max()
    if until is not None:
        last = max(last, pd.Period(until, freq="M"))
    every = pd.period_range(table.index.min(), last, freq="M")
    table = table.reindex(every, fill_value=0).astype("int64")
    if cumulative:
        table = table.cumsum()
    if last_months is not None:
        table = table.iloc[-last_months:]
    table.index = table.index.strftime("%Y-%m")
    table.columns.name = None
    return table.rename_axis("month").reset_index()

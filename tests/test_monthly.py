"""The one monthly table: sums per month and column, no gaps, running totals, windows."""
from __future__ import annotations

from datetime import date

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from collective.monthly import monthly_table


def frame(*rows):
    return pd.DataFrame(rows, columns=["day", "column", "amount"]).astype({"amount": "int64"})


def test_months_without_data_show_as_zero_and_columns_without_data_too():
    table = monthly_table(frame((date(2026, 1, 5), "in", 100), (date(2026, 3, 31), "in", 7),
                                (date(2026, 3, 1), "in", 3)), ["in", "out"])
    assert table.to_dict("records") == [
        {"month": "2026-01", "in": 100, "out": 0},
        {"month": "2026-02", "in": 0, "out": 0},
        {"month": "2026-03", "in": 10, "out": 0},
    ]
    assert str(table["in"].dtype) == "int64"


def test_until_extends_to_a_later_month_and_the_window_keeps_the_last_months():
    table = monthly_table(frame((date(2025, 11, 2), "in", 5), (date(2026, 1, 2), "out", -2)),
                          ["in", "out"], until=date(2026, 3, 15), last_months=3)
    assert list(table["month"]) == ["2026-01", "2026-02", "2026-03"]
    assert list(table["out"]) == [-2, 0, 0]


def test_cumulative_totals_count_months_before_the_window():
    table = monthly_table(frame((date(2025, 12, 2), "fund", 50), (date(2026, 2, 2), "fund", 25)),
                          ["fund"], cumulative=True, last_months=2)
    assert table.to_dict("records") == [{"month": "2026-01", "fund": 50},
                                        {"month": "2026-02", "fund": 75}]


def test_an_empty_frame_gives_an_empty_table_with_the_columns():
    table = monthly_table(frame(), ["a", "b"])
    assert list(table.columns) == ["month", "a", "b"] and table.empty


def pivot_reference(frame, columns, *, until=None, last_months=None, cumulative=False):
    """The table as pandas' pivot table makes it (what monthly_table did before it summed
    in Python): the reference the property below compares with."""
    names = list(columns)
    if frame.empty:
        return pd.DataFrame({"month": pd.Series(dtype=str),
                             **{name: pd.Series(dtype="int64") for name in names}})
    months = pd.to_datetime(frame["day"]).dt.to_period("M")
    table = (frame.assign(_month=months)
             .pivot_table(index="_month", columns="column", values="amount", aggfunc="sum",
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


ROWS = st.lists(st.tuples(st.dates(date(2024, 1, 1), date(2026, 12, 31)),
                          st.sampled_from(["in", "out", "other"]),
                          st.integers(-10**12, 10**12)), max_size=30)


@settings(max_examples=200, deadline=None)
@given(rows=ROWS, until=st.none() | st.dates(date(2023, 6, 1), date(2027, 6, 30)),
       last_months=st.none() | st.integers(1, 40), cumulative=st.booleans())
def test_the_sums_are_the_pivot_tables(rows, until, last_months, cumulative):
    """Any rows (a column not asked for still counts its month), any window: the same
    months, the same sums, int64 throughout."""
    data = frame(*rows) if rows else frame()
    ours = monthly_table(data, ["in", "out"], until=until, last_months=last_months,
                         cumulative=cumulative)
    theirs = pivot_reference(data, ["in", "out"], until=until, last_months=last_months,
                             cumulative=cumulative)
    assert ours.to_dict("records") == theirs.to_dict("records")
    assert [str(ours[name].dtype) for name in ("in", "out")] == ["int64", "int64"]

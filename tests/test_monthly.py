"""The one monthly table: sums per month and column, no gaps, running totals, windows."""
from __future__ import annotations

from datetime import date

import pandas as pd

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

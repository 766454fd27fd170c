"""database.insert_rows: many rows in one pass, exactly as given, on either database (on
SQLite, many rows a statement, with the last statement holding the rest), and a broken
constraint raises IntegrityError with nothing of the batch kept."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from collective.database import insert_rows
from collective.extensions import db


@pytest.fixture
def table(ctx):
    connection = db.session.connection()
    connection.execute(sa.text(
        "CREATE TEMPORARY TABLE rows_in (id INTEGER PRIMARY KEY, label VARCHAR(20) NOT NULL, "
        "day DATE, amount BIGINT NOT NULL, UNIQUE (label))"))
    return connection


@pytest.mark.parametrize("count", [1, 499, 500, 1_234, 8_001])
def test_every_row_is_written_as_given(table, count):
    ids = list(range(1, count + 1))
    columns = {"id": ids, "label": [f"row {i}" for i in ids],
               "day": [date(2026, 1, 1 + i % 28) if i % 3 else None for i in ids],
               "amount": [i * 10**9 - 7 for i in ids]}
    insert_rows(table, "rows_in", columns)
    got = table.execute(sa.text("SELECT id, label, day, amount FROM rows_in ORDER BY id")).all()
    assert len(got) == count
    for (row_id, label, day, amount), i in zip(got, ids, strict=True):
        assert (row_id, label, amount) == (i, f"row {i}", i * 10**9 - 7)
        expected = date(2026, 1, 1 + i % 28) if i % 3 else None
        assert (str(day)[:10] if day is not None else None) == (
            expected.isoformat() if expected else None)


def test_a_broken_constraint_raises_and_keeps_nothing_of_the_batch(table):
    table.execute(sa.text("SAVEPOINT before_rows"))
    labels = [f"row {i}" for i in range(700)] + ["row 3"]  # the last one repeats a label
    with pytest.raises(sa.exc.IntegrityError):
        insert_rows(table, "rows_in", {"id": list(range(1, 702)), "label": labels,
                                       "day": [None] * 701, "amount": [1] * 701})
    table.execute(sa.text("ROLLBACK TO SAVEPOINT before_rows"))
    assert table.execute(sa.text("SELECT count(*) FROM rows_in")).scalar() == 0
    insert_rows(table, "rows_in", {"id": [], "label": [], "day": [], "amount": []})
    assert table.execute(sa.text("SELECT count(*) FROM rows_in")).scalar() == 0

"""Gapless numbers per collective, series and year: BRC-2026-0007, BRC-2026-CN-0001.

The next number is taken by one atomic upsert of the counter row (INSERT ... ON CONFLICT DO
UPDATE ... RETURNING) in the transaction that issues. On PostgreSQL the upsert holds the
row's lock until that transaction ends, so a second issuer waits, then gets the next
number; if the first rolls back, its number was never taken. SQLite runs one writer at a
time (every transaction that may write begins IMMEDIATE: collective/database.py). So: no
gap, no duplicate.
"""
from __future__ import annotations

import sqlalchemy as sa

from collective.books.invoices.models import NumberCounter, Series
from collective.database import conflict_insert
from collective.extensions import db


def take_number(collective_id: int, series: Series, year: int) -> int:
    """The next number of the series for the year, taken for this transaction."""
    statement = conflict_insert(NumberCounter).values(
        collective_id=collective_id, series=series.value, year=year, last_number=1)
    statement = statement.on_conflict_do_update(
        index_elements=["collective_id", "series", "year"],
        set_={"last_number": NumberCounter.__table__.c.last_number + 1},
    ).returning(NumberCounter.__table__.c.last_number)
    return int(db.session.execute(statement).scalar_one())


def format_number(prefix: str, series: Series, year: int, number: int) -> str:
    """'BRC-2026-0007' for an invoice, 'BRC-2026-CN-0001' for a credit note."""
    middle = "-CN" if series == Series.CREDIT_NOTE else ""
    return f"{prefix}-{year}{middle}-{number:04d}"


def last_numbers(collective_id: int) -> dict[tuple[str, int], int]:
    """(series, year) -> the last number given, for the settings page."""
    rows = db.session.execute(sa.select(NumberCounter.series, NumberCounter.year,
                                        NumberCounter.last_number)
                              .filter_by(collective_id=collective_id))
    return {(str(series), year): last for series, year, last in rows}

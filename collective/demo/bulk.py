"""Rows written many at once, for the scale demo (collective/demo/scale.py)."""
from __future__ import annotations

import enum
from collections.abc import Iterable

import sqlalchemy as sa

from collective.extensions import db
from collective.ledger import services as ledger
from collective.ledger.models import JournalEntry, Posting


class Bulk:
    """Inserts many rows at once, with ids it takes from the table's sequence beforehand
    (PostgreSQL) or after its highest id (SQLite, whose writer holds the database's lock):
    executemany of one Core `insert()` on SQLite, COPY on PostgreSQL."""

    def __init__(self) -> None:
        self.connection = db.session.connection()
        self.is_postgres = self.connection.dialect.name == "postgresql"

    def ids(self, model, rows: Iterable[dict]) -> list[int]:
        """Insert the rows; their new ids, in the order given."""
        rows, table = list(rows), model.__table__
        if not rows:
            return []
        if self.is_postgres:
            ids = list(self.connection.execute(
                sa.text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) "
                        "FROM generate_series(1, :n)"), {"t": table.name, "n": len(rows)}
            ).scalars())
        else:
            top = self.connection.execute(sa.select(sa.func.max(table.c.id))).scalar() or 0
            ids = list(range(top + 1, top + len(rows) + 1))
        for row, new_id in zip(rows, ids, strict=True):
            row["id"] = new_id
        self._insert(table, rows)
        return ids

    def rows(self, model, rows: Iterable[dict]) -> None:
        """Insert the rows (the table numbers them)."""
        self._insert(model.__table__, list(rows))

    def _insert(self, table: sa.Table, rows: list[dict]) -> None:
        """One statement for all the rows, on the driver's own cursor: insert() would
        spend more time building each row's parameters than the database writing it."""
        if not rows:
            return
        # Neither executemany on the driver nor COPY applies the model's Python-side
        # defaults: fill them in as insert() would.
        defaults = {column.name: column.default.arg(None) if column.default.is_callable
                    else column.default.arg
                    for column in table.columns
                    if column.name not in rows[0] and column.default is not None}
        names = [*rows[0], *defaults]
        values = ([*row.values(), *defaults.values()] for row in rows)
        driver = self.connection.connection.driver_connection
        if self.is_postgres:
            with driver.cursor() as cursor, cursor.copy(
                    f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
                for row in values:
                    copy.write_row([_plain(value) for value in row])
            return
        dialect = self.connection.dialect
        binds = [table.columns[name].type.dialect_impl(dialect).bind_processor(dialect)
                 for name in names]
        cursor = driver.cursor()
        try:
            cursor.executemany(
                f"INSERT INTO {table.name} ({', '.join(names)}) "
                f"VALUES ({', '.join('?' for _ in names)})",
                ([value if bind is None or value is None else bind(value)
                  for bind, value in zip(binds, row, strict=True)] for row in values))
        finally:
            cursor.close()

    def entries(self, collective_id: int, entries: list[tuple], created_by_id: int | None
                ) -> list[int]:
        """Post balanced entries: [(kind, occurred_on, key, memo, [(account, amount)])] in
        the base currency USD; each is checked to sum to zero first."""
        for _, _, key, _, lines in entries:
            if sum(amount for _, amount in lines) != 0 or len(lines) < 2:
                raise ledger.UnbalancedEntry(f"{key} does not balance")
        ids = self.ids(JournalEntry, ({
            "collective_id": collective_id, "kind": kind.value, "occurred_on": day,
            "idempotency_key": key, "memo": memo[:500], "created_by_id": created_by_id,
            "reverses_id": None} for kind, day, key, memo, _ in entries))
        self.rows(Posting, ({"entry_id": entry_id, "account_id": account, "amount": amount,
                             "currency": "USD"}
                            for entry_id, (*_, lines) in zip(ids, entries, strict=True)
                            for account, amount in lines if amount))
        return ids


def _plain(value):
    """A value as COPY takes it: an enum member as its value."""
    return value.value if isinstance(value, enum.Enum) else value

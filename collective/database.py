"""How the app talks to its database: SQLite as a real embedded default (docs/operating.md).

Reads and writes on SQLite
--------------------------
The file database runs in WAL mode: readers see a snapshot and never wait for the writer,
and the one writer never waits for readers. Which lock a transaction takes depends on what
it is for:

- A transaction that may write begins IMMEDIATE: it takes the write lock before its first
  read, so writers queue (up to busy_timeout) instead of failing half-way. A read-then-write
  transaction begun DEFERRED would fail with SQLITE_BUSY when it tries to write after
  another writer committed since its read, and no timeout helps then. This is the default:
  every POST, PUT, PATCH and DELETE, every CLI command and every scheduled job.
- A read begins DEFERRED and holds no write lock: GET, HEAD and OPTIONS requests (including
  a streamed download, however long it takes), and any block run inside `reading()` (the
  ledger export of the CLI). They must not write; a flush with changes in one of them is a
  bug and raises `WriteInRead`.

On PostgreSQL the begin statement is PostgreSQL's own (reads never block writes there);
the write guard holds on both.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime

import sqlalchemy as sa
from flask import has_request_context, request
from sqlalchemy import orm as so
from sqlalchemy.dialects import postgresql, sqlite

#: Request methods that only read: their transactions begin deferred and must not write.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

#: KiB of page cache per SQLite connection (SQLite's default is 2 MiB): a run writing tens
#: of thousands of postings touches index pages all over a large ledger.
CACHE_KIB = 64 * 1024

#: Milliseconds a writer waits for the write lock before "database is locked".
BUSY_TIMEOUT_MS = 10_000

_reading: ContextVar[bool] = ContextVar("collective_reading", default=False)


class WriteInRead(RuntimeError):
    """A read-only unit of work (a GET request, an export) tried to write: a bug."""


@contextmanager
def reading() -> Iterator[None]:
    """Run the block as a read: its transactions begin deferred and it must not write."""
    token = _reading.set(True)
    try:
        yield
    finally:
        _reading.reset(token)


def is_read_only() -> bool:
    """True inside `reading()` or a GET/HEAD/OPTIONS request."""
    if _reading.get():
        return True
    return has_request_context() and request.method in READ_METHODS


def is_file_database(url: sa.URL) -> bool:
    """A SQLite database in a file (WAL needs one), not `:memory:` or a shared-memory URI."""
    name = url.database or ""
    in_memory = "mode=memory" in name or url.query.get("mode") == "memory"
    return name not in ("", ":memory:") and not in_memory


def configure_sqlite(engine: sa.Engine) -> None:
    """Foreign keys on, WAL on a file database, and real transactions (pysqlite's own
    handling breaks savepoints), begun IMMEDIATE for writes and DEFERRED for reads."""
    wal = is_file_database(engine.url)

    @sa.event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        if wal:
            cursor.execute("PRAGMA journal_mode = WAL")
            # FULL, not NORMAL: a commit the app has reported survives a power cut too.
            cursor.execute("PRAGMA synchronous = FULL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def on_begin(connection):
        connection.exec_driver_sql("BEGIN" if is_read_only() else "BEGIN IMMEDIATE")


def _refuse_writes_in_reads(session: so.Session, _flush_context, _instances) -> None:
    # A class marked `is_written_in_reads` (the audit log's rows, which record a download)
    # may be inserted in a read; nothing may be changed or deleted.
    changed = any(not getattr(obj, "is_written_in_reads", False) for obj in session.new) \
        or session.deleted or any(session.is_modified(obj) for obj in session.dirty)
    if changed and is_read_only():
        what = f"a {request.method} request" if has_request_context() and not _reading.get() \
            else "a read"
        raise WriteInRead(f"{what} tried to write: reads never write")


def init_engine(engine: sa.Engine) -> None:
    """Set the engine up for its database, and guard reads against writing."""
    if engine.dialect.name == "sqlite":
        configure_sqlite(engine)
    if not sa.event.contains(so.Session, "before_flush", _refuse_writes_in_reads):
        sa.event.listen(so.Session, "before_flush", _refuse_writes_in_reads)


# --- Bulk writes ------------------------------------------------------------------------------
# A scheduled run writes tens of thousands of rows at once. SQLAlchemy's bulk insert sends
# them as multi-row VALUES statements (thousands of parameters each, which psycopg parses
# slowly on PostgreSQL, and split wherever a column holds None); these two send them in
# one pass instead: COPY on PostgreSQL, the driver's executemany of one prepared INSERT on
# SQLite. Both run inside the caller's transaction and write nothing else.


def next_ids(connection: sa.Connection, table: str, count: int) -> list[int]:
    """`count` new primary keys for `table`, increasing, taken in one statement (from its
    sequence on PostgreSQL; after the largest id on SQLite, where the transaction already
    holds the one write lock, so no other writer can take the same ids)."""
    if count <= 0:
        return []
    if connection.dialect.name == "postgresql":
        return sorted(connection.execute(
            sa.text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                    "FROM generate_series(1, :count)"),
            {"table": table, "count": count}).scalars())
    last = connection.execute(sa.text(f"SELECT coalesce(max(id), 0) FROM {table}")).scalar()
    return list(range(last + 1, last + 1 + count))


def insert_rows(connection: sa.Connection, table: str, columns: dict[str, list]) -> None:
    """Insert rows given column by column ({name: values}, plain Python values: int, str,
    date, aware datetime or None; every list as long) into `table`, in one pass. A
    constraint the rows break raises sqlalchemy's IntegrityError, as any other insert does."""
    names = list(columns)
    values = list(columns.values())
    if not values or not values[0]:
        return
    if connection.dialect.name != "postgresql":
        rows = list(zip(*map(_sqlite_column, values), strict=True))
        # Many rows a statement (SQLite binds at most 32,766 values in one): each row
        # crossing into SQLite on its own, as executemany sends it, cost twice the insert.
        per = max(1, min(500, 32_000 // len(names)))
        mark = f"({', '.join('?' for _ in names)})"
        head = f"INSERT INTO {table} ({', '.join(names)}) VALUES "
        full = head + ", ".join([mark] * per)
        whole = len(rows) - len(rows) % per
        if whole:
            connection.exec_driver_sql(full, [
                tuple(value for row in rows[i:i + per] for value in row)
                for i in range(0, whole, per)])
        if whole < len(rows):
            tail = rows[whole:]
            connection.exec_driver_sql(head + ", ".join([mark] * len(tail)),
                                       tuple(value for row in tail for value in row))
        return
    import psycopg

    statement = f"COPY {table} ({', '.join(names)}) FROM STDIN"
    cursor = connection.connection.driver_connection.cursor()
    try:
        with cursor.copy(statement) as copy:
            for row in zip(*values, strict=True):
                copy.write_row(row)
    except psycopg.Error as exc:
        # As SQLAlchemy raises it for any other statement (IntegrityError for a broken
        # constraint, and so on), so callers catch what they always catch.
        raise sa.exc.DBAPIError.instance(statement, None, exc, psycopg.Error) from exc
    finally:
        cursor.close()


def _sqlite_column(values: list) -> list:
    """A column's values as SQLAlchemy stores them on SQLite: dates as ISO text, datetimes
    as naive UTC text with microseconds (each distinct value converted once)."""
    if not any(isinstance(v, date) for v in values):
        return values
    converted = {v: _sqlite_value(v) for v in set(values)}
    return [converted[v] for v in values]


def _sqlite_value(value):
    """A value as SQLAlchemy stores it on SQLite (dates as ISO text, datetimes as naive UTC
    text with microseconds)."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def named_like(query: sa.Select, name: sa.ColumnElement[str], row_id: sa.ColumnElement[int],
               text: str) -> sa.Select | None:
    """`query` (which selects id and name) narrowed to the rows whose name contains `text`
    (any case), the names starting with it first; "#12" or "12" names row 12; None when the
    text can name nothing. For the search boxes of forms that name one member or client."""
    text = text.strip()[:200]
    digits = text.lstrip("#")
    if digits.isascii() and digits.isdigit():
        return query.where(row_id == int(digits)) if len(digits) <= 12 else None
    if not text:
        return None
    pattern = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    lowered = sa.func.lower(name)
    return (query.where(lowered.like(f"%{pattern}%", escape="\\")).order_by(None)
            .order_by(sa.not_(lowered.like(f"{pattern}%", escape="\\")), name, row_id))


def conflict_insert(model: type):
    """An INSERT into `model` in the session's database's own construct, which can say ON
    CONFLICT (do nothing, or update) on both PostgreSQL and SQLite."""
    from collective.extensions import db

    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)

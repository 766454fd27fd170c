"""Several scheduler processes, on one host or several, share the collectives between them.

While a process works on one collective's part of a job (its fund runs, say), it holds that
collective's lock for the job; another process running the same job skips the collective
instead of waiting, and goes on to the next. On PostgreSQL the lock is a session-level
advisory lock, held on a connection of its own (the work itself commits several times on
the session's connection), and let go when the collective is done or the process dies.
SQLite runs one writer at a time and one scheduler process, so every claim succeeds there.

Skipping is safe because the process holding the lock is doing that very work, and each
unit of it is still keyed (the unique run key) and re-read under the lock, so nothing is
done twice.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

import sqlalchemy as sa

from collective.extensions import db

#: One advisory lock space per job (the ledger's balance lock uses 4201).
FUND_RUNS_LOCK = 4210
PROPOSALS_LOCK = 4211


class CollectiveClaims:
    """`with CollectiveClaims(FUND_RUNS_LOCK) as claims:` then, per collective,
    `with claims.claim(collective_id) as mine:`, true when this process may do the work."""

    def __init__(self, space: int) -> None:
        self.space = space
        self.connection: sa.Connection | None = None

    def __enter__(self) -> CollectiveClaims:
        if db.engine.dialect.name == "postgresql":
            self.connection = db.engine.connect().execution_options(
                isolation_level="AUTOCOMMIT")
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.connection is not None:
            self.connection.close()  # ends the session: any lock still held goes with it
            self.connection = None

    @contextmanager
    def claim(self, collective_id: int) -> Iterator[bool]:
        """Hold the collective's lock for the block, if no other process holds it (true),
        or skip it (false)."""
        if self.connection is None:
            yield True
            return
        mine = self.connection.scalar(
            sa.select(sa.func.pg_try_advisory_lock(self.space, collective_id)))
        try:
            yield bool(mine)
        finally:
            if mine:
                self.connection.scalar(
                    sa.select(sa.func.pg_advisory_unlock(self.space, collective_id)))

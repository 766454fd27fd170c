"""The unit of work every edge shares: a request, a CLI command or a scheduled job commits
once at its end, and rolls back on any failure. Services flush and never commit."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from collective.extensions import db


@contextmanager
def transaction(*, commit: bool = True) -> Iterator[None]:
    """Commit when the block ends (unless `commit` is false: a read, or a dry run, leaves
    the session to be rolled back); roll back and re-raise on any exception."""
    try:
        yield
    except BaseException:
        db.session.rollback()
        raise
    if commit:
        db.session.commit()


def violates(exc: sa.exc.IntegrityError, constraint: str) -> bool:
    """Whether the integrity error is the clash of this one unique constraint (by its name,
    as the naming convention gave it), not some other constraint failing.

    PostgreSQL names the constraint itself; SQLite names only its columns ("UNIQUE constraint
    failed: benefit_runs.collective_id, ..."), so those are matched against the constraint's
    columns in the models' metadata."""
    orig = exc.orig
    diag = getattr(orig, "diag", None)
    if diag is not None:
        return getattr(diag, "constraint_name", None) == constraint
    message = str(orig)
    prefix = "UNIQUE constraint failed: "
    if not message.startswith(prefix):
        return False
    return message[len(prefix):].strip() == _sqlite_columns().get(constraint)


def _sqlite_columns() -> dict[str, str]:
    """Each named unique constraint (and unique column) of the models, by name, as SQLite
    lists its columns when it fails."""
    names = {}
    for table in db.metadata.tables.values():
        for item in table.constraints:
            if isinstance(item, sa.UniqueConstraint) and item.name:
                names[str(item.name)] = ", ".join(f"{table.name}.{c.name}"
                                                  for c in item.columns)
    return names

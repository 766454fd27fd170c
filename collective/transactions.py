"""The unit of work every edge shares: a request, a CLI command or a scheduled job commits
once at its end, and rolls back on any failure. Services flush and never commit."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

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

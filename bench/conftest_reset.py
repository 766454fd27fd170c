"""Empty a benchmark database (the same reset the test suite uses)."""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa


def reset(engine: sa.Engine) -> None:
    """Drop everything in the database, so the migrations start from nothing."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
    else:
        engine.dispose()
        path = engine.url.database
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)

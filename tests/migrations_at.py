"""The migration tests' set-up: a scratch database migrated to a revision, with rows written
as that revision's schema had them."""
from __future__ import annotations

from collections.abc import Iterable

import flask_migrate
import sqlalchemy as sa

from collective.extensions import db


def rows_at(revision: str, statements: Iterable[str]) -> None:
    """Migrate the app's database to `revision`, then run `statements` there in one
    transaction (inside the scratch app's context)."""
    flask_migrate.upgrade(revision=revision)
    with db.engine.begin() as conn:
        for statement in statements:
            conn.execute(sa.text(statement))

"""The migrations build exactly the schema the models describe, on this run's database."""
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from collective.extensions import db
from collective.ledger.guards import APPEND_ONLY_TABLES


def test_migrations_match_the_models(app):
    # The `app` fixture emptied the database and ran every migration from nothing.
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_migrations_install_the_append_only_triggers(app):
    with app.app_context(), db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            names = conn.scalars(sa.text(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")).all()
            expected = {f"{t}_append_only" for t in APPEND_ONLY_TABLES}
        else:
            names = conn.scalars(sa.text(
                "SELECT name FROM sqlite_master WHERE type = 'trigger'")).all()
            expected = {f"{t}_no_{op}" for t in APPEND_ONLY_TABLES for op in ("update", "delete")}
    assert expected <= set(names)


def test_sqlite_enforces_foreign_keys_again_after_the_migrations(app):
    # migrations/env.py turns enforcement off while batch mode rebuilds tables.
    with app.app_context(), db.engine.connect() as conn:
        if conn.dialect.name != "sqlite":
            return
        assert conn.scalar(sa.text("PRAGMA foreign_keys")) == 1

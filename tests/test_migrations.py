"""The migrations build exactly the schema the models describe, on this run's database."""
import flask_migrate
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from collective.extensions import db
from collective.ledger.guards import APPEND_ONLY_TABLES, GUARDED_TABLES, PERIOD_GUARD


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
            expected = {f"{t}_append_only" for t in GUARDED_TABLES}
        else:
            names = conn.scalars(sa.text(
                "SELECT name FROM sqlite_master WHERE type = 'trigger'")).all()
            expected = {f"{t}_no_{op}" for t in GUARDED_TABLES
                        for op in ("update", "delete", "overwrite")}
    assert expected <= set(names)


def test_the_closed_period_trigger_is_on_journal_entries_after_every_migration(app):
    """A later migration that rebuilds journal_entries on SQLite (batch mode) drops this
    trigger with the table: it must call guards.install_ledger_guards, which puts it back."""
    with app.app_context(), db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            names = conn.scalars(sa.text(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal "
                "AND tgrelid = 'journal_entries'::regclass")).all()
        else:
            names = conn.scalars(sa.text(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                "AND tbl_name = 'journal_entries'")).all()
    assert PERIOD_GUARD in names


def test_sqlite_enforces_foreign_keys_again_after_the_migrations(app):
    # migrations/env.py turns enforcement off while batch mode rebuilds tables.
    with app.app_context(), db.engine.connect() as conn:
        if conn.dialect.name != "sqlite":
            return
        assert conn.scalar(sa.text("PRAGMA foreign_keys")) == 1


def _triggers(conn: sa.Connection) -> set[str]:
    if conn.dialect.name == "postgresql":
        return set(conn.scalars(sa.text(
            "SELECT tgname FROM pg_trigger JOIN pg_class ON pg_class.oid = tgrelid "
            "WHERE NOT tgisinternal AND relnamespace = current_schema()::regnamespace")))
    return set(conn.scalars(sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'")))


def test_the_insert_guard_migration_adds_the_overwrite_triggers_and_takes_them_off(scratch_app):
    overwrite_guards = {f"{t}_no_overwrite" for t in APPEND_ONLY_TABLES}
    with scratch_app.app_context():
        flask_migrate.upgrade(revision="0007_ledger_insert_guard")
        with db.engine.connect() as conn:
            at_0007 = _triggers(conn)
        flask_migrate.downgrade(revision="0006_enum_checks")
        with db.engine.connect() as conn:
            at_0006 = _triggers(conn)
        flask_migrate.upgrade(revision="0007_ledger_insert_guard")
        with db.engine.connect() as conn:
            again = _triggers(conn)
    if scratch_app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        assert overwrite_guards <= at_0007
        assert at_0006 == at_0007 - overwrite_guards
    else:  # PostgreSQL needs no insert trigger: the revision changes nothing there
        assert at_0006 == at_0007
        assert not overwrite_guards & at_0007
    assert again == at_0007


def test_the_bank_periods_migration_adds_the_period_guard_and_takes_it_off(scratch_app):
    with scratch_app.app_context():
        flask_migrate.upgrade(revision="0021_bank_periods")
        with db.engine.connect() as conn:
            at_0021 = _triggers(conn)
        flask_migrate.downgrade(revision="0020_expenses")
        with db.engine.connect() as conn:
            at_0020 = _triggers(conn)
            tables = set(sa.inspect(conn).get_table_names())
        flask_migrate.upgrade(revision="0021_bank_periods")
        with db.engine.connect() as conn:
            again = _triggers(conn)
    assert at_0020 == at_0021 - {PERIOD_GUARD}
    assert not tables & {"bank_accounts", "bank_lines", "closed_periods", "period_events"}
    assert again == at_0021

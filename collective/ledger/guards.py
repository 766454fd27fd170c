"""Database triggers that refuse UPDATE and DELETE on the ledger's tables.

Migrations call `install_append_only_guards`; a later migration that rebuilds one of these
tables (SQLite batch mode copies and drops it) must call it again.
"""
from __future__ import annotations

from collections.abc import Callable

APPEND_ONLY_TABLES = ("journal_entries", "postings")

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END
$$
"""


def guard_statements(dialect: str) -> list[str]:
    """SQL that installs the append-only triggers for the given dialect name."""
    if dialect == "postgresql":
        statements = [_PG_FUNCTION]
        for table in APPEND_ONLY_TABLES:
            statements += [
                f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()",
                f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()",
            ]
        return statements
    if dialect == "sqlite":
        statements = []
        for table in APPEND_ONLY_TABLES:
            for op in ("UPDATE", "DELETE"):
                name = f"{table}_no_{op.lower()}"
                statements += [
                    f"DROP TRIGGER IF EXISTS {name}",
                    f"CREATE TRIGGER {name} BEFORE {op} ON {table} BEGIN "
                    "SELECT RAISE(ABORT, "
                    f"'the ledger is append-only: {op} on {table} is refused'); "
                    "END",
                ]
        return statements
    raise RuntimeError(f"no append-only guard for the {dialect} database")


def drop_statements(dialect: str) -> list[str]:
    """SQL that removes the triggers again (for a downgrade)."""
    if dialect == "postgresql":
        statements = []
        for table in APPEND_ONLY_TABLES:
            statements += [
                f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
                f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
            ]
        return statements + ["DROP FUNCTION IF EXISTS ledger_refuse_change()"]
    return [
        f"DROP TRIGGER IF EXISTS {table}_no_{op}"
        for table in APPEND_ONLY_TABLES
        for op in ("update", "delete")
    ]


def install_append_only_guards(execute: Callable[[str], object], dialect: str) -> None:
    """Run the guard statements through `execute` (alembic's op.execute, or a connection)."""
    for statement in guard_statements(dialect):
        execute(statement)

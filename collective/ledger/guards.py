"""Database triggers that refuse UPDATE and DELETE on the ledger's tables and the audit log
(collective/audit), and on SQLite an INSERT that would overwrite a row.

Migrations call `install_append_only_guards`; a later migration that rebuilds one of these
tables (SQLite batch mode copies and drops it) must call it again.

SQLite's REPLACE (`REPLACE INTO`, `INSERT OR REPLACE`) resolves a conflict on a unique key by
deleting the row that is there, without firing delete triggers, and an UPSERT (`INSERT ... ON
CONFLICT DO UPDATE`) changes it in place. So on SQLite a BEFORE INSERT trigger refuses any
insert that meets an existing row on the primary key or another unique key. PostgreSQL has
no REPLACE, and its ON CONFLICT DO UPDATE and MERGE fire the update and delete triggers, so
it needs no insert trigger.
"""
from __future__ import annotations

from collections.abc import Callable

#: The ledger's append-only tables: what the migrations before 0025 guard.
APPEND_ONLY_TABLES = ("journal_entries", "postings")
#: The audit log's table, guarded the same way from migration 0028_audit_log on.
AUDIT_TABLES = ("audit_events",)
#: Every table the guards refuse to change, and the runtime role may only read and insert
#: into (grants.py).
GUARDED_TABLES = APPEND_ONLY_TABLES + AUDIT_TABLES

#: What the SQLite messages call each table's owner.
_OWNER = {"journal_entries": "the ledger", "postings": "the ledger",
          "audit_events": "the audit log"}

#: SQLite: for each ledger table, the conditions under which an INSERT meets an existing row
#: (its primary key, then its other unique keys). One EXISTS per key, so each uses its index.
_SQLITE_EXISTING_ROW = {
    "journal_entries": (
        "id = NEW.id",
        "collective_id = NEW.collective_id AND idempotency_key = NEW.idempotency_key",
        "reverses_id = NEW.reverses_id",
    ),
    "postings": ("id = NEW.id",),
    "audit_events": ("id = NEW.id",),
}

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the ledger and the audit log are append-only: % on % is refused',
        TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END
$$
"""


def guard_statements(dialect: str, tables: tuple[str, ...] = APPEND_ONLY_TABLES) -> list[str]:
    """SQL that installs the append-only triggers on `tables` (the ledger's unless told) for
    the given dialect name."""
    if dialect == "postgresql":
        statements = [_PG_FUNCTION]
        for table in tables:
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
        for table in tables:
            for op in ("UPDATE", "DELETE"):
                name = f"{table}_no_{op.lower()}"
                statements += [
                    f"DROP TRIGGER IF EXISTS {name}",
                    f"CREATE TRIGGER {name} BEFORE {op} ON {table} BEGIN "
                    "SELECT RAISE(ABORT, "
                    f"'{_OWNER[table]} is append-only: {op} on {table} is refused'); "
                    "END",
                ]
            statements += _sqlite_overwrite_guard(table)
        return statements
    raise RuntimeError(f"no append-only guard for the {dialect} database")


def _sqlite_overwrite_guard(table: str) -> list[str]:
    """The BEFORE INSERT trigger that refuses an insert meeting an existing row of `table`."""
    name = f"{table}_no_overwrite"
    existing = " OR ".join(f"EXISTS (SELECT 1 FROM {table} WHERE {condition})"
                           for condition in _SQLITE_EXISTING_ROW[table])
    return [
        f"DROP TRIGGER IF EXISTS {name}",
        f"CREATE TRIGGER {name} BEFORE INSERT ON {table} WHEN {existing} BEGIN "
        "SELECT RAISE(ABORT, "
        f"'{_OWNER[table]} is append-only: {table} already holds a row with this id or key, "
        "and an INSERT may not replace it'); "
        "END",
    ]


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
        for op in ("update", "delete", "overwrite")
    ]


def install_append_only_guards(execute: Callable[[str], object], dialect: str,
                               tables: tuple[str, ...] = APPEND_ONLY_TABLES) -> None:
    """Run the guard statements for `tables` (the ledger's unless told) through `execute`
    (alembic's op.execute, or a connection)."""
    for statement in guard_statements(dialect, tables):
        execute(statement)


# --- Closed periods --------------------------------------------------------------------------
#: The INSERT trigger on journal_entries that refuses an entry dated inside a closed period
#: (collective.ledger.periods). The year-end closing entry (kind 'closing') is the one entry
#: that may be dated in a closed month: it is posted on Dec 31 after the months are closed.
PERIOD_GUARD = "journal_entries_closed_period"
PERIOD_GUARD_MESSAGE = "journal entry dated inside a closed period"
_CLOSED = ("EXISTS (SELECT 1 FROM closed_periods cp WHERE cp.collective_id = NEW.collective_id "
           "AND NEW.occurred_on BETWEEN cp.starts_on AND cp.ends_on) "
           "AND NEW.kind <> 'closing'")

_PG_PERIOD_FUNCTION = f"""
CREATE OR REPLACE FUNCTION ledger_refuse_closed_period() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF {_CLOSED} THEN
        RAISE EXCEPTION '{PERIOD_GUARD_MESSAGE}: % on %', NEW.kind, NEW.occurred_on
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$
"""


def period_guard_statements(dialect: str) -> list[str]:
    """SQL that installs the closed-period trigger on journal_entries (the closed_periods
    table must exist)."""
    if dialect == "postgresql":
        return [_PG_PERIOD_FUNCTION,
                f"DROP TRIGGER IF EXISTS {PERIOD_GUARD} ON journal_entries",
                f"CREATE TRIGGER {PERIOD_GUARD} BEFORE INSERT ON journal_entries "
                "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_closed_period()"]
    if dialect == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {PERIOD_GUARD}",
                f"CREATE TRIGGER {PERIOD_GUARD} BEFORE INSERT ON journal_entries "
                f"WHEN {_CLOSED} BEGIN SELECT RAISE(ABORT, '{PERIOD_GUARD_MESSAGE}'); END"]
    raise RuntimeError(f"no closed-period guard for the {dialect} database")


def drop_period_guard_statements(dialect: str) -> list[str]:
    """SQL that removes the closed-period trigger again (for a downgrade)."""
    if dialect == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {PERIOD_GUARD} ON journal_entries",
                "DROP FUNCTION IF EXISTS ledger_refuse_closed_period()"]
    return [f"DROP TRIGGER IF EXISTS {PERIOD_GUARD}"]


def install_ledger_guards(execute: Callable[[str], object], dialect: str) -> None:
    """Every ledger trigger: the append-only guards and the closed-period guard. A migration
    after 0019 that rebuilds journal_entries on SQLite (batch mode) calls this one."""
    install_append_only_guards(execute, dialect)
    for statement in period_guard_statements(dialect):
        execute(statement)

"""The PostgreSQL runtime role: what the web and scheduler processes may do to the tables.

The role that owns the tables (the one the migrations run as) can switch the append-only
triggers off (`ALTER TABLE ... DISABLE TRIGGER`, `DROP TRIGGER`), and a superuser can also
`SET session_replication_role = replica`. So the app runs as another role, which holds
SELECT and INSERT on the ledger's tables and the audit log, read and write on the others,
and nothing that changes the schema. `grant_runtime_role` gives a role exactly that; the
owner runs it (through `flask --app collective ledger grant-runtime ROLE`) after every
migration, because a table that a migration adds has no grants yet.
"""
from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from collective.ledger.guards import GUARDED_TABLES

#: What the runtime role may do on the ledger's tables, and on every other table of the app.
LEDGER_PRIVILEGES = ("SELECT", "INSERT")
TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE")
#: Alembic's bookkeeping belongs to the migrations alone.
MIGRATION_TABLES = ("alembic_version",)
#: Privileges on a ledger table that would let the role change or unguard it.
_FORBIDDEN_ON_LEDGER = ("UPDATE", "DELETE", "TRUNCATE", "TRIGGER", "REFERENCES")


class RuntimeRoleError(RuntimeError):
    """The role cannot be made a safe runtime role (missing, a superuser, able to act as the
    owner, or able to change the ledger through another role), or the database has no
    roles."""


def runtime_grant_statements(role: str, schema: str, tables: list[str],
                             quote: Callable[[str], str]) -> list[str]:
    """The SQL that leaves `role` with exactly the runtime privileges on `tables` (`quote`
    quotes an identifier): it first takes back whatever the role held on the schema's tables
    and sequences."""
    who, where = quote(role), quote(schema)
    ledger = [t for t in tables if t in GUARDED_TABLES]
    others = [t for t in tables if t not in GUARDED_TABLES and t not in MIGRATION_TABLES]

    def names(group: list[str]) -> str:
        return ", ".join(f"{where}.{quote(t)}" for t in group)

    statements = [
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {where} FROM {who}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {where} FROM {who}",
        f"GRANT USAGE ON SCHEMA {where} TO {who}",
        f"GRANT {', '.join(LEDGER_PRIVILEGES)} ON {names(ledger)} TO {who}",
    ]
    if others:
        statements.append(f"GRANT {', '.join(TABLE_PRIVILEGES)} ON {names(others)} TO {who}")
    # nextval() for the id columns; setval() would need UPDATE, which it does not get.
    statements.append(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {where} TO {who}")
    return statements


def _app_tables(conn: sa.Connection) -> tuple[str, list[str]]:
    schema = conn.scalar(sa.text("SELECT current_schema()"))
    tables = conn.scalars(sa.text(
        "SELECT tablename FROM pg_tables WHERE schemaname = :schema ORDER BY tablename"),
        {"schema": schema}).all()
    missing = set(GUARDED_TABLES) - set(tables)
    if missing:
        raise RuntimeRoleError(f"no {', '.join(sorted(missing))} table in schema {schema}: "
                               "run `flask --app collective db upgrade` first")
    return schema, list(tables)


def _refuse_unsafe_role(conn: sa.Connection, role: str, schema: str) -> None:
    """Raise unless the role exists, is no superuser, and cannot act as the ledger's owner."""
    found = conn.execute(sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = :role"),
                         {"role": role}).first()
    if found is None:
        raise RuntimeRoleError(f"there is no role {role!r}: create it first "
                               f"(CREATE ROLE {role} LOGIN PASSWORD '...')")
    if found.rolsuper:
        raise RuntimeRoleError(f"{role} is a superuser: it can switch the triggers off")
    owners = conn.execute(sa.text(
        "SELECT tablename, tableowner FROM pg_tables "
        "WHERE schemaname = :schema AND tablename IN :tables"
    ).bindparams(sa.bindparam("tables", expanding=True)),
        {"schema": schema, "tables": list(GUARDED_TABLES)}).all()
    for table, owner in owners:
        if conn.scalar(sa.text("SELECT pg_has_role(:role, :owner, 'MEMBER')"),
                       {"role": role, "owner": owner}):
            raise RuntimeRoleError(f"{role} is, or can act as, {owner}, the owner of {table}: "
                                   "the runtime role must be another role")


def _refuse_ledger_changes(conn: sa.Connection, role: str, schema: str) -> None:
    """Raise if the role, grants applied, still holds more than SELECT and INSERT on a
    ledger table (through a role it belongs to, or a grant to PUBLIC)."""
    for table in GUARDED_TABLES:
        held = [p for p in _FORBIDDEN_ON_LEDGER if conn.scalar(
            sa.text("SELECT has_table_privilege(:role, :table, :privilege)"),
            {"role": role, "table": f"{schema}.{table}", "privilege": p})]
        if held:
            raise RuntimeRoleError(f"{role} still holds {', '.join(held)} on {table} through "
                                   "another role it belongs to (pg_write_all_data, say) or a "
                                   "grant to PUBLIC: take that away first")


def grant_runtime_role(conn: sa.Connection, role: str, *, execute: bool = True) -> list[str]:
    """Give `role` exactly the runtime privileges on the app's tables (PostgreSQL), check
    that it cannot change the ledger, and return the statements; with execute=False, only
    return them. The caller commits, and rolls back on an error, so nothing is granted."""
    if conn.dialect.name != "postgresql":
        raise RuntimeRoleError("a runtime role is PostgreSQL's; SQLite has no roles "
                               "(whoever can write the file can change anything)")
    schema, tables = _app_tables(conn)
    statements = runtime_grant_statements(role, schema, tables,
                                          quote=conn.dialect.identifier_preparer.quote)
    if execute:
        _refuse_unsafe_role(conn, role, schema)
        for statement in statements:
            conn.exec_driver_sql(statement)
        _refuse_ledger_changes(conn, role, schema)
    return statements

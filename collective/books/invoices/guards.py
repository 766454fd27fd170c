"""Database triggers that freeze an issued invoice: once `number` is set, its row and its
lines can be neither changed nor deleted, and no line can be added. Credit notes and the
invoice movements are append-only. Migration 0019 installs them; a later migration that
rebuilds one of these tables in SQLite batch mode must install them again."""
from __future__ import annotations

from collections.abc import Callable

_PG_FUNCTIONS = [
    """
CREATE OR REPLACE FUNCTION invoice_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'an issued invoice is frozen: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END
$$
""",
    """
CREATE OR REPLACE FUNCTION invoice_line_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    target integer;
BEGIN
    IF TG_OP = 'INSERT' THEN target := NEW.invoice_id; ELSE target := OLD.invoice_id; END IF;
    IF EXISTS (SELECT 1 FROM invoices WHERE id = target AND number IS NOT NULL) THEN
        RAISE EXCEPTION 'an issued invoice is frozen: % on % is refused', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END
$$
""",
]
APPEND_ONLY = ("credit_notes", "invoice_movements")


def guard_statements(dialect: str) -> list[str]:
    """SQL that installs the triggers on `dialect` ('postgresql' or 'sqlite')."""
    if dialect == "postgresql":
        statements = list(_PG_FUNCTIONS)
        statements += [
            "CREATE TRIGGER invoices_frozen_update BEFORE UPDATE ON invoices FOR EACH ROW "
            "WHEN (OLD.number IS NOT NULL) EXECUTE FUNCTION invoice_refuse_change()",
            "CREATE TRIGGER invoices_frozen_delete BEFORE DELETE ON invoices FOR EACH ROW "
            "WHEN (OLD.number IS NOT NULL) EXECUTE FUNCTION invoice_refuse_change()",
            "CREATE TRIGGER invoice_lines_frozen BEFORE INSERT OR UPDATE OR DELETE ON "
            "invoice_lines FOR EACH ROW EXECUTE FUNCTION invoice_line_refuse_change()",
        ]
        statements += [
            # A credit note gets its entry right after its own row: that one UPDATE only.
            "CREATE TRIGGER credit_notes_append_only BEFORE UPDATE ON credit_notes "
            "FOR EACH ROW WHEN (OLD.entry_id IS NOT NULL) "
            "EXECUTE FUNCTION invoice_refuse_change()",
            "CREATE TRIGGER credit_notes_no_delete BEFORE DELETE ON credit_notes "
            "FOR EACH ROW EXECUTE FUNCTION invoice_refuse_change()",
            "CREATE TRIGGER invoice_movements_append_only BEFORE UPDATE OR DELETE ON "
            "invoice_movements FOR EACH ROW EXECUTE FUNCTION invoice_refuse_change()",
        ]
        return statements
    if dialect == "sqlite":
        refuse = "BEGIN SELECT RAISE(ABORT, 'an issued invoice is frozen'); END"
        issued = "EXISTS (SELECT 1 FROM invoices WHERE id = {}.invoice_id AND number IS NOT NULL)"
        statements = [
            "CREATE TRIGGER invoices_frozen_update BEFORE UPDATE ON invoices "
            f"WHEN OLD.number IS NOT NULL {refuse}",
            "CREATE TRIGGER invoices_frozen_delete BEFORE DELETE ON invoices "
            f"WHEN OLD.number IS NOT NULL {refuse}",
            "CREATE TRIGGER invoice_lines_frozen BEFORE UPDATE ON invoice_lines "
            f"WHEN {issued.format('OLD')} {refuse}",
            "CREATE TRIGGER invoice_lines_frozen_delete BEFORE DELETE ON invoice_lines "
            f"WHEN {issued.format('OLD')} {refuse}",
            "CREATE TRIGGER invoice_lines_frozen_insert BEFORE INSERT ON invoice_lines "
            f"WHEN {issued.format('NEW')} {refuse}",
        ]
        for table in APPEND_ONLY:
            written = " WHEN OLD.entry_id IS NOT NULL" if table == "credit_notes" else ""
            statements += [f"CREATE TRIGGER {table}_append_only BEFORE UPDATE ON {table}"
                           f"{written} {refuse}",
                           f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
                           f"{refuse}"]
        return statements
    raise RuntimeError(f"no invoice guard for the {dialect} database")


def drop_statements(dialect: str) -> list[str]:
    """SQL that removes the triggers (for a downgrade)."""
    if dialect == "postgresql":
        tables = {"invoices_frozen_update": "invoices", "invoices_frozen_delete": "invoices",
                  "invoice_lines_frozen": "invoice_lines", "credit_notes_no_delete": "credit_notes",
                  **{f"{t}_append_only": t for t in APPEND_ONLY}}
        return [f"DROP TRIGGER IF EXISTS {name} ON {table}" for name, table in tables.items()
                ] + ["DROP FUNCTION IF EXISTS invoice_refuse_change()",
                     "DROP FUNCTION IF EXISTS invoice_line_refuse_change()"]
    names = ["invoices_frozen_update", "invoices_frozen_delete", "invoice_lines_frozen",
             "invoice_lines_frozen_delete", "invoice_lines_frozen_insert",
             *(f"{t}_append_only" for t in APPEND_ONLY), *(f"{t}_no_delete" for t in APPEND_ONLY)]
    return [f"DROP TRIGGER IF EXISTS {name}" for name in names]


def install_invoice_guards(execute: Callable[[str], object], dialect: str) -> None:
    """Run the guard statements through `execute` (alembic's op.execute)."""
    for statement in guard_statements(dialect):
        execute(statement)

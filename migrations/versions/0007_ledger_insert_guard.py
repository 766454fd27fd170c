"""ledger insert guard: on SQLite, an INSERT may not replace a journal entry or a posting

SQLite's REPLACE INTO (and INSERT OR REPLACE) resolves a conflict on a unique key by deleting
the row that is there, and it fires no delete trigger while doing so; an UPSERT (INSERT ...
ON CONFLICT DO UPDATE) changes the row in place. Either way a ledger row could be rewritten
past the append-only triggers. This revision adds a BEFORE INSERT trigger to journal_entries
and postings that refuses an insert meeting an existing row on its id or another unique key
(collective.ledger.guards builds it).

PostgreSQL has no REPLACE, and INSERT ... ON CONFLICT DO UPDATE and MERGE fire the update and
delete triggers already installed, so there is nothing to add there
(tests/ledger/test_append_only.py proves both).

Revision ID: 0007_ledger_insert_guard
Revises: 0006_enum_checks
Create Date: 2026-11-26 14:00:00
"""
from alembic import op

from collective.ledger.guards import APPEND_ONLY_TABLES, install_append_only_guards

# revision identifiers, used by Alembic.
revision = "0007_ledger_insert_guard"
down_revision = "0006_enum_checks"
branch_labels = None
depends_on = None


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade():
    if _is_sqlite():
        # Drops and creates every guard, the existing ones unchanged.
        install_append_only_guards(op.execute, "sqlite")


def downgrade():
    if _is_sqlite():
        for table in APPEND_ONLY_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_overwrite")

"""Migration 0023 adds the invoice tables and three invoicing columns to clients: every
existing client keeps its row, with empty invoicing details, and the issued-invoice guards
are installed. Downgrade takes them away again and keeps the clients."""
from __future__ import annotations

import flask_migrate
import pytest
import sqlalchemy as sa

from collective.extensions import db
from tests.migrations_at import rows_at

BEFORE = "0022_member_receivables"
ROWS = [
    "INSERT INTO collectives (id, name, slug, base_currency, timezone, created_at) VALUES "
    "(1, 'One', 'one', 'USD', 'UTC', '2026-09-01 00:00:00')",
    "INSERT INTO clients (id, collective_id, name, country, contact, notes, created_at) "
    "VALUES (1, 1, 'Harbour Dental', 'AU', 'ap@harbour.test', '', '2026-09-01 00:00:00')",
]


def test_upgrade_keeps_clients_and_adds_empty_invoicing_details(scratch_app):
    with scratch_app.app_context():
        rows_at(BEFORE, ROWS)
        flask_migrate.upgrade(revision="0023_invoices")
        with db.engine.connect() as conn:
            assert [tuple(r) for r in conn.execute(sa.text(
                "SELECT id, name, contact, billing_address, billing_email, tax_id "
                "FROM clients"))] == [(1, "Harbour Dental", "ap@harbour.test", "", "", "")]
            tables = set(sa.inspect(conn).get_table_names())
            assert {"invoices", "invoice_lines", "credit_notes", "tax_rates",
                    "invoice_number_counters", "invoice_movements"} <= tables
        flask_migrate.downgrade(revision=BEFORE)
        with db.engine.connect() as conn:
            columns = {c["name"] for c in sa.inspect(conn).get_columns("clients")}
            assert "billing_email" not in columns
            assert "invoices" not in set(sa.inspect(conn).get_table_names())
            assert conn.scalar(sa.text("SELECT name FROM clients")) == "Harbour Dental"
            with pytest.raises(sa.exc.DatabaseError):
                conn.execute(sa.text("SELECT 1 FROM invoices"))
            conn.rollback()

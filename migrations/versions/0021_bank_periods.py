"""bank statements and reconciliation, closed periods (issue 12, part 3)

New tables, all empty; no existing row changes:
- bank_accounts: the collective's bank accounts, each tied to a ledger asset account and a
  currency (one bank account per ledger account and currency), with its saved CSV mapping;
- bank_statements: each imported file, with the period and balances it states;
- bank_lines: statement lines, unique by line_key (a hash of account, date, amount, reference
  and occurrence), each matched to at most one journal entry (entry_id unique) or explained;
- bank_fee_rules: description text -> expense account;
- closed_periods: closed months; period_events: closes, reopenings (with a reason) and
  year-end closes.

journal_entries gets a BEFORE INSERT trigger (collective.ledger.guards) refusing an entry dated
inside a closed period, except the year-end closing entry. The table is not rebuilt, so the
append-only triggers stay; a later SQLite batch rebuild of journal_entries must call
install_ledger_guards, which installs both.

Revision ID: 0021_bank_periods
Revises: 0020_expenses
Create Date: 2026-11-26 19:00:00
"""
import sqlalchemy as sa
from alembic import op

from collective.ledger.guards import drop_period_guard_statements, period_guard_statements

# revision identifiers, used by Alembic.
revision = "0021_bank_periods"
down_revision = "0020_expenses"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"],
                                   name=op.f(f"fk_{table}_{column}_{target}"))


def upgrade():
    op.create_table(
        "bank_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("collective_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("ledger_account_id", sa.Integer(), nullable=False),
        sa.Column("csv_mapping", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("bank_accounts", "collective_id", "collectives"),
        _fk("bank_accounts", "ledger_account_id", "accounts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_accounts")),
        sa.UniqueConstraint("collective_id", "name",
                            name=op.f("uq_bank_accounts_collective_id_name")),
        sa.UniqueConstraint("ledger_account_id", "currency",
                            name=op.f("uq_bank_accounts_ledger_account_id_currency")),
    )
    op.create_index(op.f("ix_bank_accounts_collective_id"), "bank_accounts", ["collective_id"])
    op.create_table(
        "bank_statements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("collective_id", sa.Integer(), nullable=False),
        sa.Column("bank_account_id", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("opening_balance", sa.BigInteger(), nullable=True),
        sa.Column("closing_balance", sa.BigInteger(), nullable=True),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("new_count", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("format IN ('csv', 'ofx', 'camt053')",
                           name=op.f("ck_bank_statements_format_known")),
        _fk("bank_statements", "collective_id", "collectives"),
        _fk("bank_statements", "bank_account_id", "bank_accounts"),
        _fk("bank_statements", "imported_by_id", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_statements")),
    )
    op.create_index(op.f("ix_bank_statements_collective_id"), "bank_statements",
                    ["collective_id"])
    op.create_index(op.f("ix_bank_statements_bank_account_id"), "bank_statements",
                    ["bank_account_id"])
    op.create_table(
        "bank_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("collective_id", sa.Integer(), nullable=False),
        sa.Column("bank_account_id", sa.Integer(), nullable=False),
        sa.Column("statement_id", sa.Integer(), nullable=False),
        sa.Column("booked_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=False),
        sa.Column("line_key", sa.String(length=64), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("explanation", sa.String(length=500), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("amount <> 0", name=op.f("ck_bank_lines_amount_not_zero")),
        _fk("bank_lines", "collective_id", "collectives"),
        _fk("bank_lines", "bank_account_id", "bank_accounts"),
        _fk("bank_lines", "statement_id", "bank_statements"),
        _fk("bank_lines", "entry_id", "journal_entries"),
        _fk("bank_lines", "resolved_by_id", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_lines")),
        sa.UniqueConstraint("line_key", name=op.f("uq_bank_lines_line_key")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_bank_lines_entry_id")),
    )
    op.create_index(op.f("ix_bank_lines_collective_id"), "bank_lines", ["collective_id"])
    op.create_index(op.f("ix_bank_lines_statement_id"), "bank_lines", ["statement_id"])
    op.create_index("ix_bank_lines_account_day", "bank_lines", ["bank_account_id", "booked_on"])
    op.create_table(
        "bank_fee_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("collective_id", sa.Integer(), nullable=False),
        sa.Column("pattern", sa.String(length=100), nullable=False),
        sa.Column("expense_account_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("bank_fee_rules", "collective_id", "collectives"),
        _fk("bank_fee_rules", "expense_account_id", "accounts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_fee_rules")),
        sa.UniqueConstraint("collective_id", "pattern",
                            name=op.f("uq_bank_fee_rules_collective_id_pattern")),
    )
    op.create_index(op.f("ix_bank_fee_rules_collective_id"), "bank_fee_rules",
                    ["collective_id"])
    op.create_table(
        "closed_periods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("collective_id", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("ends_on >= starts_on",
                           name=op.f("ck_closed_periods_ends_after_start")),
        _fk("closed_periods", "collective_id", "collectives"),
        _fk("closed_periods", "closed_by_id", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_closed_periods")),
        sa.UniqueConstraint("collective_id", "starts_on",
                            name=op.f("uq_closed_periods_collective_id_starts_on")),
    )
    op.create_table(
        "period_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("collective_id", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("is_forced", sa.Boolean(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("action IN ('closed', 'reopened', 'year-closed')",
                           name=op.f("ck_period_events_action_known")),
        _fk("period_events", "collective_id", "collectives"),
        _fk("period_events", "user_id", "users"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_period_events")),
    )
    op.create_index(op.f("ix_period_events_collective_id"), "period_events", ["collective_id"])
    for statement in period_guard_statements(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade():
    for statement in drop_period_guard_statements(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_index(op.f("ix_period_events_collective_id"), table_name="period_events")
    op.drop_table("period_events")
    op.drop_table("closed_periods")
    op.drop_index(op.f("ix_bank_fee_rules_collective_id"), table_name="bank_fee_rules")
    op.drop_table("bank_fee_rules")
    op.drop_index("ix_bank_lines_account_day", table_name="bank_lines")
    op.drop_index(op.f("ix_bank_lines_statement_id"), table_name="bank_lines")
    op.drop_index(op.f("ix_bank_lines_collective_id"), table_name="bank_lines")
    op.drop_table("bank_lines")
    op.drop_index(op.f("ix_bank_statements_bank_account_id"), table_name="bank_statements")
    op.drop_index(op.f("ix_bank_statements_collective_id"), table_name="bank_statements")
    op.drop_table("bank_statements")
    op.drop_index(op.f("ix_bank_accounts_collective_id"), table_name="bank_accounts")
    op.drop_table("bank_accounts")

"""expenses with receipts (issue 12, part 2)

accounts: every collective gets 5400 "Software and subscriptions", 5500 "Travel",
5600 "Equipment" and 5700 "Bank fees" (expenses). No posting moves.

expense_categories: each collective's categories, each booked to one expense account; every
existing collective gets the default set (Software and subscriptions, Travel, Equipment,
Bank fees -> their new accounts; Other -> 5000 Other expenses), as new ones do.

expenses: money spent for a collective: a member's, to be paid back once a treasurer
approves it, or one the collective paid from its bank (kind). Amount as on the receipt, the
rate and the amount in the base currency that is booked, the decision, and the journal
entry ('expense:<id>'). receipts: the files proving each, kept in the receipt storage under
random keys.

Revision ID: 0020_expenses
Revises: 0019_payment_split_amount
Create Date: 2026-11-26 18:30:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0020_expenses"
down_revision = "0019_payment_split_amount"
branch_labels = None
depends_on = None

NEW_ACCOUNTS = (
    ("5400", "Software and subscriptions"),
    ("5500", "Travel"),
    ("5600", "Equipment"),
    ("5700", "Bank fees"),
)
DEFAULT_CATEGORIES = (
    ("Software and subscriptions", "5400"),
    ("Travel", "5500"),
    ("Equipment", "5600"),
    ("Bank fees", "5700"),
    ("Other", "5000"),
)


def upgrade():
    op.create_table(
        "expense_categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("collective_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["collective_id"], ["collectives.id"],
                                name=op.f("fk_expense_categories_collective_id_collectives")),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"],
                                name=op.f("fk_expense_categories_account_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_expense_categories")),
        sa.UniqueConstraint("collective_id", "name",
                            name=op.f("uq_expense_categories_collective_id_name")),
    )
    op.create_index(op.f("ix_expense_categories_collective_id"), "expense_categories",
                    ["collective_id"])
    op.create_table(
        "expenses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("collective_id", sa.Integer(), nullable=False),
        sa.Column("membership_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("rate", sa.Numeric(precision=25, scale=10), nullable=False),
        sa.Column("base_amount", sa.BigInteger(), nullable=False),
        sa.Column("spent_on", sa.Date(), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.String(length=1000), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("request_key", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('member', 'direct')", name=op.f("ck_expenses_kind_known")),
        sa.CheckConstraint("status IN ('pending', 'approved', 'rejected')",
                           name=op.f("ck_expenses_status_known")),
        sa.CheckConstraint("amount > 0", name=op.f("ck_expenses_amount_positive")),
        sa.CheckConstraint("base_amount > 0", name=op.f("ck_expenses_base_amount_positive")),
        sa.CheckConstraint("length(currency) = 3", name=op.f("ck_expenses_currency_iso")),
        sa.ForeignKeyConstraint(["collective_id"], ["collectives.id"],
                                name=op.f("fk_expenses_collective_id_collectives")),
        sa.ForeignKeyConstraint(["membership_id"], ["memberships.id"],
                                name=op.f("fk_expenses_membership_id_memberships")),
        sa.ForeignKeyConstraint(["category_id"], ["expense_categories.id"],
                                name=op.f("fk_expenses_category_id_expense_categories")),
        sa.ForeignKeyConstraint(["decided_by_id"], ["memberships.id"],
                                name=op.f("fk_expenses_decided_by_id_memberships")),
        sa.ForeignKeyConstraint(["entry_id"], ["journal_entries.id"],
                                name=op.f("fk_expenses_entry_id_journal_entries")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_expenses")),
        sa.UniqueConstraint("collective_id", "request_key",
                            name=op.f("uq_expenses_collective_id_request_key")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_expenses_entry_id")),
    )
    op.create_index(op.f("ix_expenses_collective_id"), "expenses", ["collective_id"])
    op.create_index(op.f("ix_expenses_membership_id"), "expenses", ["membership_id"])
    op.create_index("ix_expenses_queue", "expenses", ["collective_id", "status"])
    op.create_table(
        "receipts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("expense_id", sa.Integer(), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["expense_id"], ["expenses.id"],
                                name=op.f("fk_receipts_expense_id_expenses")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipts")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_receipts_storage_key")),
    )
    op.create_index(op.f("ix_receipts_expense_id"), "receipts", ["expense_id"])

    for code, name in NEW_ACCOUNTS:
        op.execute(
            "INSERT INTO accounts (collective_id, code, name, type, created_at) "
            f"SELECT c.id, '{code}', '{name}', 'expense', CURRENT_TIMESTAMP FROM collectives c "
            f"WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.collective_id = c.id "
            f"AND a.code = '{code}')")
    for name, code in DEFAULT_CATEGORIES:
        op.execute(
            "INSERT INTO expense_categories (collective_id, name, account_id, is_active, "
            f"created_at) SELECT a.collective_id, '{name}', a.id, {_true()}, CURRENT_TIMESTAMP "
            f"FROM accounts a WHERE a.code = '{code}' AND a.membership_id IS NULL")


def _true() -> str:
    return "true" if op.get_bind().dialect.name == "postgresql" else "1"


def downgrade():
    op.drop_index(op.f("ix_receipts_expense_id"), table_name="receipts")
    op.drop_table("receipts")
    op.drop_index("ix_expenses_queue", table_name="expenses")
    op.drop_index(op.f("ix_expenses_membership_id"), table_name="expenses")
    op.drop_index(op.f("ix_expenses_collective_id"), table_name="expenses")
    op.drop_table("expenses")
    op.drop_index(op.f("ix_expense_categories_collective_id"), table_name="expense_categories")
    op.drop_table("expense_categories")
    codes = ", ".join(f"'{code}'" for code, _name in NEW_ACCOUNTS)
    op.execute(f"DELETE FROM accounts WHERE code IN ({codes}) AND membership_id IS NULL AND "
               "NOT EXISTS (SELECT 1 FROM postings p WHERE p.account_id = accounts.id)")

"""books: the accounts and entry kinds of complete books (issue 12)

accounts: every collective gets 2300 "Sales tax payable" (liability), 4900 "Exchange gains
and losses" (income), 5100 "Members' shares of client work", 5200 "Finder's fees" and 5300
"Bad debts" (expenses); 5000 "Expenses" is renamed "Other expenses". No posting moves.

journal_entries.kind: six more kinds: 'invoice', 'credit-note', 'write-off', 'expense',
'transfer' and 'closing'. PostgreSQL replaces the CHECK constraint in place, which never
touches a row, so the append-only triggers stay. SQLite rebuilds the table in batch mode
(migrations/env.py turns foreign keys off for it), which drops its triggers, so they are
installed again.

Revision ID: 0018_books_chart
Revises: 0017_notifications
Create Date: 2026-11-26 18:00:00
"""
from alembic import op

from collective.ledger.guards import install_append_only_guards

# revision identifiers, used by Alembic.
revision = "0018_books_chart"
down_revision = "0017_notifications"
branch_labels = None
depends_on = None

OLD_KINDS = ("opening", "payment", "payout", "deposit", "contribution",
             "contribution-return", "benefit", "reversal")
NEW_KINDS = OLD_KINDS + ("invoice", "credit-note", "write-off", "expense", "transfer",
                         "closing")
NEW_ACCOUNTS = (
    ("2300", "Sales tax payable", "liability"),
    ("4900", "Exchange gains and losses", "income"),
    ("5100", "Members'' shares of client work", "expense"),
    ("5200", "Finder''s fees", "expense"),
    ("5300", "Bad debts", "expense"),
)


def _kinds(values: tuple[str, ...]) -> None:
    condition = f"kind IN ({', '.join(repr(v) for v in values)})"
    with op.batch_alter_table("journal_entries") as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_journal_entries_kind_known"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_journal_entries_kind_known"),
                                         condition)
    if op.get_bind().dialect.name == "sqlite":
        install_append_only_guards(op.execute, "sqlite")


def upgrade():
    _kinds(NEW_KINDS)
    for code, name, kind in NEW_ACCOUNTS:
        op.execute(
            "INSERT INTO accounts (collective_id, code, name, type, created_at) "
            f"SELECT c.id, '{code}', '{name}', '{kind}', CURRENT_TIMESTAMP FROM collectives c "
            f"WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.collective_id = c.id "
            f"AND a.code = '{code}')")
    op.execute("UPDATE accounts SET name = 'Other expenses' WHERE code = '5000' "
               "AND membership_id IS NULL")


def downgrade():
    codes = ", ".join(f"'{code}'" for code, _name, _kind in NEW_ACCOUNTS)
    op.execute(f"DELETE FROM accounts WHERE code IN ({codes}) AND membership_id IS NULL AND "
               "NOT EXISTS (SELECT 1 FROM postings p WHERE p.account_id = accounts.id)")
    op.execute("UPDATE accounts SET name = 'Expenses' WHERE code = '5000' "
               "AND membership_id IS NULL")
    _kinds(OLD_KINDS)

"""earnings window indexes: what members earned in a window, read through indexes (issue 13)

The allocation suggestions sum each member's earnings over the last 90 days. Entries are
found by collective and date (a new index on both), and their lines by entry: the index on
postings' entry now also holds the account and the amount, so the lines are read from the
index alone (PostgreSQL's index-only scan, SQLite's covering index). It replaces the index
on entry_id alone, whose every use it serves. Indexes only; no data changes.

Revision ID: 0027_earnings_window_indexes
Revises: 0026_balance_snapshots
Create Date: 2026-11-26 21:20:00
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0027_earnings_window_indexes'
down_revision = '0026_balance_snapshots'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_postings_entry_id_account_id_amount', 'postings',
                    ['entry_id', 'account_id', 'amount'])
    op.drop_index('ix_postings_entry_id', table_name='postings')
    op.create_index('ix_journal_entries_collective_id_occurred_on', 'journal_entries',
                    ['collective_id', 'occurred_on'])


def downgrade():
    op.drop_index('ix_journal_entries_collective_id_occurred_on', table_name='journal_entries')
    op.create_index('ix_postings_entry_id', 'postings', ['entry_id'])
    op.drop_index('ix_postings_entry_id_account_id_amount', table_name='postings')

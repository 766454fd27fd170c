"""posting balance index: balances per account and currency read from an index (issue 13)

The treasurer's dashboard and the trial balance sum postings per account and currency over
the whole history. An index on (account_id, currency, amount) holds everything such a sum
reads, so PostgreSQL answers it with an index-only scan instead of reading a million
posting rows from the table. An index only; nothing else changes.

Revision ID: 0025_posting_balance_index
Revises: 0024_fund_run_failures
Create Date: 2026-11-26 21:10:00
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0025_posting_balance_index'
down_revision = '0024_fund_run_failures'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_postings_account_currency_amount', 'postings',
                    ['account_id', 'currency', 'amount'], unique=False)


def downgrade():
    op.drop_index('ix_postings_account_currency_amount', table_name='postings')

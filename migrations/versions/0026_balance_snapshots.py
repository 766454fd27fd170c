"""balance snapshots: each account's balance through a posting id, so a month's run reads
the postings since the last snapshot instead of the whole history (issue 13)

A snapshot is derived from the append-only postings (every posting with an id up to its
watermark), never edited; a newer one replaces the older ones. A new table only; nothing
else changes.

Revision ID: 0026_balance_snapshots
Revises: 0025_posting_balance_index
Create Date: 2026-11-26 21:15:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0026_balance_snapshots'
down_revision = '0025_posting_balance_index'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('balance_snapshots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('through_posting_id', sa.BigInteger(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('balance', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_balance_snapshots_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_balance_snapshots')),
    sa.UniqueConstraint('through_posting_id', 'account_id', 'currency', name=op.f('uq_balance_snapshots_through_posting_id_account_id_currency'))
    )


def downgrade():
    op.drop_table('balance_snapshots')

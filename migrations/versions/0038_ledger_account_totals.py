"""ledger_account_totals: each account's debits, credits and postings per currency (issue 13)

The balance reads (the trial balance, the balance sheet, the members' payables on the
payouts page) need no kinds: a row per account and currency, not one per account, currency
and kind, halves what they aggregate at 10,000 members. Derived like the other totals:
filled here from ledger_kind_totals (the same postings, up to the same watermark), then
brought forward by the snapshot round (collective.ledger.totals).

Revision ID: 0038_ledger_account_totals
Revises: 0037_member_hire_requests
Create Date: 2026-11-27 06:20:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0038_ledger_account_totals'
down_revision = '0037_member_hire_requests'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'ledger_account_totals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('collective_id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('debits', sa.BigInteger(), nullable=False),
        sa.Column('credits', sa.BigInteger(), nullable=False),
        sa.Column('postings', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'],
                                name=op.f('fk_ledger_account_totals_account_id_accounts')),
        sa.ForeignKeyConstraint(['collective_id'], ['collectives.id'],
                                name=op.f('fk_ledger_account_totals_collective_id_collectives')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_account_totals')),
        sa.UniqueConstraint('account_id', 'currency', name='uq_ledger_account_totals_key'))
    op.create_index('ix_ledger_account_totals_collective_id', 'ledger_account_totals',
                    ['collective_id'], unique=False)
    op.execute(
        "INSERT INTO ledger_account_totals (collective_id, account_id, currency, debits, "
        "credits, postings) SELECT collective_id, account_id, currency, sum(debits), "
        "sum(credits), sum(postings) FROM ledger_kind_totals "
        "GROUP BY collective_id, account_id, currency")


def downgrade():
    op.drop_index('ix_ledger_account_totals_collective_id', table_name='ledger_account_totals')
    op.drop_table('ledger_account_totals')

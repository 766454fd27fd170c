"""ledger totals: ledger_month_totals and ledger_kind_totals (issue 13)

Each account's debits, credits and postings per currency, entry kind and effective kind (a
reversal counts as what it reverses), by month of the entries' date and over all months,
through the balance snapshot's watermark (collective.ledger.totals). Derived from the
postings: filled here from the postings up to the latest snapshot's watermark, then brought
forward by the snapshot round. And an index on run_lines.kind: what the fund still owes
claimants reads the few benefit and make-up lines among every contribution and gift.

Revision ID: 0031_ledger_month_totals
Revises: 0030_api_tokens
Create Date: 2026-11-27 00:40:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0031_ledger_month_totals'
down_revision = '0030_api_tokens'
branch_labels = None
depends_on = None


def _columns(table):
    return [
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('collective_id', sa.Integer(), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('effective_kind', sa.String(length=40), nullable=False),
        sa.Column('debits', sa.BigInteger(), nullable=False),
        sa.Column('credits', sa.BigInteger(), nullable=False),
        sa.Column('postings', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'],
                                name=op.f(f'fk_{table}_account_id_accounts')),
        sa.ForeignKeyConstraint(['collective_id'], ['collectives.id'],
                                name=op.f(f'fk_{table}_collective_id_collectives')),
        sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{table}')),
    ]


def _fill(table, month):
    sums = ("sum(CASE WHEN p.amount > 0 THEN p.amount ELSE 0 END), "
            "sum(CASE WHEN p.amount < 0 THEN -p.amount ELSE 0 END), count(*)")
    keys = "e.collective_id, p.account_id, p.currency, " + (f"{month}, " if month else "") + \
        "e.kind, coalesce(o.kind, e.kind)"
    names = "collective_id, account_id, currency, " + ("month, " if month else "") + \
        "kind, effective_kind, debits, credits, postings"
    op.execute(
        f"INSERT INTO {table} ({names}) SELECT {keys}, {sums} FROM postings p "
        "JOIN journal_entries e ON e.id = p.entry_id "
        "LEFT OUTER JOIN journal_entries o ON o.id = e.reverses_id "
        "WHERE p.id <= (SELECT coalesce(max(through_posting_id), 0) FROM balance_snapshots) "
        f"GROUP BY {keys}")


def upgrade():
    op.create_table(
        'ledger_month_totals', *_columns('ledger_month_totals'),
        sa.Column('month', sa.Date(), nullable=False),
        sa.UniqueConstraint('account_id', 'currency', 'month', 'kind', 'effective_kind',
                            name='uq_ledger_month_totals_key'))
    op.create_index('ix_ledger_month_totals_collective_month', 'ledger_month_totals',
                    ['collective_id', 'month'], unique=False)
    op.create_table(
        'ledger_kind_totals', *_columns('ledger_kind_totals'),
        sa.UniqueConstraint('account_id', 'currency', 'kind', 'effective_kind',
                            name='uq_ledger_kind_totals_key'))
    op.create_index('ix_ledger_kind_totals_collective_id', 'ledger_kind_totals',
                    ['collective_id'], unique=False)
    month = ("CAST(date_trunc('month', e.occurred_on) AS DATE)"
             if op.get_bind().dialect.name == "postgresql"
             else "date(e.occurred_on, 'start of month')")
    _fill('ledger_month_totals', month)
    _fill('ledger_kind_totals', None)
    op.create_index('ix_run_lines_kind', 'run_lines', ['kind'], unique=False)


def downgrade():
    op.drop_index('ix_run_lines_kind', table_name='run_lines')
    op.drop_table('ledger_kind_totals')
    op.drop_table('ledger_month_totals')

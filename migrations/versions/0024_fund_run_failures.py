"""fund run failures: the scheduler's last failed fund run of each collective (issue 13)

One row per collective: the run (kind, month) that failed, why, how many rounds in a row,
and when. The treasurer's page shows it until that run is done. A new table only; nothing
else changes.

Revision ID: 0024_fund_run_failures
Revises: 0023_invoices
Create Date: 2026-11-26 19:00:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0024_fund_run_failures'
down_revision = '0023_invoices'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('fund_run_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('collective_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('period', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('first_failed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_failed_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('contributions', 'payouts')", name=op.f('ck_fund_run_failures_kind_known')),
    sa.ForeignKeyConstraint(['collective_id'], ['collectives.id'], name=op.f('fk_fund_run_failures_collective_id_collectives')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fund_run_failures')),
    sa.UniqueConstraint('collective_id', name=op.f('uq_fund_run_failures_collective_id'))
    )


def downgrade():
    op.drop_table('fund_run_failures')

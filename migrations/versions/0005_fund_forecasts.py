"""fund forecasts: the scheduler stores each fund's forecast; the page reads it

Revision ID: 0005_fund_forecasts
Revises: 0004
Create Date: 2026-11-27 09:00:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0005_fund_forecasts'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('fund_forecasts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('collective_id', sa.Integer(), nullable=False),
    sa.Column('for_period', sa.Date(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=True),
    sa.Column('fund_amount', sa.BigInteger(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('assumptions', sa.JSON(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['collective_id'], ['collectives.id'], name=op.f('fk_fund_forecasts_collective_id_collectives')),
    sa.ForeignKeyConstraint(['plan_id'], ['benefit_plans.id'], name=op.f('fk_fund_forecasts_plan_id_benefit_plans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fund_forecasts')),
    sa.UniqueConstraint('collective_id', name=op.f('uq_fund_forecasts_collective_id'))
    )


def downgrade():
    op.drop_table('fund_forecasts')

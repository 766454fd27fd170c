"""one person, many collectives: a person's weekly capacity, display currency and privacy
of their other work; reference exchange rates (issue 15)

users.weekly_capacity_hours is the person's whole week across their collectives; each
membership's capacity stays what they offer that collective. Existing people get the
largest capacity of their memberships that are not removed (none: left unset).

Revision ID: 0036_one_person_many_collectives
Revises: 0035_skill_evidence
Create Date: 2026-11-27 03:00:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0036_one_person_many_collectives'
down_revision = '0035_skill_evidence'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('weekly_capacity_hours', sa.SmallInteger(),
                                      nullable=True))
        batch_op.add_column(sa.Column('display_currency', sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column('is_other_work_private', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.create_check_constraint(batch_op.f('ck_users_person_capacity_range'),
                                         'weekly_capacity_hours BETWEEN 0 AND 168')
    op.execute(
        "UPDATE users SET weekly_capacity_hours = (SELECT max(m.weekly_capacity_hours) "
        "FROM memberships m WHERE m.user_id = users.id AND m.status <> 'removed') "
        "WHERE EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = users.id "
        "AND m.status <> 'removed')")
    op.create_table(
        'exchange_rates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('base', sa.String(length=3), nullable=False),
        sa.Column('quote', sa.String(length=3), nullable=False),
        sa.Column('rate_text', sa.String(length=40), nullable=False),
        sa.Column('as_of', sa.Date(), nullable=False),
        sa.Column('source', sa.String(length=120), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint('base <> quote', name=op.f('ck_exchange_rates_two_currencies')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_rates')),
        sa.UniqueConstraint('base', 'quote', 'as_of',
                            name=op.f('uq_exchange_rates_base_quote_as_of')),
    )


def downgrade():
    op.drop_table('exchange_rates')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_users_person_capacity_range'), type_='check')
        batch_op.drop_column('is_other_work_private')
        batch_op.drop_column('display_currency')
        batch_op.drop_column('weekly_capacity_hours')

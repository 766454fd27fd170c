"""learning and standards: learning modules, their attachments and completions; delivery
checklists, and deliveries with a snapshot of their items (issue 15)

Revision ID: 0034_learning_standards
Revises: 0033_federation
Create Date: 2026-11-27 03:30:00
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0034_learning_standards'
down_revision = '0033_federation'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('delivery_checklists',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('collective_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=80), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('is_active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['collective_id'], ['collectives.id'], name=op.f('fk_delivery_checklists_collective_id_collectives')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_checklists')),
    sa.UniqueConstraint('collective_id', 'kind', name=op.f('uq_delivery_checklists_collective_id_kind'))
    )
    with op.batch_alter_table('delivery_checklists', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_checklists_collective_id'), ['collective_id'], unique=False)

    op.create_table('delivery_checklist_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('checklist_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('is_second_member', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['checklist_id'], ['delivery_checklists.id'], name=op.f('fk_delivery_checklist_items_checklist_id_delivery_checklists')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_checklist_items'))
    )
    with op.batch_alter_table('delivery_checklist_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_checklist_items_checklist_id'), ['checklist_id'], unique=False)

    op.create_table('learning_modules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('collective_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('skill', sa.String(length=60), nullable=False),
    sa.Column('estimated_minutes', sa.Integer(), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('audience', sa.String(length=16), nullable=False),
    sa.CheckConstraint("audience IN ('collective', 'partners')", name=op.f('ck_learning_modules_audience_known')),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('estimated_minutes BETWEEN 1 AND 600', name=op.f('ck_learning_modules_minutes_range')),
    sa.ForeignKeyConstraint(['author_id'], ['memberships.id'], name=op.f('fk_learning_modules_author_id_memberships')),
    sa.ForeignKeyConstraint(['collective_id'], ['collectives.id'], name=op.f('fk_learning_modules_collective_id_collectives')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_learning_modules'))
    )
    with op.batch_alter_table('learning_modules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_learning_modules_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_learning_modules_collective_id'), ['collective_id'], unique=False)
        batch_op.create_index('ix_learning_modules_collective_skill', ['collective_id', 'skill'], unique=False)

    op.create_table('deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('collective_id', sa.Integer(), nullable=False),
    sa.Column('pitch_id', sa.Integer(), nullable=False),
    sa.Column('checklist_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=80), nullable=False),
    sa.Column('checklist_version', sa.Integer(), nullable=False),
    sa.Column('delivered_by_id', sa.Integer(), nullable=False),
    sa.Column('delivered_on', sa.Date(), nullable=False),
    sa.Column('quarter', sa.String(length=7), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('met_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['checklist_id'], ['delivery_checklists.id'], name=op.f('fk_deliveries_checklist_id_delivery_checklists')),
    sa.ForeignKeyConstraint(['collective_id'], ['collectives.id'], name=op.f('fk_deliveries_collective_id_collectives')),
    sa.ForeignKeyConstraint(['delivered_by_id'], ['memberships.id'], name=op.f('fk_deliveries_delivered_by_id_memberships')),
    sa.ForeignKeyConstraint(['pitch_id'], ['pitches.id'], name=op.f('fk_deliveries_pitch_id_pitches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deliveries')),
    sa.UniqueConstraint('pitch_id', name=op.f('uq_deliveries_pitch_id'))
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deliveries_checklist_id'), ['checklist_id'], unique=False)
        batch_op.create_index('ix_deliveries_collective_quarter', ['collective_id', 'quarter'], unique=False)

    op.create_table('learning_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.String(length=200), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['module_id'], ['learning_modules.id'], name=op.f('fk_learning_attachments_module_id_learning_modules')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_learning_attachments')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_learning_attachments_storage_key'))
    )
    with op.batch_alter_table('learning_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_learning_attachments_module_id'), ['module_id'], unique=False)

    op.create_table('learning_completions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('module_id', sa.Integer(), nullable=False),
    sa.Column('membership_id', sa.Integer(), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('rating', sa.SmallInteger(), nullable=True),
    sa.Column('comment', sa.String(length=1000), nullable=False),
    sa.Column('rated_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('rating IS NULL OR rating BETWEEN 1 AND 5', name=op.f('ck_learning_completions_rating_range')),
    sa.ForeignKeyConstraint(['membership_id'], ['memberships.id'], name=op.f('fk_learning_completions_membership_id_memberships')),
    sa.ForeignKeyConstraint(['module_id'], ['learning_modules.id'], name=op.f('fk_learning_completions_module_id_learning_modules')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_learning_completions')),
    sa.UniqueConstraint('module_id', 'membership_id', name=op.f('uq_learning_completions_module_id_membership_id'))
    )
    with op.batch_alter_table('learning_completions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_learning_completions_membership_id'), ['membership_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_learning_completions_module_id'), ['module_id'], unique=False)

    op.create_table('delivery_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('delivery_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.SmallInteger(), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('is_second_member', sa.Boolean(), nullable=False),
    sa.Column('is_ticked', sa.Boolean(), nullable=False),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['memberships.id'], name=op.f('fk_delivery_items_confirmed_by_id_memberships')),
    sa.ForeignKeyConstraint(['delivery_id'], ['deliveries.id'], name=op.f('fk_delivery_items_delivery_id_deliveries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_items')),
    sa.UniqueConstraint('delivery_id', 'position', name=op.f('uq_delivery_items_delivery_id_position'))
    )
    with op.batch_alter_table('delivery_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_items_delivery_id'), ['delivery_id'], unique=False)



def downgrade():
    with op.batch_alter_table('delivery_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_items_delivery_id'))

    op.drop_table('delivery_items')
    with op.batch_alter_table('learning_completions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_learning_completions_module_id'))
        batch_op.drop_index(batch_op.f('ix_learning_completions_membership_id'))

    op.drop_table('learning_completions')
    with op.batch_alter_table('learning_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_learning_attachments_module_id'))

    op.drop_table('learning_attachments')
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_collective_quarter')
        batch_op.drop_index(batch_op.f('ix_deliveries_checklist_id'))

    op.drop_table('deliveries')
    with op.batch_alter_table('learning_modules', schema=None) as batch_op:
        batch_op.drop_index('ix_learning_modules_collective_skill')
        batch_op.drop_index(batch_op.f('ix_learning_modules_collective_id'))
        batch_op.drop_index(batch_op.f('ix_learning_modules_author_id'))

    op.drop_table('learning_modules')
    with op.batch_alter_table('delivery_checklist_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_checklist_items_checklist_id'))

    op.drop_table('delivery_checklist_items')
    with op.batch_alter_table('delivery_checklists', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_checklists_collective_id'))

    op.drop_table('delivery_checklists')

"""Skills proven by work (issue 15): skill credits, endorsements, public profiles, and the
client's "allow naming our work" flag

clients.is_naming_allowed: off for every existing client (their work is counted on
profiles as "for private clients" until a coordinator turns it on).
skill_credits: the minutes of delivered, paid work behind a member's skill, one row per
(membership, skill, pitch), unique, so crediting again changes nothing.
endorsements: one per (giver, receiver, skill, pitch), never self; withdrawn_at keeps it
in place when its giver takes it back.
public_profiles: a member's opt-in public page (off by default) and the skills it shows.

Revision ID: 0035_skill_evidence
Revises: 0034_learning_standards
Create Date: 2026-11-27 03:00:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0035_skill_evidence'
down_revision = '0034_learning_standards'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_naming_allowed', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    op.create_table('skill_credits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('collective_id', sa.Integer(), nullable=False),
    sa.Column('membership_id', sa.Integer(), nullable=False),
    sa.Column('pitch_id', sa.Integer(), nullable=False),
    sa.Column('skill', sa.String(length=60), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('credited_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('minutes > 0', name=op.f('ck_skill_credits_minutes_positive')),
    sa.ForeignKeyConstraint(['collective_id'], ['collectives.id'], name=op.f('fk_skill_credits_collective_id_collectives')),
    sa.ForeignKeyConstraint(['membership_id'], ['memberships.id'], name=op.f('fk_skill_credits_membership_id_memberships')),
    sa.ForeignKeyConstraint(['pitch_id'], ['pitches.id'], name=op.f('fk_skill_credits_pitch_id_pitches')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_skill_credits')),
    sa.UniqueConstraint('membership_id', 'skill', 'pitch_id', name=op.f('uq_skill_credits_membership_id_skill_pitch_id'))
    )
    op.create_index('ix_skill_credits_collective_id_skill', 'skill_credits', ['collective_id', 'skill', 'membership_id', 'minutes'], unique=False)
    op.create_index(op.f('ix_skill_credits_pitch_id'), 'skill_credits', ['pitch_id'], unique=False)
    op.create_table('endorsements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('collective_id', sa.Integer(), nullable=False),
    sa.Column('pitch_id', sa.Integer(), nullable=False),
    sa.Column('giver_id', sa.Integer(), nullable=False),
    sa.Column('receiver_id', sa.Integer(), nullable=False),
    sa.Column('skill', sa.String(length=60), nullable=False),
    sa.Column('note', sa.String(length=280), nullable=False),
    sa.Column('endorsed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('giver_id <> receiver_id', name=op.f('ck_endorsements_not_self')),
    sa.ForeignKeyConstraint(['collective_id'], ['collectives.id'], name=op.f('fk_endorsements_collective_id_collectives')),
    sa.ForeignKeyConstraint(['giver_id'], ['memberships.id'], name=op.f('fk_endorsements_giver_id_memberships')),
    sa.ForeignKeyConstraint(['pitch_id'], ['pitches.id'], name=op.f('fk_endorsements_pitch_id_pitches')),
    sa.ForeignKeyConstraint(['receiver_id'], ['memberships.id'], name=op.f('fk_endorsements_receiver_id_memberships')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_endorsements')),
    sa.UniqueConstraint('giver_id', 'receiver_id', 'skill', 'pitch_id', name=op.f('uq_endorsements_giver_id_receiver_id_skill_pitch_id'))
    )
    op.create_index(op.f('ix_endorsements_collective_id'), 'endorsements', ['collective_id'], unique=False)
    op.create_index(op.f('ix_endorsements_pitch_id'), 'endorsements', ['pitch_id'], unique=False)
    op.create_index(op.f('ix_endorsements_receiver_id'), 'endorsements', ['receiver_id'], unique=False)
    op.create_table('public_profiles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('membership_id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=32), nullable=True),
    sa.Column('is_published', sa.Boolean(), nullable=False),
    sa.Column('skills', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['membership_id'], ['memberships.id'], name=op.f('fk_public_profiles_membership_id_memberships')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_public_profiles')),
    sa.UniqueConstraint('membership_id', name=op.f('uq_public_profiles_membership_id')),
    sa.UniqueConstraint('slug', name=op.f('uq_public_profiles_slug'))
    )


def downgrade():
    op.drop_table('public_profiles')
    op.drop_table('endorsements')
    op.drop_table('skill_credits')
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_column('is_naming_allowed')

"""API tokens: personal access tokens and the idempotency keys of money writes (issue 14)

api_tokens: a user's named tokens, stored as the sha256 of the secret, optionally limited to
one collective and to reading, with an optional expiry, the last use and the revocation.
api_idempotency_keys: the first answer to a money write per (token, Idempotency-Key), kept
24 hours; the unique constraint is what makes two requests sent at once post once.

Revision ID: 0030_api_tokens
Revises: 0029_webhooks
Create Date: 2026-11-27 00:20:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0030_api_tokens'
down_revision = '0029_webhooks'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('collective_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('prefix', sa.String(length=12), nullable=False),
    sa.Column('is_read_only', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['collective_id'], ['collectives.id'], name=op.f('fk_api_tokens_collective_id_collectives')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    op.create_index(op.f('ix_api_tokens_user_id'), 'api_tokens', ['user_id'], unique=False)
    op.create_table('api_idempotency_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('response_body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['token_id'], ['api_tokens.id'], name=op.f('fk_api_idempotency_keys_token_id_api_tokens')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_idempotency_keys')),
    sa.UniqueConstraint('token_id', 'key', name=op.f('uq_api_idempotency_keys_token_id_key'))
    )
    op.create_index(op.f('ix_api_idempotency_keys_expires_at'), 'api_idempotency_keys', ['expires_at'], unique=False)


def downgrade():
    op.drop_table('api_idempotency_keys')
    op.drop_table('api_tokens')

"""audit log: the audit_events table, append-only like the ledger (issue 13)

One row per recorded event: when, in which collective (empty for account-level events), who
acted, the action code, the subject (type and id), small JSON details, the client's address
and user agent. The ledger's guards (collective.ledger.guards) are installed on it: UPDATE
and DELETE are refused on both databases, and on SQLite an INSERT that would replace a row.
On PostgreSQL the shared trigger function is replaced so its message names both the ledger
and the audit log.

Revision ID: 0028_audit_log
Revises: 0027_earnings_window_indexes
Create Date: 2026-11-26 21:00:00
"""
import sqlalchemy as sa
from alembic import op

from collective.ledger.guards import AUDIT_TABLES, install_append_only_guards

# revision identifiers, used by Alembic.
revision = '0028_audit_log'
down_revision = '0027_earnings_window_indexes'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('collective_id', sa.Integer(), nullable=True),
    sa.Column('actor_user_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('subject_type', sa.String(length=40), nullable=True),
    sa.Column('subject_id', sa.Integer(), nullable=True),
    sa.Column('details', sa.Text(), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('user_agent', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['actor_user_id'], ['users.id'], name=op.f('fk_audit_events_actor_user_id_users')),
    sa.ForeignKeyConstraint(['collective_id'], ['collectives.id'], name=op.f('fk_audit_events_collective_id_collectives')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    op.create_index('ix_audit_events_collective_time', 'audit_events', ['collective_id', 'occurred_at'], unique=False)
    op.create_index('ix_audit_events_subject', 'audit_events', ['subject_type', 'subject_id'], unique=False)
    op.create_index(op.f('ix_audit_events_action'), 'audit_events', ['action'], unique=False)
    op.create_index(op.f('ix_audit_events_actor_user_id'), 'audit_events', ['actor_user_id'], unique=False)
    install_append_only_guards(op.execute, op.get_bind().dialect.name, AUDIT_TABLES)


def downgrade():
    # Dropping the table drops its triggers; the PostgreSQL function stays for the ledger.
    op.drop_table('audit_events')

"""webhook secret rotation: the secret before the last rotation, and until when (issue 14)

A treasurer rotates an endpoint's signing secret: the new one is shown once, and for a day
deliveries are signed with both (Standard Webhooks allows several signatures), so the
receiver can switch without dropping any. Two nullable columns on webhook_endpoints.

Revision ID: 0032_webhook_secret_rotation
Revises: 0031_ledger_month_totals
Create Date: 2026-11-27 03:00:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0032_webhook_secret_rotation'
down_revision = '0031_ledger_month_totals'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('webhook_endpoints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('previous_secret', sa.String(length=100),
                                      nullable=True))
        batch_op.add_column(sa.Column('previous_secret_expires_at', sa.DateTime(timezone=True),
                                      nullable=True))


def downgrade():
    with op.batch_alter_table('webhook_endpoints', schema=None) as batch_op:
        batch_op.drop_column('previous_secret_expires_at')
        batch_op.drop_column('previous_secret')

"""split privacy: a collective may hide other members' lines of a payment's split

collectives.is_split_private: when set, a plain member who opens a client payment's split
page sees their own line (and the common fund's part and the totals) but not the other
members' names and shares; coordinators and treasurers always see every line. Every
existing collective starts with it off (everyone sees every line, as before).

PostgreSQL adds the column in place; SQLite's batch mode adds it with ALTER TABLE too (the
server default fills existing rows), so no table is rebuilt.

Revision ID: 0012_split_privacy
Revises: 0011_fund_reserves
Create Date: 2026-11-26 15:30:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012_split_privacy"
down_revision = "0011_fund_reserves"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("collectives") as batch_op:
        batch_op.add_column(sa.Column("is_split_private", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade():
    with op.batch_alter_table("collectives") as batch_op:
        batch_op.drop_column("is_split_private")

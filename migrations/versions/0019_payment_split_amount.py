"""client payments: the part of each payment split under the share rule

client_payments.split_amount: the part of base_amount split among the common fund, the
finder and the members. It is the whole payment (every existing row: split_amount =
base_amount), except for a payment of an invoice with tax, whose tax is not the members'.
The split page reads the common fund's part from it, now that the fund's part is no longer
a posting of its own (it stays as the surplus of income over the members' shares).

Revision ID: 0019_payment_split_amount
Revises: 0018_books_chart
Create Date: 2026-11-26 18:10:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0019_payment_split_amount"
down_revision = "0018_books_chart"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("client_payments") as batch_op:
        batch_op.add_column(sa.Column("split_amount", sa.BigInteger(), nullable=True))
    op.execute("UPDATE client_payments SET split_amount = base_amount")
    with op.batch_alter_table("client_payments") as batch_op:
        batch_op.alter_column("split_amount", existing_type=sa.BigInteger(), nullable=False)
        batch_op.create_check_constraint(
            batch_op.f("ck_client_payments_split_amount_range"),
            "split_amount > 0 AND split_amount <= base_amount")


def downgrade():
    with op.batch_alter_table("client_payments") as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_client_payments_split_amount_range"),
                                 type_="check")
        batch_op.drop_column("split_amount")

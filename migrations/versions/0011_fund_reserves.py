"""the fund as the members' money: reserves a liability, gift debts, shortfalls made up,
reserves returned on leaving

accounts: the benefits fund (3100, equity) becomes 2200 "Benefits fund: members' reserves", a
liability: a member's reserve is their own money, held for them. Every collective gets 1200
"Owed to the benefits fund by members" (an asset): the part of a gift a donor's reserve
could not cover. Only the accounts' code, name and type change; no posting is touched, so
balances and the ledger's append-only guards stay as they are.

run_lines.kind: four more kinds, 'debt' and 'debt-paid' (gift debts and their repayment),
'makeup' (a benefit's shortfall paid in a later month) and 'leaving' (a reserve given back).
PostgreSQL replaces the CHECK constraint in place; SQLite rebuilds the table in batch mode.
The partial unique index on (claim_id, for_period) is dropped first and made again after, so
the rebuild cannot lose its WHERE clause.

Revision ID: 0011_fund_reserves
Revises: 0010_claim_end
Create Date: 2026-11-26 16:00:00
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0011_fund_reserves"
down_revision = "0010_claim_end"
branch_labels = None
depends_on = None

OLD_KINDS = ("contribution", "owed", "settled", "return", "benefit", "gift")
NEW_KINDS = OLD_KINDS + ("debt", "debt-paid", "makeup", "leaving")
FUND_OWED = ("1200", "Owed to the benefits fund by members", "asset")


def _condition(values: tuple[str, ...]) -> str:
    return f"kind IN ({', '.join(repr(v) for v in values)})"


def _kinds(values: tuple[str, ...]) -> None:
    op.drop_index("uq_run_lines_claim_id_for_period", table_name="run_lines")
    with op.batch_alter_table("run_lines") as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_run_lines_kind_known"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_run_lines_kind_known"),
                                         _condition(values))
    op.create_index("uq_run_lines_claim_id_for_period", "run_lines", ["claim_id", "for_period"],
                    unique=True, postgresql_where=sa.text("kind = 'benefit'"),
                    sqlite_where=sa.text("kind = 'benefit'"))


def upgrade():
    _kinds(NEW_KINDS)
    op.execute("UPDATE accounts SET code = '2200', name = 'Benefits fund: members'' reserves', "
               "type = 'liability' WHERE code = '3100' AND membership_id IS NULL")
    code, name, kind = FUND_OWED
    if op.get_bind().dialect.name == "postgresql":
        # Rows given their ids by hand (a restore, say) leave the sequence behind them.
        op.execute("SELECT setval(pg_get_serial_sequence('accounts', 'id'), "
                   "(SELECT coalesce(max(id), 0) + 1 FROM accounts), false)")
    op.execute(
        "INSERT INTO accounts (collective_id, code, name, type, created_at) "
        f"SELECT c.id, '{code}', '{name}', '{kind}', CURRENT_TIMESTAMP FROM collectives c "
        f"WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.collective_id = c.id "
        f"AND a.code = '{code}')")


def downgrade():
    op.execute("DELETE FROM accounts WHERE code = '1200' AND membership_id IS NULL AND NOT "
               "EXISTS (SELECT 1 FROM postings p WHERE p.account_id = accounts.id)")
    op.execute("UPDATE accounts SET code = '3100', name = 'Benefits fund', type = 'equity' "
               "WHERE code = '2200' AND membership_id IS NULL")
    op.execute("DELETE FROM run_lines WHERE kind IN ('debt', 'debt-paid', 'makeup', 'leaving')")
    _kinds(OLD_KINDS)

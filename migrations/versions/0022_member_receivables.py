"""member receivables: what each member owes the benefits fund, in the ledger (issue 12)

accounts.owed_by_membership_id: set on a member's receivable in the fund (1210-<membership
id>), as accounts.membership_id is set on their payable. Every collective gets 2210
"Benefits fund: contributions due, not yet paid" (liability), the other side of the
contributions members owe.

What members owed before this revision is brought into the ledger per member, without
touching a posting (the ledger is append-only): for each collective, up to two entries of
kind 'transfer' dated the day of the upgrade,

- 'fund-receivables:gift-debts': each member's gift debt (run lines debt - debt-paid) from
  the aggregate receivable 1200 to their own receivable;
- 'fund-receivables:arrears': each member's contributions in arrears (run lines owed -
  settled), which lived only in run lines, onto their receivable against 2210.

Downgrade drops the column and the accounts no posting uses; the receivables that hold
postings stay as plain accounts (their entries cannot be taken back), so the old code would
no longer find the gift debts in 1200: downgrade only before any run of the new model.

Revision ID: 0022_member_receivables
Revises: 0021_bank_periods
Create Date: 2026-11-26 18:30:00
"""
from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0022_member_receivables"
down_revision = "0021_bank_periods"
branch_labels = None
depends_on = None

DUE = ("2210", "Benefits fund: contributions due, not yet paid", "liability")
OLD_RECEIVABLE = "1200"
NAME_LENGTH = 120

accounts = sa.table("accounts", sa.column("id", sa.Integer), sa.column("collective_id"),
                    sa.column("code"), sa.column("name"), sa.column("type"),
                    sa.column("owed_by_membership_id"), sa.column("created_at"))
entries = sa.table("journal_entries", sa.column("id", sa.Integer), sa.column("collective_id"),
                   sa.column("occurred_on"), sa.column("posted_at"), sa.column("kind"),
                   sa.column("memo"), sa.column("idempotency_key"))
postings = sa.table("postings", sa.column("entry_id"), sa.column("account_id"),
                    sa.column("amount"), sa.column("currency"))

#: Per collective and member: what the runs say they owe, (gifts, contributions).
OWED_SQL = sa.text("""
SELECT r.collective_id, l.membership_id,
       SUM(CASE l.kind WHEN 'debt' THEN l.amount WHEN 'debt-paid' THEN -l.amount ELSE 0 END),
       SUM(CASE l.kind WHEN 'owed' THEN l.amount WHEN 'settled' THEN -l.amount ELSE 0 END)
FROM run_lines l JOIN benefit_runs r ON r.id = l.run_id
WHERE l.kind IN ('debt', 'debt-paid', 'owed', 'settled')
GROUP BY r.collective_id, l.membership_id
ORDER BY r.collective_id, l.membership_id
""")


def upgrade():
    with op.batch_alter_table("accounts") as batch_op:
        batch_op.add_column(sa.Column("owed_by_membership_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_accounts_owed_by_membership_id_memberships"),
                                    "memberships", ["owed_by_membership_id"], ["id"])
        batch_op.create_unique_constraint(batch_op.f("uq_accounts_owed_by_membership_id"),
                                          ["owed_by_membership_id"])
    code, name, kind = DUE
    op.execute(
        "INSERT INTO accounts (collective_id, code, name, type, created_at) "
        f"SELECT c.id, '{code}', '{name}', '{kind}', CURRENT_TIMESTAMP FROM collectives c "
        f"WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.collective_id = c.id "
        f"AND a.code = '{code}')")
    conn = op.get_bind()
    owed: dict[int, list[tuple[int, int, int]]] = {}
    for collective_id, member, debt, arrears in conn.execute(OWED_SQL):
        if int(debt or 0) > 0 or int(arrears or 0) > 0:
            owed.setdefault(collective_id, []).append(
                (member, max(int(debt or 0), 0), max(int(arrears or 0), 0)))
    today = datetime.now(UTC).date()
    for collective_id, members in owed.items():
        _bring_in(conn, collective_id, members, today)


def _bring_in(conn: sa.Connection, collective_id: int, members: list[tuple[int, int, int]],
              today: date) -> None:
    """One collective's old debts and arrears onto its members' own receivables."""
    currency = conn.scalar(sa.text("SELECT base_currency FROM collectives WHERE id = :c"),
                           {"c": collective_id})
    codes = dict(conn.execute(sa.select(accounts.c.code, accounts.c.id).where(
        accounts.c.collective_id == collective_id,
        accounts.c.code.in_([OLD_RECEIVABLE, DUE[0]]))).all())
    receivable = _open_receivables(conn, collective_id, [m for m, _, _ in members])
    gifts = [(receivable[m], debt) for m, debt, _ in members if debt]
    if gifts:
        _post(conn, collective_id, today, currency, "fund-receivables:gift-debts",
              "Gift debts owed to the benefits fund moved to each member's receivable",
              [*gifts, (codes[OLD_RECEIVABLE], -sum(amount for _, amount in gifts))])
    arrears = [(receivable[m], owed) for m, _, owed in members if owed]
    if arrears:
        _post(conn, collective_id, today, currency, "fund-receivables:arrears",
              "Contributions in arrears brought onto each member's receivable",
              [*arrears, (codes[DUE[0]], -sum(amount for _, amount in arrears))])


def _open_receivables(conn: sa.Connection, collective_id: int, members: list[int]
                      ) -> dict[int, int]:
    """Each member's receivable account id, opened where missing."""
    names = dict(conn.execute(sa.text(
        "SELECT m.id, u.name FROM memberships m JOIN users u ON u.id = m.user_id "
        "WHERE m.collective_id = :c"), {"c": collective_id}).all())
    found = dict(conn.execute(sa.select(accounts.c.owed_by_membership_id, accounts.c.id).where(
        accounts.c.owed_by_membership_id.in_(members))).all())
    for member in members:
        if member not in found:
            conn.execute(accounts.insert().values(
                collective_id=collective_id, code=f"1210-{member}",
                name=f"Owed to the benefits fund by {names.get(member, member)}"[:NAME_LENGTH],
                type="asset", owed_by_membership_id=member, created_at=datetime.now(UTC)))
            found[member] = conn.scalar(sa.select(accounts.c.id).where(
                accounts.c.owed_by_membership_id == member))
    return found


def _post(conn: sa.Connection, collective_id: int, today: date, currency: str, key: str,
          memo: str, lines: list[tuple[int, int]]) -> None:
    """One transfer entry with its postings, once (the key is unique per collective)."""
    exists = sa.select(entries.c.id).where(entries.c.collective_id == collective_id,
                                           entries.c.idempotency_key == key)
    if conn.scalar(exists) is not None:
        return
    conn.execute(entries.insert().values(
        collective_id=collective_id, occurred_on=today, posted_at=datetime.now(UTC),
        kind="transfer", memo=memo, idempotency_key=key))
    entry_id = conn.scalar(exists)
    conn.execute(postings.insert(), [
        {"entry_id": entry_id, "account_id": account, "amount": amount, "currency": currency}
        for account, amount in lines])


def downgrade():
    op.execute("DELETE FROM accounts WHERE (code = '2210' OR owed_by_membership_id IS NOT NULL) "
               "AND membership_id IS NULL AND NOT EXISTS "
               "(SELECT 1 FROM postings p WHERE p.account_id = accounts.id)")
    with op.batch_alter_table("accounts") as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_accounts_owed_by_membership_id"),
                                 type_="unique")
        batch_op.drop_constraint(batch_op.f("fk_accounts_owed_by_membership_id_memberships"),
                                 type_="foreignkey")
        batch_op.drop_column("owed_by_membership_id")

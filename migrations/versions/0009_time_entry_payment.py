"""time entry payments: each time entry is used by at most one standing payment

A client payment split by hours used to count the hours worked since the pitch's previous
payment, by the day worked. Hours logged late for a day on or before that payment's date
fell outside every later window and were never paid. Now a payment uses the hours logged
and not yet used by an earlier payment, and records which: one row here per time entry it
used. A partial unique index allows one standing link per time entry (released_by_id IS
NULL); reversing the payment sets released_by_id, so the hours are used again by the next
payment and the released row stays as history. A new table, so no batch rebuild is needed.

Backfill, so that existing collectives are not paid twice: each time entry is linked to the
first standing payment (posted, not reversed; in order of the day received) whose split,
under the old rule, counted it. That is an entry that existed when the payment was recorded
(created_at), worked on after the pitch's previous standing payment and up to this one; or,
when no entry fell in that window, any entry up to this one that no earlier payment took (the
old rule's fallback to every hour logged). Entries that no old split counted, the hours
logged late, stay unlinked: they were never paid, and the next payment pays them.

Downgrade drops the table: the old rule needs no links.

Revision ID: 0009_time_entry_payment
Revises: 0007_ledger_insert_guard
Create Date: 2026-11-26 14:00:00
"""
from collections import defaultdict

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009_time_entry_payment"
down_revision = "0007_ledger_insert_guard"
branch_labels = None
depends_on = None

STANDING = ("client_payments.entry_id IS NOT NULL AND client_payments.entry_id NOT IN "
            "(SELECT reverses_id FROM journal_entries WHERE reverses_id IS NOT NULL)")


def upgrade():
    op.create_table(
        "time_entry_payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("time_entry_id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("released_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["time_entry_id"], ["time_entries.id"],
            name=op.f("fk_time_entry_payments_time_entry_id_time_entries")),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["client_payments.id"],
            name=op.f("fk_time_entry_payments_payment_id_client_payments")),
        sa.ForeignKeyConstraint(
            ["released_by_id"], ["journal_entries.id"],
            name=op.f("fk_time_entry_payments_released_by_id_journal_entries")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_time_entry_payments")),
        sa.UniqueConstraint("time_entry_id", "payment_id",
                            name=op.f("uq_time_entry_payments_time_entry_id_payment_id")),
    )
    op.create_index(op.f("ix_time_entry_payments_payment_id"), "time_entry_payments",
                    ["payment_id"], unique=False)
    op.create_index("ix_time_entry_payments_time_entry_id_standing", "time_entry_payments",
                    ["time_entry_id"], unique=True,
                    sqlite_where=sa.text("released_by_id IS NULL"),
                    postgresql_where=sa.text("released_by_id IS NULL"))
    _link_what_the_old_rule_paid(op.get_bind())


def _link_what_the_old_rule_paid(conn: sa.Connection) -> None:
    """Link each time entry to the first standing payment whose old split counted it."""
    payments = conn.execute(sa.text(
        "SELECT id, pitch_id, received_on FROM client_payments WHERE " + STANDING
        + " ORDER BY pitch_id, received_on, id")).all()
    # Every entry each payment could have seen: on its pitch, worked up to the day received,
    # and logged before the payment was recorded.
    seen: dict[int, list[tuple[int, object]]] = defaultdict(list)
    for payment_id, entry_id, worked_on in conn.execute(sa.text(
            "SELECT client_payments.id, time_entries.id, time_entries.worked_on "
            "FROM client_payments "
            "JOIN allocations ON allocations.pitch_id = client_payments.pitch_id "
            "JOIN time_entries ON time_entries.allocation_id = allocations.id "
            "WHERE time_entries.worked_on <= client_payments.received_on "
            "AND time_entries.created_at <= client_payments.created_at AND " + STANDING
            + " ORDER BY time_entries.id")):
        seen[payment_id].append((entry_id, worked_on))
    linked: set[int] = set()
    links: list[dict[str, int]] = []
    by_pitch: dict[int, list[tuple[int, object]]] = defaultdict(list)
    for payment_id, pitch_id, received_on in payments:
        by_pitch[pitch_id].append((payment_id, received_on))
    for pitch_payments in by_pitch.values():
        for n, (payment_id, received_on) in enumerate(pitch_payments):
            # The old window opened after the last payment received on an earlier day.
            previous = next((day for _, day in reversed(pitch_payments[:n])
                             if day < received_on), None)
            window = [e for e, worked_on in seen[payment_id]
                      if previous is None or worked_on > previous]
            counted = window or [e for e, _ in seen[payment_id]]
            for entry_id in counted:
                if entry_id not in linked:
                    linked.add(entry_id)
                    links.append({"entry_id": entry_id, "payment_id": payment_id})
    if links:
        conn.execute(sa.text(
            "INSERT INTO time_entry_payments (time_entry_id, payment_id, created_at) "
            "SELECT :entry_id, id, created_at FROM client_payments WHERE id = :payment_id"),
            links)


def downgrade():
    op.drop_index("ix_time_entry_payments_time_entry_id_standing",
                  table_name="time_entry_payments")
    op.drop_index(op.f("ix_time_entry_payments_payment_id"), table_name="time_entry_payments")
    op.drop_table("time_entry_payments")

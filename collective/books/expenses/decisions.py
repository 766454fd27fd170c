"""Deciding a member's expense: a treasurer other than the submitter approves it (booked at
once: the collective owes the member, and the next payout pays it) or rejects it with a
reason (nothing is booked). Flush, never commit; "today" and "now" come from the caller."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa

from collective.books.expenses import notices
from collective.books.expenses.models import Expense, ExpenseKind, ExpenseStatus
from collective.books.expenses.posting import post_expense
from collective.errors import Conflict, DomainError, NotFound
from collective.extensions import db
from collective.ledger.models import JournalEntry
from collective.members.models import Membership
from collective.members.services import require_role
from collective.pool.checks import TREASURER


def get_expense(collective_id: int, expense_id: int) -> Expense:
    """An expense of this collective, or NotFound."""
    expense = db.session.get(Expense, expense_id)
    if expense is None or expense.collective_id != collective_id:
        raise NotFound("no such expense in this collective")
    return expense


def may_decide(actor: Membership, expense: Expense) -> bool:
    """Whether `actor` may decide this expense now (what the page offers)."""
    return (expense.kind == ExpenseKind.MEMBER and expense.is_pending
            and actor.has_role(TREASURER) and expense.membership_id != actor.id
            and expense.collective_id == actor.collective_id)


def decide_expense(actor: Membership, expense: Expense, *, approve: bool, reason: str,
                   today: date, now: datetime) -> Expense:
    """Approve or reject a pending member expense; a rejection needs a reason.

    Approving an approved expense again returns it as it is (nothing more is booked);
    anything else on a decided expense is refused."""
    require_role(actor, TREASURER, action="decide expenses")
    if expense.collective_id != actor.collective_id:
        raise NotFound("no such expense in this collective")
    if expense.kind != ExpenseKind.MEMBER:
        raise DomainError("an expense the collective paid is booked as it is entered",
                          field="reason")
    if expense.membership_id == actor.id:
        raise DomainError("you cannot decide your own expense; another treasurer must",
                          field="reason")
    reason = " ".join((reason or "").split())[:1000]
    if expense.status == ExpenseStatus.APPROVED and approve:
        return expense
    if expense.status != ExpenseStatus.PENDING:
        raise Conflict(f"this expense is {expense.status} already", field="reason")
    if not approve and not reason:
        raise DomainError("say why it is rejected: the member reads it", field="reason")
    status = ExpenseStatus.APPROVED if approve else ExpenseStatus.REJECTED
    # A conditional UPDATE: of two treasurers deciding at once, exactly one wins.
    moved = db.session.execute(
        sa.update(Expense)
        .where(Expense.id == expense.id, Expense.status == ExpenseStatus.PENDING.value)
        .values(status=status.value, decided_by_id=actor.id, decided_at=now,
                decision_reason=reason)
        .execution_options(synchronize_session=False))
    db.session.expire(expense)
    if moved.rowcount != 1:
        raise Conflict("someone else decided this expense meanwhile; reload the page",
                       field="reason")
    if approve:
        entry = post_expense(expense, occurred_on=today, created_by_id=actor.user_id)
        expense.entry_id = entry.id
        db.session.flush()
    notices.expense_decided(expense, now)
    return expense


def undo_on_reversal(entry: JournalEntry, reversal: JournalEntry) -> None:
    """When an expense's entry is reversed (from the ledger's entry page), the expense no
    longer stands: it is marked rejected, naming the reversal. Safe to call again."""
    expense = db.session.scalar(sa.select(Expense).filter_by(entry_id=entry.id))
    if expense is None or expense.status == ExpenseStatus.REJECTED:
        return
    expense.status = ExpenseStatus.REJECTED
    expense.decision_reason = f"its booking was reversed (entry {reversal.id})"
    db.session.flush()

"""The read side of expenses for pages: a member's own, the treasurers' queue, one expense
and one receipt as its viewer may see them. Every list is bounded."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective.books.expenses.decisions import get_expense
from collective.books.expenses.models import Expense, ExpenseKind, ExpenseStatus, Receipt
from collective.errors import NotFound
from collective.extensions import db
from collective.members.models import Membership
from collective.pool.checks import TREASURER

#: The most expenses a list shows.
LIST_LIMIT = 200


def _listed(query: sa.Select, limit: int = LIST_LIMIT) -> list[Expense]:
    return list(db.session.scalars(
        query.options(so.joinedload(Expense.membership).joinedload(Membership.user),
                      so.joinedload(Expense.category),
                      so.selectinload(Expense.receipts))
        .order_by(Expense.created_at.desc(), Expense.id.desc()).limit(limit)).unique())


def expenses_of(membership: Membership) -> list[Expense]:
    """The member's own expenses, newest first."""
    return _listed(sa.select(Expense).where(Expense.collective_id == membership.collective_id,
                                            Expense.membership_id == membership.id,
                                            Expense.kind == ExpenseKind.MEMBER.value))


def waiting(collective_id: int) -> list[Expense]:
    """Members' expenses waiting for a treasurer, oldest first (the queue's order)."""
    return list(reversed(_listed(sa.select(Expense).where(
        Expense.collective_id == collective_id,
        Expense.status == ExpenseStatus.PENDING.value))))


def decided(collective_id: int, limit: int = 50) -> list[Expense]:
    """The latest decided and directly paid expenses, newest first."""
    return _listed(sa.select(Expense).where(Expense.collective_id == collective_id,
                                            Expense.status != ExpenseStatus.PENDING.value),
                   limit)


def may_see(viewer: Membership, expense: Expense) -> bool:
    """Receipts and expenses are for their submitter and the collective's treasurers."""
    return expense.collective_id == viewer.collective_id and (
        expense.membership_id == viewer.id or viewer.has_role(TREASURER))


def expense_for(viewer: Membership, expense_id: int) -> Expense:
    """The expense, if the viewer may see it; NotFound otherwise (even when it exists)."""
    expense = get_expense(viewer.collective_id, expense_id)
    if not may_see(viewer, expense):
        raise NotFound("no such expense in this collective")
    return expense


def receipt_for(viewer: Membership, expense_id: int, receipt_id: int) -> Receipt:
    """A receipt of an expense the viewer may see; NotFound otherwise."""
    expense = expense_for(viewer, expense_id)
    receipt = db.session.get(Receipt, receipt_id)
    if receipt is None or receipt.expense_id != expense.id:
        raise NotFound("no such receipt")
    return receipt

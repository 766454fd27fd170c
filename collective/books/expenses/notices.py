"""Telling people about expenses: one submitted (to the collective's treasurers other than
its submitter) and one decided (to the submitter alone, with the reason). Flush, never
commit."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective.books.expenses.models import Expense, ExpenseStatus
from collective.extensions import db
from collective.members.models import Membership, MembershipRole, MembershipStatus, Role
from collective.notifications.kinds import Kind
from collective.notifications.service import notify
from collective.notifications.wording import format_money, page


def _link(expense: Expense) -> str:
    return page("expenses.expense", slug=expense.membership.collective.slug,
                expense_id=expense.id)


def _what(expense: Expense) -> str:
    return (f"{format_money(expense.amount, expense.currency)} for "
            f"{expense.category.name.lower()}")


def _treasurers_but(collective_id: int, membership_id: int) -> list[Membership]:
    return list(db.session.scalars(
        sa.select(Membership).join(MembershipRole).options(so.joinedload(Membership.user))
        .where(Membership.collective_id == collective_id, Membership.id != membership_id,
               Membership.status != MembershipStatus.REMOVED.value,
               MembershipRole.role == Role.TREASURER.value).order_by(Membership.id)))


def expense_submitted(expense: Expense, now: datetime) -> None:
    """Tell each treasurer (other than the submitter) that an expense waits for them."""
    submitter = expense.membership
    for treasurer in _treasurers_but(expense.collective_id, expense.membership_id):
        notify(treasurer, kind=Kind.EXPENSE_SUBMITTED,
               event_key=f"expense-submitted:{expense.id}",
               title=f"{submitter.user.name} submitted an expense: {_what(expense)}",
               body=f"{expense.description} (spent on {expense.spent_on.isoformat()}). "
                    "It waits for a treasurer's decision.",
               link=_link(expense), now=now)


def expense_decided(expense: Expense, now: datetime) -> None:
    """Tell the submitter, and only them, how their expense was decided and why."""
    approved = expense.status == ExpenseStatus.APPROVED
    body = ("It is added to what the collective owes you; the next payout pays it."
            if approved else "Nothing was booked.")
    if expense.decision_reason:
        body = f"Reason: {expense.decision_reason}. {body}"
    notify(expense.membership, kind=Kind.EXPENSE_DECIDED,
           event_key=f"expense-decided:{expense.id}",
           title=f"Your expense was {'approved' if approved else 'rejected'}: "
                 f"{_what(expense)}",
           body=body, link=_link(expense), now=now)

"""The one journal entry of an expense: the category's expense account is debited; the
member's payable is credited (the collective owes them, and the next payout pays it) or,
for an expense the collective paid itself, the bank. In the base currency, keyed
'expense:<id>', so posting it again returns the same entry."""
from __future__ import annotations

from datetime import date

from collective.books.expenses.models import Expense, ExpenseKind
from collective.ledger import services as ledger
from collective.ledger.models import EntryKind, JournalEntry
from collective.money import format_plain


def expense_key(expense: Expense) -> str:
    """The idempotency key of the expense's entry."""
    return f"expense:{expense.id}"


def expense_memo(expense: Expense, base: str) -> str:
    """'Expense 7, Travel: train to the client (EUR 40.00 at 1.08)'."""
    memo = f"Expense {expense.id}, {expense.category.name}: {expense.description}"
    if expense.currency != base:
        memo += (f" ({expense.currency} {format_plain(expense.amount, expense.currency)} at "
                 f"{expense.rate.normalize()})")
    return memo[:500]


def post_expense(expense: Expense, *, occurred_on: date, created_by_id: int | None
                 ) -> JournalEntry:
    """Book an approved expense, once, on `occurred_on`: a member's on the day it was
    approved (when the collective takes on the debt), a direct one on the day paid."""
    collective = expense.membership.collective
    base = collective.base_currency
    if expense.kind == ExpenseKind.MEMBER:
        credit = ledger.member_account(expense.membership_id)
    else:
        credit = ledger.account_by_code(collective.id, ledger.BANK)
    return ledger.post_entry(
        collective.id, kind=EntryKind.EXPENSE, occurred_on=occurred_on,
        idempotency_key=expense_key(expense), memo=expense_memo(expense, base),
        lines=[ledger.Line(expense.category.account_id, expense.base_amount, base),
               ledger.Line(credit.id, -expense.base_amount, base)],
        created_by_id=created_by_id)

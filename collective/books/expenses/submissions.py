"""Entering expenses: a member submits one with its receipts, to be paid back once a
treasurer approves it; a treasurer enters one the collective paid from the bank, booked at
once. Everything is checked before anything is written, receipts included, so a refusal
leaves no row and no file. Flush, never commit; "today" and "now" come from the caller."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa

from collective.books.expenses import notices
from collective.books.expenses.categories import category_for_new_expense
from collective.books.expenses.models import (
    Expense,
    ExpenseCategory,
    ExpenseKind,
    ExpenseStatus,
    Receipt,
)
from collective.books.expenses.posting import post_expense
from collective.books.expenses.storage import ReceiptStorage, track_new_file
from collective.books.expenses.uploads import Upload, check_receipts
from collective.errors import Conflict, DomainError, NotFound
from collective.extensions import db
from collective.members.models import Membership, MembershipStatus
from collective.members.services import require_role
from collective.money import MAX_MINOR_UNITS, MoneyError, check_currency, minor_digits
from collective.pool.checks import TREASURER, check_date, is_whole
from collective.pool.compute import convert_to_base
from collective.pool.payments import checked_rate


def submit_expense(actor: Membership, *, category_id: int, amount: int, currency: str,
                   spent_on: date, description: str, receipts: Sequence[Upload],
                   storage: ReceiptStorage, today: date, now: datetime,
                   rate: Decimal | None = None, request_key: str | None = None) -> Expense:
    """A member submits an expense they paid, with its receipts; it waits for a treasurer
    other than them. The same form sent twice (`request_key`) returns the first expense."""
    if actor.status == MembershipStatus.REMOVED:
        raise NotFound("no such member")
    earlier = expense_for_request(actor, request_key)
    if earlier is not None:
        return earlier
    expense = _new_expense(actor, ExpenseKind.MEMBER, category_id=category_id, amount=amount,
                           currency=currency, rate=rate, spent_on=spent_on,
                           description=description, receipts=receipts, storage=storage,
                           today=today, request_key=request_key)
    notices.expense_submitted(expense, now)
    return expense


def record_direct_expense(actor: Membership, *, category_id: int, amount: int, currency: str,
                          spent_on: date, description: str, receipts: Sequence[Upload],
                          storage: ReceiptStorage, today: date, now: datetime,
                          rate: Decimal | None = None, request_key: str | None = None
                          ) -> Expense:
    """A treasurer enters an expense the collective paid from its bank (a subscription, a
    bank fee), with its receipt: booked at once against the bank, as one entry."""
    require_role(actor, TREASURER, action="enter expenses the collective paid")
    earlier = expense_for_request(actor, request_key)
    if earlier is not None:
        return earlier
    expense = _new_expense(actor, ExpenseKind.DIRECT, category_id=category_id, amount=amount,
                           currency=currency, rate=rate, spent_on=spent_on,
                           description=description, receipts=receipts, storage=storage,
                           today=today, request_key=request_key)
    expense.status = ExpenseStatus.APPROVED
    expense.decided_by_id, expense.decided_at = actor.id, now
    expense.decision_reason = "paid by the collective from its bank"
    expense.entry_id = post_expense(expense, occurred_on=expense.spent_on,
                                    created_by_id=actor.user_id).id
    db.session.flush()
    return expense


def expense_for_request(actor: Membership, request_key: str | None) -> Expense | None:
    """The expense a form with this key recorded already (for the same person), if any."""
    if not request_key:
        return None
    earlier = db.session.scalar(sa.select(Expense).filter_by(
        collective_id=actor.collective_id, request_key=request_key))
    if earlier is not None and earlier.membership_id != actor.id:
        raise Conflict("this form was already used; reload the page", field="request_key")
    return earlier


def _checked_amounts(actor: Membership, amount: int, currency: str, rate: Decimal | None
                     ) -> tuple[str, Decimal, int]:
    """(currency, rate, amount in the base currency), or a DomainError naming the field."""
    try:
        currency = check_currency(currency)
    except MoneyError as exc:
        raise DomainError(str(exc), field="currency") from exc
    if not is_whole(amount):
        raise DomainError("the amount must be more than zero", field="amount")
    if amount > MAX_MINOR_UNITS:
        raise DomainError("the amount is too large", field="amount")
    base = actor.collective.base_currency
    rate = checked_rate(rate, currency, base)
    base_amount = convert_to_base(amount, minor_digits(currency), rate, minor_digits(base))
    if base_amount <= 0:
        raise DomainError(f"that comes to nothing in {base}", field="amount")
    if base_amount > MAX_MINOR_UNITS:
        raise DomainError("the amount is too large", field="amount")
    return currency, rate, base_amount


def _new_expense(actor: Membership, kind: ExpenseKind, *, category_id: int, amount: int,
                 currency: str, rate: Decimal | None, spent_on: date, description: str,
                 receipts: Sequence[Upload], storage: ReceiptStorage, today: date,
                 request_key: str | None) -> Expense:
    """Check everything, then write the expense, its receipts' files and their rows."""
    category: ExpenseCategory = category_for_new_expense(actor.collective_id, category_id)
    currency, rate, base_amount = _checked_amounts(actor, amount, currency, rate)
    check_date(spent_on, today, "spent_on", "day spent")
    description = " ".join((description or "").split())
    if not description:
        raise DomainError("say what the money was spent on", field="description")
    if len(description) > 500:
        raise DomainError("the description is at most 500 characters", field="description")
    checked = check_receipts(receipts)
    expense = Expense(collective_id=actor.collective_id, membership_id=actor.id,
                      kind=kind, category_id=category.id, amount=amount, currency=currency,
                      rate=rate, base_amount=base_amount, spent_on=spent_on,
                      description=description, status=ExpenseStatus.PENDING,
                      request_key=request_key or None)
    try:
        with db.session.begin_nested():
            db.session.add(expense)
            db.session.flush()
    except sa.exc.IntegrityError:
        # The same form, sent twice at once: the other request recorded it.
        earlier = expense_for_request(actor, request_key)
        if earlier is None:
            raise
        return earlier
    for receipt in checked:
        key = storage.save(actor.collective_id, receipt.data)
        track_new_file(db.session, storage, key)
        db.session.add(Receipt(expense_id=expense.id, storage_key=key,
                               filename=receipt.filename, content_type=receipt.content_type,
                               size_bytes=receipt.size, sha256=receipt.sha256))
    db.session.flush()
    db.session.refresh(expense, ["receipts"])
    return expense

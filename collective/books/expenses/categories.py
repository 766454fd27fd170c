"""Expense categories: each collective's own list, each booked to one expense account. Every
collective starts with the default set (a founding step; migration 0019 for older ones)."""
from __future__ import annotations

import sqlalchemy as sa

from collective.books.expenses.models import ExpenseCategory
from collective.errors import Conflict, DomainError, NotFound
from collective.extensions import db
from collective.ledger import services as ledger
from collective.ledger.models import Account, AccountType
from collective.members.models import Collective, Membership
from collective.members.services import require_role
from collective.pool.checks import TREASURER

#: (name, expense account code) of the categories every collective starts with.
DEFAULT_CATEGORIES: tuple[tuple[str, str], ...] = (
    ("Software and subscriptions", ledger.SOFTWARE),
    ("Travel", ledger.TRAVEL),
    ("Equipment", ledger.EQUIPMENT),
    ("Bank fees", ledger.BANK_FEES),
    ("Other", ledger.EXPENSES),
)


def create_default_categories(collective: Collective) -> list[ExpenseCategory]:
    """Give a new collective the default categories (its chart exists already)."""
    accounts = dict(db.session.execute(
        sa.select(Account.code, Account.id).where(Account.collective_id == collective.id,
                                                  Account.membership_id.is_(None))).all())
    categories = [ExpenseCategory(collective_id=collective.id, name=name,
                                  account_id=accounts[code])
                  for name, code in DEFAULT_CATEGORIES]
    db.session.add_all(categories)
    db.session.flush()
    return categories


def categories_of(collective_id: int, *, active_only: bool = True) -> list[ExpenseCategory]:
    """The collective's categories by name (only those that take new expenses, unless
    `active_only` is false)."""
    query = sa.select(ExpenseCategory).filter_by(collective_id=collective_id)
    if active_only:
        query = query.filter_by(is_active=True)
    return list(db.session.scalars(query.order_by(ExpenseCategory.name)))


def category_for_new_expense(collective_id: int, category_id: int) -> ExpenseCategory:
    """An active category of the collective, or a DomainError on the category field."""
    category = db.session.get(ExpenseCategory, category_id) if isinstance(category_id, int) \
        else None
    if category is None or category.collective_id != collective_id:
        raise NotFound("no such category in this collective", field="category_id")
    if not category.is_active:
        raise DomainError(f"the category {category.name!r} is retired; choose another",
                          field="category_id")
    return category


#: Expense accounts that other events book to, never an expense someone spent.
NOT_FOR_CATEGORIES = (ledger.MEMBER_SHARES, ledger.FINDER_FEES, ledger.BAD_DEBTS)


def expense_accounts(collective_id: int) -> list[Account]:
    """The collective's expense accounts a category may be booked to, by code (not the
    members' shares, finder's fees or bad debts)."""
    return list(db.session.scalars(
        sa.select(Account).where(Account.collective_id == collective_id,
                                 Account.type == AccountType.EXPENSE.value,
                                 Account.membership_id.is_(None),
                                 Account.code.not_in(NOT_FOR_CATEGORIES))
        .order_by(Account.code)))


def add_category(actor: Membership, *, name: str, account_id: int) -> ExpenseCategory:
    """A treasurer adds a category, booked to one of the collective's expense accounts."""
    require_role(actor, TREASURER, action="add expense categories")
    name = " ".join((name or "").split())
    if not name or len(name) > 80:
        raise DomainError("a category's name is 1 to 80 characters", field="name")
    account = next((a for a in expense_accounts(actor.collective_id) if a.id == account_id),
                   None)
    if account is None:
        raise DomainError("choose one of the collective's expense accounts",
                          field="account_id")
    taken = db.session.scalar(sa.select(ExpenseCategory.id).where(
        ExpenseCategory.collective_id == actor.collective_id,
        sa.func.lower(ExpenseCategory.name) == name.lower()))
    if taken is not None:
        raise Conflict(f"there is a category called {name!r} already", field="name")
    category = ExpenseCategory(collective_id=actor.collective_id, name=name,
                               account_id=account.id)
    db.session.add(category)
    db.session.flush()
    return category


def set_category_active(actor: Membership, category: ExpenseCategory, *,
                        active: bool) -> ExpenseCategory:
    """A treasurer retires a category (its expenses stay as they are) or brings it back."""
    require_role(actor, TREASURER, action="change expense categories")
    if category.collective_id != actor.collective_id:
        raise NotFound("no such category in this collective")
    category.is_active = active
    db.session.flush()
    return category


def get_category(collective_id: int, category_id: int) -> ExpenseCategory:
    """A category of this collective, or NotFound."""
    category = db.session.get(ExpenseCategory, category_id)
    if category is None or category.collective_id != collective_id:
        raise NotFound("no such category in this collective")
    return category

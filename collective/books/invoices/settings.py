"""The collective's invoicing details and its tax rates, set by a treasurer."""
from __future__ import annotations

import re

import sqlalchemy as sa

from collective.books.invoices.models import DEFAULT_TERMS_DAYS, InvoicingDetails, TaxRate
from collective.errors import Conflict, DomainError
from collective.extensions import db
from collective.ledger import services as ledger
from collective.ledger.models import Account, AccountType
from collective.members.models import Membership, Role
from collective.members.services import require_role
from collective.pool.checks import get_in, same_collective

TREASURER = Role.TREASURER
_PREFIX = re.compile(r"^[A-Z0-9]{1,12}$")


def invoicing_details(collective_id: int) -> InvoicingDetails:
    """The collective's details; a blank, unsaved set (prefix INV, 30 days) before the first
    save, so reading them never writes."""
    details = db.session.scalar(sa.select(InvoicingDetails).filter_by(
        collective_id=collective_id))
    if details is None:
        details = InvoicingDetails(collective_id=collective_id, legal_name="", address="",
                                   tax_id="", payment_instructions="",
                                   payment_terms_days=DEFAULT_TERMS_DAYS, number_prefix="INV")
    return details


def save_details(actor: Membership, *, legal_name: str, address: str, tax_id: str,
                 payment_instructions: str, payment_terms_days: int,
                 number_prefix: str) -> InvoicingDetails:
    """Set what the collective's invoices say about it, its payment terms and number prefix."""
    require_role(actor, TREASURER, action="set the invoicing details")
    legal_name = " ".join((legal_name or "").split())
    if not legal_name:
        raise DomainError("invoices need the collective's legal name", field="legal_name")
    if (isinstance(payment_terms_days, bool) or not isinstance(payment_terms_days, int)
            or not 0 <= payment_terms_days <= 365):
        raise DomainError("payment terms are 0 to 365 days", field="payment_terms_days")
    prefix = (number_prefix or "").strip().upper()
    if not _PREFIX.match(prefix):
        raise DomainError("the prefix is 1 to 12 letters A-Z or digits, like BRC",
                          field="number_prefix")
    details = invoicing_details(actor.collective_id)
    details.legal_name = legal_name[:200]
    details.address = (address or "").strip()[:1000]
    details.tax_id = (tax_id or "").strip()[:60]
    details.payment_instructions = (payment_instructions or "").strip()[:2000]
    details.payment_terms_days = payment_terms_days
    details.number_prefix = prefix
    db.session.add(details)
    db.session.flush()
    return details


def tax_accounts(collective_id: int) -> list[Account]:
    """Accounts a tax may be credited to: the collective's liabilities that are not a
    member's payable (2300 Sales tax payable first)."""
    accounts = db.session.scalars(sa.select(Account).where(
        Account.collective_id == collective_id, Account.type == AccountType.LIABILITY.value,
        Account.membership_id.is_(None)).order_by(Account.code))
    return sorted(accounts, key=lambda a: a.code != ledger.SALES_TAX)


def add_tax_rate(actor: Membership, *, name: str, rate_bp: int,
                 account_id: int | None = None) -> TaxRate:
    """Add a tax rate, credited to `account_id` (2300 Sales tax payable by default)."""
    require_role(actor, TREASURER, action="set tax rates")
    name = " ".join((name or "").split())[:60]
    if not name:
        raise DomainError("a tax rate needs a name, like VAT", field="name")
    if isinstance(rate_bp, bool) or not isinstance(rate_bp, int) or not 0 < rate_bp <= 10_000:
        raise DomainError("the rate is more than 0% and at most 100%", field="rate")
    allowed = {a.id: a for a in tax_accounts(actor.collective_id)}
    if account_id is None:
        account = ledger.account_by_code(actor.collective_id, ledger.SALES_TAX)
    elif account_id in allowed:
        account = allowed[account_id]
    else:
        raise DomainError("choose a liability account of this collective", field="account_id")
    taken = db.session.scalar(sa.select(TaxRate.id).filter_by(
        collective_id=actor.collective_id, name=name))
    if taken is not None:
        raise Conflict(f"there is already a tax rate called {name!r}", field="name")
    rate = TaxRate(collective_id=actor.collective_id, name=name, rate_bp=rate_bp,
                   account_id=account.id, is_retired=False)
    db.session.add(rate)
    db.session.flush()
    return rate


def retire_tax_rate(actor: Membership, rate: TaxRate) -> TaxRate:
    """Stop offering a tax rate on new lines; invoices that use it keep it."""
    require_role(actor, TREASURER, action="set tax rates")
    same_collective(actor, rate, "tax rate")
    rate.is_retired = True
    db.session.flush()
    return rate


def get_tax_rate(collective_id: int, rate_id: int) -> TaxRate:
    """A tax rate of this collective, or NotFound."""
    return get_in(TaxRate, collective_id, rate_id, "tax rate")


def tax_rates_of(collective_id: int, *, retired: bool = False) -> list[TaxRate]:
    """The collective's tax rates by name; the retired ones too when `retired`."""
    query = sa.select(TaxRate).filter_by(collective_id=collective_id).order_by(TaxRate.name)
    if not retired:
        query = query.where(TaxRate.is_retired.is_(False))
    return list(db.session.scalars(query))

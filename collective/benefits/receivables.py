"""What each member owes the benefits fund, in the ledger: one receivable per member
(1210-<membership id>, "Owed to the benefits fund by <name>"), opened the first time they owe.

A member's receivable holds two things, told apart by the entries that move them:

- contributions in arrears: an entry that also posts to FUND_DUE (2210, "contributions due,
  not yet paid"). A run that finds a payable short debits the receivable and credits 2210;
  a later run that settles it credits the receivable from the payable and moves the money
  from 2210 into the reserves (2200). Such an entry posts nothing else to receivables.
- gifts their reserve could not cover (and a reserve below zero from before gifts were
  limited): every other entry. A benefit debits the donor's receivable instead of the fund,
  and what their contributions pay back credits it.

The fund's accounts (`fund_account_ids`) are 2200, 2210, the old aggregate receivable 1200
and every member's receivable: what the fund holds to spend is the negated sum of them all.
"""
from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective.extensions import db
from collective.ledger import services as ledger
from collective.ledger.models import Account, AccountType, Posting
from collective.members.models import Membership, User
from collective.members.services import base_currency

#: Longest account name the accounts table keeps.
_NAME_LENGTH = 120


def receivable_code(membership_id: int) -> str:
    """Stable code of a member's receivable in the fund."""
    return f"{ledger.MEMBER_RECEIVABLE_PREFIX}-{membership_id}"


def receivable_accounts(collective_id: int) -> dict[int, int]:
    """Each member's receivable account id, by membership id (those opened so far)."""
    return dict(db.session.execute(
        sa.select(Account.owed_by_membership_id, Account.id)
        .where(Account.collective_id == collective_id,
               Account.owed_by_membership_id.is_not(None))).all())


def open_receivables(collective_id: int, membership_ids: Iterable[int]) -> dict[int, int]:
    """Every member's receivable account id, by membership id, opening the missing ones
    among `membership_ids` (flushed)."""
    accounts = receivable_accounts(collective_id)
    missing = sorted({int(m) for m in membership_ids} - set(accounts))
    if missing:
        names = dict(db.session.execute(
            sa.select(Membership.id, User.name).join(User, User.id == Membership.user_id)
            .where(Membership.collective_id == collective_id,
                   Membership.id.in_(missing))).all())
        new = [Account(collective_id=collective_id, code=receivable_code(m),
                       name=f"Owed to the benefits fund by {names.get(m, m)}"[:_NAME_LENGTH],
                       type=AccountType.ASSET.value, owed_by_membership_id=m)
               for m in missing]
        db.session.add_all(new)
        db.session.flush()
        accounts.update({account.owed_by_membership_id: account.id for account in new})
    return accounts


def fund_account_ids(collective_id: int) -> list[int]:
    """The fund's accounts: the reserves (2200), contributions due (2210), the old aggregate
    receivable (1200) and each member's receivable."""
    codes = (ledger.BENEFITS_FUND, ledger.FUND_DUE, ledger.FUND_OWED)
    return list(db.session.scalars(
        sa.select(Account.id).where(
            Account.collective_id == collective_id,
            sa.or_(Account.code.in_(codes), Account.owed_by_membership_id.is_not(None)))
        .order_by(Account.id)))


def owed_by_members(collective_id: int, membership_id: int | None = None
                    ) -> dict[int, tuple[int, int]]:
    """What each member owes the fund now, from the postings on their receivable:
    {membership_id: (contributions in arrears, gifts)}, in base minor units, for members
    whose receivable is not at zero (or the one member)."""
    due = ledger.account_by_code(collective_id, ledger.FUND_DUE).id
    beside = so.aliased(Posting)
    arrears = sa.case((beside.id.is_not(None), Posting.amount), else_=0)
    query = (
        sa.select(Account.owed_by_membership_id, sa.func.sum(arrears),
                  sa.func.sum(Posting.amount))
        .join(Posting, Posting.account_id == Account.id)
        .outerjoin(beside, sa.and_(beside.entry_id == Posting.entry_id,
                                   beside.account_id == due))
        .where(Account.collective_id == collective_id,
               Account.owed_by_membership_id.is_not(None),
               Posting.currency == base_currency(collective_id))
        .group_by(Account.owed_by_membership_id))
    if membership_id is not None:
        query = query.where(Account.owed_by_membership_id == membership_id)
    return {int(m): (int(a or 0), int(total or 0) - int(a or 0))
            for m, a, total in db.session.execute(query) if total}

"""Payouts and deposits: money moving between the bank and what the collective owes each
member (their payable account), one journal entry each."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date

import sqlalchemy as sa

from collective import audit
from collective.errors import Conflict, DomainError
from collective.extensions import db
from collective.ledger import balances
from collective.ledger import services as ledger
from collective.ledger.models import EntryKind, JournalEntry, Posting
from collective.members.models import Membership, User
from collective.members.services import require_role
from collective.money import MAX_MINOR_UNITS, format_money
from collective.pool import notices
from collective.pool.checks import TREASURER, check_date, is_whole, same_collective


class InsufficientFunds(DomainError):
    """A payout larger than what the collective owes the member."""


class DuplicatePayout(Conflict):
    """A payout of the same amount to the same member on the same day as one that stands:
    posting it needs an explicit confirmation."""

    def __init__(self, earlier: JournalEntry, membership: Membership, amount: int,
                 currency: str) -> None:
        by = db.session.get(User, earlier.created_by_id) if earlier.created_by_id else None
        super().__init__(
            f"{membership.user.name} was already paid {format_money(amount, currency)} on "
            f"{earlier.occurred_on.isoformat()} (entry {earlier.id}"
            f"{f', by {by.name}' if by else ''}); pay it again only if this is a second, "
            "separate payout", field="confirm_duplicate")
        self.earlier = earlier
        self.posted_by = by.name if by else "a scheduled run"


class BalancesChanged(Conflict):
    """What members are owed changed after the payout of every balance was confirmed."""


def same_day_payout(membership: Membership, *, amount: int, on: date) -> JournalEntry | None:
    """The latest payout entry that stands and paid the member exactly `amount` on `on`
    (on its own or in a payout of every balance), if any."""
    reversed_ids = sa.select(JournalEntry.reverses_id).where(
        JournalEntry.collective_id == membership.collective_id,
        JournalEntry.reverses_id.is_not(None))
    return db.session.scalar(
        sa.select(JournalEntry)
        .join(Posting, Posting.entry_id == JournalEntry.id)
        .where(JournalEntry.collective_id == membership.collective_id,
               JournalEntry.kind == EntryKind.PAYOUT, JournalEntry.occurred_on == on,
               Posting.account_id == ledger.member_account(membership.id).id,
               Posting.amount == amount, JournalEntry.id.not_in(reversed_ids))
        .order_by(JournalEntry.id.desc()).limit(1))


def _member_entry(actor: Membership, membership: Membership, *, kind: str, key: str,
                  on: date, amount: int, memo: str) -> JournalEntry:
    """Post `amount` from the bank to the member's payable (a payout), or back (a deposit)."""
    base = actor.collective.base_currency
    bank = ledger.account_by_code(actor.collective_id, ledger.BANK)
    payable = ledger.member_account(membership.id)
    debit, credit = (payable, bank) if kind == EntryKind.PAYOUT else (bank, payable)
    return ledger.post_entry(
        actor.collective_id, kind=kind, occurred_on=on, idempotency_key=key, memo=memo[:500],
        lines=[ledger.Line(debit.id, amount, base), ledger.Line(credit.id, -amount, base)],
        created_by_id=actor.user_id)


def _reference(text: str, reference: str) -> str:
    """A memo with the bank reference, if there is one."""
    return text + (f" ref {reference}" if reference else "")


def pay_member(actor: Membership, membership: Membership, *, amount: int, paid_on: date,
               request_key: str, reference: str = "", confirm_duplicate: bool = False,
               today: date) -> JournalEntry:
    """Pay a member part or all of what the collective owes them (one payout entry).

    `request_key` comes from the form that asked for it, so a double submit pays once. A
    second payout of the same amount to the same member on the same day is refused with
    DuplicatePayout unless `confirm_duplicate` says it is meant.
    """
    require_role(actor, TREASURER, action="pay members")
    same_collective(actor, membership, "member")
    check_date(paid_on, today, "paid_on", "payment date")
    base = actor.collective.base_currency
    if not is_whole(amount):
        raise DomainError("the amount must be more than zero", field="amount")
    key = f"payout:{request_key}"
    is_new = ledger.find_entry(actor.collective_id, key) is None
    if is_new:
        # Two payouts (or a payout and a fund run) must not both spend the same balance.
        ledger.lock_balances(actor.collective_id)
        owed = balances.member_balance(membership.id).get(base, 0)
        if amount > owed:
            raise InsufficientFunds(
                f"{membership.user.name} is owed {format_money(owed, base)}; "
                "a payout cannot be larger", field="amount")
        earlier = None if confirm_duplicate else same_day_payout(membership, amount=amount,
                                                                 on=paid_on)
        if earlier is not None:
            raise DuplicatePayout(earlier, membership, amount, base)
    # The same key again returns the same payout; for another member or amount it is a
    # conflict (a form sent back from the browser's history).
    entry = _member_entry(actor, membership, kind=EntryKind.PAYOUT, key=key, on=paid_on,
                          amount=amount,
                          memo=_reference(f"Payout to {membership.user.name}", reference))
    notices.payouts_sent(entry, actor.collective.slug, base, {membership.id: amount})
    if is_new:
        audit.record("payout.posted", collective=actor.collective_id, subject=entry,
                     actor=actor.user_id, member=membership.user.name, amount=amount,
                     currency=base, paid_on=paid_on, reference=reference)
    return entry


def record_deposit(actor: Membership, membership: Membership, *, amount: int,
                   received_on: date, request_key: str, reference: str = "",
                   today: date) -> JournalEntry:
    """Money a member paid in themselves (say, to cover contributions without pool work):
    the bank is debited and the member's payable credited, as one entry."""
    require_role(actor, TREASURER, action="record deposits")
    same_collective(actor, membership, "member")
    check_date(received_on, today, "received_on", "date received")
    if not is_whole(amount, 1, MAX_MINOR_UNITS):
        raise DomainError("the amount must be more than zero", field="amount")
    key = f"deposit:{request_key}"
    is_new = ledger.find_entry(actor.collective_id, key) is None
    entry = _member_entry(actor, membership, kind=EntryKind.DEPOSIT, key=key,
                          on=received_on, amount=amount,
                          memo=_reference(f"Deposit from {membership.user.name}", reference))
    if is_new:
        audit.record("deposit.recorded", collective=actor.collective_id, subject=entry,
                     actor=actor.user_id, member=membership.user.name, amount=amount,
                     currency=actor.collective.base_currency, received_on=received_on,
                     reference=reference)
    return entry


def payout_for_request(collective_id: int, request_key: str, *, everyone: bool = False
                       ) -> JournalEntry | None:
    """The payout a form with this request key posted already, if any."""
    prefix = "payout-all" if everyone else "payout"
    return ledger.find_entry(collective_id, f"{prefix}:{request_key}")


def balances_to_pay(collective_id: int, currency: str) -> dict[int, int]:
    """What each member is owed now, for those owed something: {membership_id: amount}."""
    return _owed(balances.member_balances(collective_id, currency))


def _owed(rows: Mapping[int, tuple[int, int]]) -> dict[int, int]:
    """{membership_id: amount} of `balances.member_balances` rows with something owed."""
    return {membership_id: amount for membership_id, (_, amount) in rows.items() if amount > 0}


def pay_everyone(actor: Membership, *, paid_on: date, reference: str, request_key: str,
                 today: date, expected: Mapping[int, int] | None = None) -> JournalEntry:
    """Pay every member their whole balance, as one payout entry with the bank reference.

    The same `request_key` again returns the entry it posted. With `expected` (what the
    treasurer confirmed: {membership_id: amount}), balances that differ now are refused with
    BalancesChanged, so nobody is paid an amount that was not confirmed.
    """
    require_role(actor, TREASURER, action="pay members")
    check_date(paid_on, today, "paid_on", "payment date")
    reference = (reference or "").strip()
    if not reference:
        raise DomainError("give the bank reference of the transfer", field="reference")
    key = f"payout-all:{request_key}"
    existing = ledger.find_entry(actor.collective_id, key)
    if existing is not None:
        return existing
    # Balances are read under the collective's balance lock, so a second "pay everyone"
    # (or a payout, or a fund run) waits and then sees what this one paid.
    ledger.lock_balances(actor.collective_id)
    base = actor.collective.base_currency
    owed_now = balances.member_balances(actor.collective_id, base)
    owed = [(account_id, amount) for account_id, amount in owed_now.values() if amount > 0]
    if not owed:
        raise DomainError("nobody is owed anything right now")
    if expected is not None and dict(expected) != _owed(owed_now):
        raise BalancesChanged("what members are owed changed since this page was shown; "
                              "nothing was paid. Check the new figures and confirm again")
    total = sum(amount for _, amount in owed)
    bank = ledger.account_by_code(actor.collective_id, ledger.BANK)
    lines = [ledger.Line(account_id, amount, base) for account_id, amount in owed]
    lines.append(ledger.Line(bank.id, -total, base))
    entry = ledger.post_entry(
        actor.collective_id, kind=EntryKind.PAYOUT, occurred_on=paid_on, idempotency_key=key,
        memo=_reference(f"Payout of every balance to {len(owed)} members", reference)[:500],
        lines=lines, created_by_id=actor.user_id)
    notices.payouts_sent(entry, actor.collective.slug, base, _owed(owed_now))
    audit.record("payout.posted", collective=actor.collective_id, subject=entry,
                 actor=actor.user_id, members=len(owed), amount=total, currency=base,
                 paid_on=paid_on, reference=reference)
    return entry

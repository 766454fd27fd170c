"""Payouts and deposits: money moving between the bank and what the collective owes each
member (their payable account), one journal entry each."""
from __future__ import annotations

from datetime import date

from collective.errors import DomainError
from collective.ledger import balances
from collective.ledger import services as ledger
from collective.ledger.models import EntryKind, JournalEntry
from collective.members.models import Membership
from collective.members.services import require_role
from collective.money import MAX_MINOR_UNITS, format_money
from collective.pool.checks import TREASURER, check_date, is_whole, same_collective


class InsufficientFunds(DomainError):
    """A payout larger than what the collective owes the member."""


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
               request_key: str, reference: str = "", today: date) -> JournalEntry:
    """Pay a member part or all of what the collective owes them (one payout entry).

    `request_key` comes from the form that asked for it, so a double submit pays once.
    """
    require_role(actor, TREASURER, action="pay members")
    same_collective(actor, membership, "member")
    check_date(paid_on, today, "paid_on", "payment date")
    base = actor.collective.base_currency
    if not is_whole(amount):
        raise DomainError("the amount must be more than zero", field="amount")
    key = f"payout:{request_key}"
    if ledger.find_entry(actor.collective_id, key) is None:
        # Two payouts (or a payout and a fund run) must not both spend the same balance.
        ledger.lock_balances(actor.collective_id)
        owed = balances.member_balance(membership.id).get(base, 0)
        if amount > owed:
            raise InsufficientFunds(
                f"{membership.user.name} is owed {format_money(owed, base)}; "
                "a payout cannot be larger", field="amount")
    # The same key again returns the same payout; for another member or amount it is a
    # conflict (a form sent back from the browser's history).
    return _member_entry(actor, membership, kind=EntryKind.PAYOUT, key=key, on=paid_on,
                         amount=amount,
                         memo=_reference(f"Payout to {membership.user.name}", reference))


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
    return _member_entry(actor, membership, kind=EntryKind.DEPOSIT, key=f"deposit:{request_key}",
                         on=received_on, amount=amount,
                         memo=_reference(f"Deposit from {membership.user.name}", reference))


def pay_everyone(actor: Membership, *, paid_on: date, request_key: str, today: date
                 ) -> JournalEntry:
    """Pay every member their whole balance, as one payout entry."""
    require_role(actor, TREASURER, action="pay members")
    check_date(paid_on, today, "paid_on", "payment date")
    key = f"payout-all:{request_key}"
    existing = ledger.find_entry(actor.collective_id, key)
    if existing is not None:
        return existing
    # Balances are read under the collective's balance lock, so a second "pay everyone"
    # (or a payout, or a fund run) waits and then sees what this one paid.
    ledger.lock_balances(actor.collective_id)
    base = actor.collective.base_currency
    owed = [(account_id, amount) for account_id, amount
            in balances.member_balances(actor.collective_id, base).values() if amount > 0]
    if not owed:
        raise DomainError("nobody is owed anything right now")
    total = sum(amount for _, amount in owed)
    bank = ledger.account_by_code(actor.collective_id, ledger.BANK)
    lines = [ledger.Line(account_id, amount, base) for account_id, amount in owed]
    lines.append(ledger.Line(bank.id, -total, base))
    return ledger.post_entry(
        actor.collective_id, kind=EntryKind.PAYOUT, occurred_on=paid_on, idempotency_key=key,
        memo=f"Payout of every balance to {len(owed)} members", lines=lines,
        created_by_id=actor.user_id)

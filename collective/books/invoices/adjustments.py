"""Credit notes and write-offs of issued invoices.

A credit note (own gapless series, key `credit-note:<id>`) posts the mirror of the part of
the invoice it credits: debit income and each tax, credit 1100. A write-off (key
`write-off:<invoice id>`) posts what is still open to 5300 Bad debts. Both use the rate the
invoice was booked at, and the last movement clears exactly what the receivable still holds.
A write-off of an invoice overdue longer than the fund plan's threshold can open an
unpaid-invoice claim for each member who did the work, linked to the invoice.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from collective.benefits import claims as claim_services
from collective.benefits.kinds import BenefitKind
from collective.benefits.models import Claim
from collective.benefits.plans import plan_in_force, plan_terms
from collective.books.invoices import compute
from collective.books.invoices.drafts import invoice_totals
from collective.books.invoices.models import (
    CreditNote,
    Invoice,
    InvoiceClaim,
    InvoiceMovement,
    MovementKind,
    Series,
    TaxRate,
)
from collective.books.invoices.numbering import format_number, take_number
from collective.books.invoices.queries import Standing, standing
from collective.books.invoices.settings import invoicing_details
from collective.errors import DomainError
from collective.extensions import db
from collective.ledger import services as ledger
from collective.ledger.models import EntryKind, JournalEntry
from collective.members.models import Membership, MembershipStatus, Role
from collective.members.services import require_role
from collective.money import format_money, minor_digits, split
from collective.pool.checks import same_collective


def _open_standing(actor: Membership, invoice: Invoice, action: str) -> Standing:
    """Lock the issued invoice against other movements and return its standing."""
    require_role(actor, Role.TREASURER, action=action)
    same_collective(actor, invoice, "invoice")
    if invoice.is_draft:
        raise DomainError("a draft has nothing to credit or write off; edit or delete it",
                          field="invoice")
    db.session.execute(sa.select(Invoice.id).where(Invoice.id == invoice.id).with_for_update())
    found = standing(invoice)
    if found.open_amount <= 0 or found.open_base <= 0:
        raise DomainError(f"invoice {invoice.number} has nothing open", field="amount")
    return found


def _check_day(day: date, invoice: Invoice, today: date, field_name: str) -> None:
    if day > today + timedelta(days=1):
        raise DomainError("the date cannot be in the future", field=field_name)
    if day < invoice.issued_on:
        raise DomainError("the date cannot be before the invoice was issued", field=field_name)


def issue_credit_note(actor: Membership, invoice: Invoice, *, amount: int | None,
                      reason: str, issued_on: date, today: date) -> CreditNote:
    """Credit `amount` (tax included, in the invoice's currency) of what is open, or all of
    it when `amount` is None; the tax is credited in the invoice's own proportion."""
    found = _open_standing(actor, invoice, "issue credit notes")
    _check_day(issued_on, invoice, today, "issued_on")
    if amount is None:
        amount = found.open_amount
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise DomainError("the amount to credit must be more than zero", field="amount")
    if amount > found.open_amount:
        raise DomainError(f"at most {format_money(found.open_amount, invoice.currency)} is "
                          "open on this invoice", field="amount")
    reason = " ".join((reason or "").split())[:500]
    if not reason:
        raise DomainError("say why the invoice is credited", field="reason")
    keys, weights = _tax_weights(invoice)
    own_parts = compute.proportional_parts(amount, weights)
    base_total = base_cleared(invoice, amount, found, actor.collective.base_currency)
    if base_total <= 0:
        raise DomainError("that is too little to credit in the base currency", field="amount")
    base_parts = compute.proportional_parts(base_total, weights)
    details = invoicing_details(actor.collective_id)
    sequence = take_number(actor.collective_id, Series.CREDIT_NOTE, issued_on.year)
    note = CreditNote(collective_id=actor.collective_id, invoice_id=invoice.id,
                      number=format_number(details.number_prefix, Series.CREDIT_NOTE,
                                           issued_on.year, sequence),
                      issued_on=issued_on, gross_amount=amount,
                      tax_amount=sum(own_parts[1:]), reason=reason, created_by_id=actor.id)
    db.session.add(note)
    db.session.flush()
    collective_id = actor.collective_id
    base = actor.collective.base_currency
    income = ledger.account_by_code(collective_id, ledger.CLIENT_INCOME)
    receivables = ledger.account_by_code(collective_id, ledger.RECEIVABLES)
    tax_accounts = dict(db.session.execute(sa.select(TaxRate.id, TaxRate.account_id).where(
        TaxRate.id.in_([k for k in keys if k is not None]))).all())
    debits: dict[int, int] = {}
    for key, part in zip(keys, base_parts, strict=True):
        account_id = income.id if key is None else tax_accounts[key]
        debits[account_id] = debits.get(account_id, 0) + part
    lines = [ledger.Line(a, d, base) for a, d in debits.items() if d]
    lines.append(ledger.Line(receivables.id, -base_total, base))
    entry = ledger.post_entry(
        collective_id, kind=EntryKind.CREDIT_NOTE, occurred_on=issued_on,
        idempotency_key=f"credit-note:{note.id}",
        memo=f"Credit note {note.number} on invoice {invoice.number}: {reason}"[:500],
        lines=lines, created_by_id=actor.user_id)
    note.entry_id = entry.id
    db.session.add(InvoiceMovement(invoice_id=invoice.id, entry_id=entry.id,
                                   kind=MovementKind.CREDIT, amount=amount,
                                   occurred_on=issued_on))
    db.session.flush()
    return note


def _tax_weights(invoice: Invoice) -> tuple[list[int | None], list[int]]:
    """Net first, then each tax rate's tax, as the invoice was issued."""
    totals = invoice_totals(invoice)
    keys: list[int | None] = [None, *sorted(totals.taxes)]
    return keys, [totals.net, *(totals.taxes[k] for k in keys[1:])]


def base_cleared(invoice: Invoice, amount: int, found: Standing, base: str) -> int:
    """What clearing `amount` of the invoice takes off its receivable in the base currency:
    `amount` at the rate the invoice was booked at, and exactly what is left when it clears
    the rest (so rounding never leaves a cent behind, nor clears one too many)."""
    if amount >= found.open_amount:
        return found.open_base
    cleared = compute.to_base(amount, minor_digits(invoice.currency), invoice.rate,
                              minor_digits(base))
    # Something stays open while some of the invoice does.
    return max(min(cleared, found.open_base - 1), 0)


@dataclass
class WriteOff:
    """A write-off's entry, the claims it opened, and why any member got none."""

    entry: JournalEntry
    claims: list[Claim] = field(default_factory=list)
    not_opened: list[str] = field(default_factory=list)


def claim_threshold(collective_id: int, on: date) -> int | None:
    """Days past due after which a write-off can open unpaid-invoice claims; None when the
    fund's plan offers no such benefit."""
    plan = plan_in_force(collective_id, on.replace(day=1))
    rule = plan_terms(plan).rule(BenefitKind.UNPAID_INVOICE.value) if plan else None
    return rule.overdue_days if rule else None


def write_off(actor: Membership, invoice: Invoice, *, written_off_on: date, today: date,
              now: datetime, open_claims: bool = False) -> WriteOff:
    """Write off what is still open on the invoice to bad debts; with `open_claims`, and
    when it is overdue past the plan's threshold, open an unpaid-invoice claim for each
    member allocated to the work, for their part (by allocation weight) of what was lost."""
    found = _open_standing(actor, invoice, "write off invoices")
    _check_day(written_off_on, invoice, today, "written_off_on")
    base = actor.collective.base_currency
    bad_debts = ledger.account_by_code(actor.collective_id, ledger.BAD_DEBTS)
    receivables = ledger.account_by_code(actor.collective_id, ledger.RECEIVABLES)
    entry = ledger.post_entry(
        actor.collective_id, kind=EntryKind.WRITE_OFF, occurred_on=written_off_on,
        idempotency_key=f"write-off:{invoice.id}",
        memo=f"Invoice {invoice.number} to {invoice.client.name} written off"[:500],
        lines=[ledger.Line(bad_debts.id, found.open_base, base),
               ledger.Line(receivables.id, -found.open_base, base)],
        created_by_id=actor.user_id)
    db.session.add(InvoiceMovement(invoice_id=invoice.id, entry_id=entry.id,
                                   kind=MovementKind.WRITE_OFF, amount=found.open_amount,
                                   occurred_on=written_off_on))
    db.session.flush()
    result = WriteOff(entry)
    if open_claims:
        _open_claims(actor, invoice, found.open_base, written_off_on, now, result)
    return result


def _open_claims(actor: Membership, invoice: Invoice, lost: int, on: date, now: datetime,
                 result: WriteOff) -> None:
    threshold = claim_threshold(actor.collective_id, on)
    if threshold is None:
        result.not_opened.append("the fund's plan offers no unpaid-invoice benefit")
        return
    late = (on - invoice.due_on).days
    if late < threshold:
        result.not_opened.append(f"the invoice is {max(late, 0)} days overdue; the plan "
                                 f"pays unpaid invoices {threshold} days past due")
        return
    workers = [a for a in invoice.pitch.allocations
               if a.membership.status == MembershipStatus.ACTIVE.value]
    if not workers:
        result.not_opened.append("nobody is allocated to this work")
        return
    parts = split(lost, [a.weight for a in workers])
    for allocation, part in zip(workers, parts, strict=True):
        member = allocation.membership
        if part <= 0:
            continue
        try:
            with db.session.begin_nested():
                claim = claim_services.file_claim(
                    member, kind=BenefitKind.UNPAID_INVOICE, start_period=on, today=on,
                    now=now, invoice_amount=part,
                    note=(f"Invoice {invoice.number} to {invoice.client.name} was written off "
                          f"on {on.isoformat()} by {actor.user.name}; your part of it: "
                          f"{format_money(part, actor.collective.base_currency)}."))
                db.session.add(InvoiceClaim(invoice_id=invoice.id, claim_id=claim.id))
                db.session.flush()
        except DomainError as exc:
            result.not_opened.append(f"{member.user.name}: {exc.message}")
        else:
            result.claims.append(claim)

"""Matching bank statement lines to open invoices (a matcher for books.bank.matching).

Money in is suggested against the collective's open invoices (issued or partly paid) in the
bank account's currency: first those whose number (`BRC-2026-0007`, in any case, with or
without separators) is in the line's reference or description, for the whole line or a part
of what is open, then those whose open amount is exactly the line's amount. Confirming pays
the invoice through pay_invoice with the line's date, amount and reference, into the bank
account's ledger account, keyed by the line: confirming twice records one payment.

Payments are posted in the collective's base currency, so only bank accounts in the base
currency get suggestions. This package imports books.bank, never the other way round.
"""
from __future__ import annotations

import re
from collections import defaultdict

import sqlalchemy as sa

from collective.books.bank.matching import DATE_WINDOW, Suggestion, register_matcher
from collective.books.bank.models import BankAccount, BankLine
from collective.books.invoices.models import Invoice, InvoiceMovement
from collective.books.invoices.payments import pay_invoice
from collective.books.invoices.queries import Status, standings
from collective.errors import Conflict, DomainError, NotFound
from collective.extensions import db
from collective.ledger.models import JournalEntry
from collective.members.models import Collective, Membership
from collective.money import format_money
from collective.pool import payments as pool_payments

#: How the suggestions rank against the other matchers' (smaller first): the invoice's
#: number in the line beats everything; an amount alone comes after entries already posted.
NAMED_EXACT, NAMED_PART, AMOUNT_ONLY = -2, -1, DATE_WINDOW.days + 1
OPEN = (Status.ISSUED, Status.PARTLY_PAID)


def line_key(line: BankLine) -> str:
    """The request key of the payment a line records: one payment per line, ever."""
    return f"bank-line:{line.id}"


def number_pattern(number: str) -> re.Pattern[str]:
    """`BRC-2026-0007` as written in a bank line: any case, any or no separators between its
    parts, and no letter or digit glued on either end (so not BRC-2026-00071)."""
    parts = re.findall(r"[A-Za-z0-9]+", number)
    return re.compile(r"(?<![A-Za-z0-9])" + r"[\W_]*".join(map(re.escape, parts))
                      + r"(?![0-9])", re.IGNORECASE)


class InvoiceMatcher:
    """Open invoices for money in, by number in the text, else by the exact open amount."""

    name = "invoice"

    def _open_invoices(self, account: BankAccount, lines: list[BankLine]
                       ) -> list[tuple[Invoice, int, re.Pattern[str]]]:
        invoices = list(db.session.scalars(
            sa.select(Invoice).where(Invoice.collective_id == account.collective_id,
                                     Invoice.number.is_not(None),
                                     Invoice.currency == account.currency,
                                     Invoice.issued_on <= max(ln.booked_on for ln in lines))
            .order_by(Invoice.issued_on, Invoice.id)))
        found = standings(invoices)
        return [(invoice, found[invoice.id].open_amount, number_pattern(invoice.number))
                for invoice in invoices if found[invoice.id].status in OPEN]

    def suggest(self, account, lines):
        found: dict[int, list[Suggestion]] = defaultdict(list)
        incoming = [ln for ln in lines if ln.amount > 0]
        if not incoming or account.currency != db.session.get(
                Collective, account.collective_id).base_currency:
            return found
        candidates = self._open_invoices(account, incoming)
        for line in incoming:
            text = f"{line.reference} {line.description}"
            for invoice, open_amount, pattern in candidates:
                if invoice.issued_on > line.booked_on or line.amount > open_amount:
                    continue
                named = pattern.search(text) is not None
                if not named and line.amount != open_amount:
                    continue
                rank = (AMOUNT_ONLY if not named
                        else NAMED_EXACT if line.amount == open_amount else NAMED_PART)
                what = "pays it" if line.amount == open_amount else "pays part of it"
                found[line.id].append(Suggestion(
                    self.name, invoice.id, f"Invoice {invoice.number}: {invoice.client.name}",
                    f"{format_money(open_amount, invoice.currency)} open; this line {what}"
                    f"{'' if named else ' (same amount, number not in the line)'}", rank))
        return found

    def confirm(self, actor: Membership, account: BankAccount, line: BankLine, target: int
                ) -> JournalEntry:
        invoice = db.session.get(Invoice, target)
        if invoice is None or invoice.collective_id != line.collective_id:
            raise NotFound("no such invoice in this collective")
        earlier = pool_payments.payment_for_request(line.collective_id, line_key(line))
        if earlier is not None:
            # Matched before (and undone): the line's payment stands already.
            paid = db.session.scalar(sa.select(InvoiceMovement.invoice_id).filter_by(
                entry_id=earlier.entry_id))
            if paid != invoice.id:
                raise Conflict(f"this line already paid another invoice (payment "
                               f"{earlier.id})", field="target")
            return _entry_of(earlier)
        if not any(s.target == target for s in self.suggest(account, [line]).get(line.id, [])):
            raise DomainError(f"invoice {invoice.number or invoice.id} is no match for this "
                              "line (not open, another currency, or not this amount)",
                              field="target")
        # The line's date is the payment's; the import refused lines after tomorrow.
        payment = pay_invoice(actor, invoice, amount=line.amount, received_on=line.booked_on,
                              reference=(line.reference or line.description)[:120],
                              request_key=line_key(line),
                              bank_account_id=account.ledger_account_id, today=line.booked_on)
        return _entry_of(payment)


def _entry_of(payment) -> JournalEntry:
    reversed_ = db.session.scalar(sa.select(JournalEntry.id).filter_by(
        reverses_id=payment.entry_id))
    if reversed_ is not None:
        raise Conflict(f"the payment this line recorded (payment {payment.id}) was reversed; "
                       "record the payment from the invoice's page", field="target")
    return db.session.get(JournalEntry, payment.entry_id)


def register() -> None:
    """Offer invoice suggestions on the statement lines page (called by the app factory)."""
    register_matcher(InvoiceMatcher())

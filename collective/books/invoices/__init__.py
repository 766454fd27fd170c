"""Client invoices: invoicing details and tax rates, drafts, gapless numbers, issuing,
credit notes, write-offs, payments against an invoice, the PDF, aging and e-mail."""
from __future__ import annotations


def register_kinds() -> None:
    """Tell the ledger that an issued invoice and a credit note are corrected by a credit
    note, never by reversing their entry on its own (called once by the app factory)."""
    from collective.ledger.models import EntryKind
    from collective.ledger.services import register_locked_kind

    register_locked_kind(EntryKind.INVOICE, "an issued invoice is corrected with a credit "
                         "note, from the invoice's page")
    register_locked_kind(EntryKind.CREDIT_NOTE, "a credit note stands: a mistaken one is "
                         "undone by invoicing the amount again")


def register_matcher() -> None:
    """Offer invoices as matches for bank statement lines (called once by the app factory)."""
    from collective.books.invoices import matching

    matching.register()

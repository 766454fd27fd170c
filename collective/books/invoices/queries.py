"""The read side of invoices: each one's status and open amount, derived from the journal
entries that moved its receivable (never stored), the list page and the aging report."""
from __future__ import annotations

import csv
import enum
import io
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective.books.invoices import compute
from collective.books.invoices.models import (
    CreditNote,
    Invoice,
    InvoiceClaim,
    InvoiceMovement,
    MovementKind,
)
from collective.extensions import db
from collective.ledger import services as ledger
from collective.ledger.models import Account, JournalEntry, Posting
from collective.money import to_decimal
from collective.web.formatting import safe_text

#: The most invoices one list page shows.
LIST_LIMIT = 500


class Status(enum.StrEnum):
    """Where an invoice stands."""

    DRAFT = "draft"
    ISSUED = "issued"
    PARTLY_PAID = "partly paid"
    PAID = "paid"
    CREDITED = "credited"
    WRITTEN_OFF = "written off"


@dataclass(frozen=True)
class Standing:
    """An invoice's status, what of it is still open (its own currency, and the receivable
    in the base currency) and how much each kind of movement cleared."""

    status: Status
    open_amount: int
    open_base: int
    paid: int = 0
    credited: int = 0
    written_off: int = 0

    def is_overdue(self, due_on: date, today: date) -> bool:
        """Open and past its due date."""
        return self.open_amount > 0 and due_on < today


def standings(invoices: list[Invoice]) -> dict[int, Standing]:
    """Each invoice's standing, in two queries whatever their number."""
    issued = [i.id for i in invoices if not i.is_draft]
    cleared: dict[int, dict[str, int]] = {i: {} for i in issued}
    receivable: dict[int, int] = dict.fromkeys(issued, 0)
    # A movement whose entry was reversed (a payment entered by mistake) no longer counts:
    # its reversal mirrors it exactly.
    standing_movement = InvoiceMovement.entry_id.not_in(
        sa.select(JournalEntry.reverses_id).where(JournalEntry.reverses_id.is_not(None),
                                                  JournalEntry.reverses_id
                                                  == InvoiceMovement.entry_id))
    if issued:
        for invoice_id, kind, amount in db.session.execute(
                sa.select(InvoiceMovement.invoice_id, InvoiceMovement.kind,
                          sa.func.sum(InvoiceMovement.amount))
                .where(InvoiceMovement.invoice_id.in_(issued), standing_movement)
                .group_by(InvoiceMovement.invoice_id, InvoiceMovement.kind)):
            cleared[invoice_id][str(kind)] = int(amount or 0)
        for invoice_id, amount in db.session.execute(
                sa.select(InvoiceMovement.invoice_id, sa.func.sum(Posting.amount))
                .join(Posting, Posting.entry_id == InvoiceMovement.entry_id)
                .join(Account, Account.id == Posting.account_id)
                .where(InvoiceMovement.invoice_id.in_(issued), standing_movement,
                       Account.code == ledger.RECEIVABLES)
                .group_by(InvoiceMovement.invoice_id)):
            receivable[invoice_id] = int(amount or 0)
    result = {}
    for invoice in invoices:
        if invoice.is_draft:
            result[invoice.id] = Standing(Status.DRAFT, 0, 0)
            continue
        moved = cleared[invoice.id]
        paid = moved.get(MovementKind.PAYMENT.value, 0)
        credited = moved.get(MovementKind.CREDIT.value, 0)
        written_off = moved.get(MovementKind.WRITE_OFF.value, 0)
        open_amount = invoice.gross_amount - paid - credited - written_off
        result[invoice.id] = Standing(
            _status(open_amount, receivable[invoice.id], paid, credited, written_off),
            open_amount, receivable[invoice.id], paid, credited, written_off)
    return result


def _status(open_amount: int, open_base: int, paid: int, credited: int,
            written_off: int) -> Status:
    if open_amount > 0 and open_base > 0:
        return Status.PARTLY_PAID if paid else Status.ISSUED
    if written_off:
        return Status.WRITTEN_OFF
    if paid:
        return Status.PAID
    return Status.CREDITED if credited else Status.ISSUED


def standing(invoice: Invoice) -> Standing:
    """One invoice's standing."""
    return standings([invoice])[invoice.id]


def invoices_of(collective_id: int, status: Status | None = None
                ) -> list[tuple[Invoice, Standing]]:
    """The collective's invoices, newest first, with their standing; only those with
    `status` when given (at most LIST_LIMIT)."""
    invoices = list(db.session.scalars(
        sa.select(Invoice).filter_by(collective_id=collective_id)
        .options(so.joinedload(Invoice.pitch), so.joinedload(Invoice.client))
        .order_by(Invoice.issued_on.is_(None).desc(), Invoice.issued_on.desc(),
                  Invoice.id.desc()).limit(LIST_LIMIT)))
    found = standings(invoices)
    return [(i, found[i.id]) for i in invoices if status is None or found[i.id].status == status]


def invoices_of_pitch(pitch_id: int) -> list[Invoice]:
    """The invoices of one piece of work."""
    return list(db.session.scalars(sa.select(Invoice).filter_by(pitch_id=pitch_id)
                                   .order_by(Invoice.id)))


def movements_of(invoice: Invoice) -> list[tuple[InvoiceMovement, JournalEntry]]:
    """The entries that moved the invoice's receivable, oldest first."""
    return list(db.session.execute(
        sa.select(InvoiceMovement, JournalEntry)
        .join(JournalEntry, JournalEntry.id == InvoiceMovement.entry_id)
        .where(InvoiceMovement.invoice_id == invoice.id).order_by(InvoiceMovement.id)).all())


def credit_notes_of(invoice: Invoice) -> list[CreditNote]:
    """The invoice's credit notes, oldest first."""
    return list(db.session.scalars(sa.select(CreditNote).filter_by(invoice_id=invoice.id)
                                   .order_by(CreditNote.id)))


def claim_ids_of(invoice: Invoice) -> list[int]:
    """The unpaid-invoice claims its write-off opened."""
    return list(db.session.scalars(sa.select(InvoiceClaim.claim_id).filter_by(
        invoice_id=invoice.id).order_by(InvoiceClaim.claim_id)))


def aging_report(collective_id: int, as_of: date) -> list[dict]:
    """Open receivables per client by days past due, in the base currency: a row per
    client and a last row of totals."""
    invoices = list(db.session.scalars(
        sa.select(Invoice).where(Invoice.collective_id == collective_id,
                                 Invoice.number.is_not(None), Invoice.issued_on <= as_of)))
    found = standings(invoices)
    return compute.aging(((i.client.name, i.due_on, found[i.id].open_base) for i in invoices
                          if found[i.id].open_base > 0), as_of)


def aging_csv(collective_id: int, currency: str, as_of: date) -> bytes:
    """The aging report as UTF-8 CSV, amounts in major units of the base `currency`: what
    the page's download and the API send."""
    buckets = [b[0] for b in compute.BUCKETS]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["client", *(f"{b} ({currency})" for b in buckets), f"total ({currency})"])
    for row in aging_report(collective_id, as_of):
        writer.writerow([safe_text(row["client"]),
                         *(str(to_decimal(row[b], currency)) for b in buckets),
                         str(to_decimal(row["total"], currency))])
    return out.getvalue().encode()

"""Invoice tables: the collective's invoicing details and tax rates, invoices and their lines,
the gapless number counters, credit notes, and the journal entries that move an invoice's
receivable.

An issued invoice is frozen: the database refuses to change or delete it or its lines
(triggers installed by migration 0019, see guards.py); services refuse first, with a message.
"""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective.extensions import UTCDateTime, db, str_enum, utcnow
from collective.ledger.models import Account
from collective.pool.models import Client, Pitch

#: Payment terms when a collective has set none.
DEFAULT_TERMS_DAYS = 30


class InvoicingDetails(db.Model):
    """What a collective's invoices say about it; one row per collective."""

    __tablename__ = "invoicing_details"
    __table_args__ = (
        sa.CheckConstraint("payment_terms_days BETWEEN 0 AND 365", name="terms_range"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    collective_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collectives.id"), unique=True, nullable=False
    )
    legal_name: so.Mapped[str] = so.mapped_column(sa.String(200), nullable=False, default="")
    address: so.Mapped[str] = so.mapped_column(sa.String(1000), nullable=False, default="")
    tax_id: so.Mapped[str] = so.mapped_column(sa.String(60), nullable=False, default="")
    #: Bank details and the like, printed at the foot of every invoice.
    payment_instructions: so.Mapped[str] = so.mapped_column(sa.String(2000), nullable=False,
                                                            default="")
    #: Days from issue to the due date a new draft starts with.
    payment_terms_days: so.Mapped[int] = so.mapped_column(sa.Integer, nullable=False,
                                                          default=DEFAULT_TERMS_DAYS)
    #: Starts every invoice number, e.g. 'BRC' in BRC-2026-0007.
    number_prefix: so.Mapped[str] = so.mapped_column(sa.String(12), nullable=False,
                                                     default="INV")

    def __repr__(self) -> str:
        return f"<InvoicingDetails collective={self.collective_id} {self.number_prefix}>"


class TaxRate(db.Model):
    """A sales tax the collective charges (VAT 12%, GST 10%); its rate never changes once
    made: a new rate is a new row, and the old one is retired."""

    __tablename__ = "tax_rates"
    __table_args__ = (
        sa.UniqueConstraint("collective_id", "name"),
        sa.CheckConstraint("rate_bp > 0 AND rate_bp <= 10000", name="rate_range"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    collective_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collectives.id"), index=True, nullable=False
    )
    name: so.Mapped[str] = so.mapped_column(sa.String(60), nullable=False)
    #: The rate in basis points: 1200 is 12%.
    rate_bp: so.Mapped[int] = so.mapped_column(sa.Integer, nullable=False)
    #: Where the tax is credited (2300 Sales tax payable unless the treasurer chose another).
    account_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("accounts.id"), nullable=False)
    is_retired: so.Mapped[bool] = so.mapped_column(sa.Boolean, nullable=False, default=False)
    created_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime(), default=utcnow, nullable=False
    )

    account: so.Mapped[Account] = so.relationship(lazy="select")

    @property
    def label(self) -> str:
        """'VAT 12%'."""
        percent = f"{Decimal(self.rate_bp) / 100:f}"
        if "." in percent:
            percent = percent.rstrip("0").rstrip(".")
        return f"{self.name} {percent}%"

    def __repr__(self) -> str:
        return f"<TaxRate {self.name} {self.rate_bp}bp>"


class Series(enum.StrEnum):
    """The number series a collective keeps, each gapless per year."""

    INVOICE = "invoice"
    CREDIT_NOTE = "credit-note"


class NumberCounter(db.Model):
    """The last number given in one series, per collective and year: taken under a row lock
    in the transaction that issues, so numbers have no gap and no duplicate."""

    __tablename__ = "invoice_number_counters"
    __table_args__ = (sa.UniqueConstraint("collective_id", "series", "year"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    collective_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("collectives.id"),
                                                     nullable=False)
    series: so.Mapped[Series] = so.mapped_column(
        str_enum(Series, name="series_known", length=16), nullable=False)
    year: so.Mapped[int] = so.mapped_column(sa.Integer, nullable=False)
    last_number: so.Mapped[int] = so.mapped_column(sa.Integer, nullable=False)

    def __repr__(self) -> str:
        return f"<NumberCounter {self.collective_id} {self.series} {self.year}={self.last_number}>"


class Invoice(db.Model):
    """A client invoice for a pitch: a draft while `number` is empty, then issued and frozen.

    The issue columns (number to snapshots) are written once, by issuing; the status
    (issued, partly paid, paid, credited, written off) is read from the ledger, never stored.
    """

    __tablename__ = "invoices"
    __table_args__ = (
        sa.UniqueConstraint("collective_id", "number"),
        sa.CheckConstraint("rate IS NULL OR rate > 0", name="rate_positive"),
        sa.CheckConstraint("(number IS NULL) = (issued_on IS NULL)", name="issued_whole"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    collective_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collectives.id"), index=True, nullable=False
    )
    pitch_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("pitches.id"), index=True,
                                                nullable=False)
    client_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("clients.id"), index=True,
                                                 nullable=False)
    #: The pitch's currency: every line is in it.
    currency: so.Mapped[str] = so.mapped_column(sa.String(3), nullable=False)
    due_on: so.Mapped[date] = so.mapped_column(sa.Date, nullable=False)
    notes: so.Mapped[str] = so.mapped_column(sa.String(2000), nullable=False, default="")
    created_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("memberships.id"),
                                                     nullable=False)
    created_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime(), default=utcnow, nullable=False
    )
    #: e.g. 'BRC-2026-0007'; empty for a draft.
    number: so.Mapped[str | None] = so.mapped_column(sa.String(40), nullable=True)
    issued_on: so.Mapped[date | None] = so.mapped_column(sa.Date, nullable=True)
    #: Base-currency units per one unit of `currency` on the issue date (1 for the base).
    rate: so.Mapped[Decimal | None] = so.mapped_column(sa.Numeric(20, 10), nullable=True)
    #: Totals in minor units of `currency`, as issued.
    net_amount: so.Mapped[int | None] = so.mapped_column(sa.BigInteger, nullable=True)
    tax_amount: so.Mapped[int | None] = so.mapped_column(sa.BigInteger, nullable=True)
    #: The receivable as posted, in minor units of the base currency.
    base_gross: so.Mapped[int | None] = so.mapped_column(sa.BigInteger, nullable=True)
    #: The collective's and the client's invoicing details as they were on issue.
    seller: so.Mapped[dict | None] = so.mapped_column(sa.JSON, nullable=True)
    buyer: so.Mapped[dict | None] = so.mapped_column(sa.JSON, nullable=True)
    entry_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("journal_entries.id"), unique=True, nullable=True
    )
    issued_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("memberships.id"),
                                                           nullable=True)

    pitch: so.Mapped[Pitch] = so.relationship(lazy="select")
    client: so.Mapped[Client] = so.relationship(lazy="select")
    lines: so.Mapped[list[InvoiceLine]] = so.relationship(
        back_populates="invoice", order_by="InvoiceLine.position", lazy="select",
        cascade="all, delete-orphan")

    @property
    def is_draft(self) -> bool:
        """Not issued yet: editable, deletable, posts nothing."""
        return self.number is None

    @property
    def gross_amount(self) -> int | None:
        """Net plus tax, in the invoice's currency, once issued."""
        if self.net_amount is None or self.tax_amount is None:
            return None
        return self.net_amount + self.tax_amount

    def __repr__(self) -> str:
        return f"<Invoice {self.id} {self.number or 'draft'}>"


class InvoiceLine(db.Model):
    """One line of an invoice: quantity times unit price, with an optional tax."""

    __tablename__ = "invoice_lines"
    __table_args__ = (
        sa.UniqueConstraint("invoice_id", "position"),
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("unit_price >= 0", name="unit_price_not_negative"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    invoice_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("invoices.id"), index=True,
                                                  nullable=False)
    position: so.Mapped[int] = so.mapped_column(sa.Integer, nullable=False)
    description: so.Mapped[str] = so.mapped_column(sa.String(500), nullable=False)
    #: Up to three decimals (hours, days, pieces).
    quantity: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(12, 3), nullable=False)
    #: Minor units of the invoice's currency.
    unit_price: so.Mapped[int] = so.mapped_column(sa.BigInteger, nullable=False)
    tax_rate_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("tax_rates.id"),
                                                          nullable=True)

    invoice: so.Mapped[Invoice] = so.relationship(back_populates="lines")
    tax_rate: so.Mapped[TaxRate | None] = so.relationship(lazy="select")

    def __repr__(self) -> str:
        return f"<InvoiceLine {self.invoice_id}#{self.position} {self.description[:20]!r}>"


class CreditNote(db.Model):
    """A credit note against an issued invoice, with its own gapless number series."""

    __tablename__ = "credit_notes"
    __table_args__ = (
        sa.UniqueConstraint("collective_id", "number"),
        sa.CheckConstraint("gross_amount > 0", name="gross_positive"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    collective_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collectives.id"), index=True, nullable=False
    )
    invoice_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("invoices.id"), index=True,
                                                  nullable=False)
    #: e.g. 'BRC-2026-CN-0001'.
    number: so.Mapped[str] = so.mapped_column(sa.String(40), nullable=False)
    issued_on: so.Mapped[date] = so.mapped_column(sa.Date, nullable=False)
    #: What it credits, in minor units of the invoice's currency: tax included, and of it.
    gross_amount: so.Mapped[int] = so.mapped_column(sa.BigInteger, nullable=False)
    tax_amount: so.Mapped[int] = so.mapped_column(sa.BigInteger, nullable=False)
    reason: so.Mapped[str] = so.mapped_column(sa.String(500), nullable=False, default="")
    entry_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("journal_entries.id"), unique=True, nullable=True
    )
    created_by_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("memberships.id"),
                                                     nullable=False)
    created_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime(), default=utcnow, nullable=False
    )

    def __repr__(self) -> str:
        return f"<CreditNote {self.number} invoice={self.invoice_id}>"


class MovementKind(enum.StrEnum):
    """What a journal entry did to an invoice's receivable."""

    ISSUE = "issue"
    CREDIT = "credit"
    WRITE_OFF = "write-off"
    PAYMENT = "payment"


class InvoiceMovement(db.Model):
    """A journal entry that moved an invoice's receivable. The invoice's status is read from
    these entries' postings on 1100 Client receivables (in the base currency), and `amount`
    says how much of the invoice, in its own currency, the entry cleared (0 on issue)."""

    __tablename__ = "invoice_movements"
    __table_args__ = (sa.CheckConstraint("amount >= 0", name="amount_not_negative"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    invoice_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("invoices.id"), index=True,
                                                  nullable=False)
    entry_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("journal_entries.id"),
                                                unique=True, nullable=False)
    kind: so.Mapped[MovementKind] = so.mapped_column(
        str_enum(MovementKind, name="kind_known", length=16), nullable=False)
    #: Minor units of the invoice's currency this entry cleared.
    amount: so.Mapped[int] = so.mapped_column(sa.BigInteger, nullable=False, default=0)
    occurred_on: so.Mapped[date] = so.mapped_column(sa.Date, nullable=False)

    def __repr__(self) -> str:
        return f"<InvoiceMovement invoice={self.invoice_id} {self.kind} entry={self.entry_id}>"


class InvoiceClaim(db.Model):
    """An unpaid-invoice benefit claim opened when the invoice was written off."""

    __tablename__ = "invoice_claims"
    __table_args__ = (sa.UniqueConstraint("invoice_id", "claim_id"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    invoice_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("invoices.id"), index=True,
                                                  nullable=False)
    claim_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("claims.id"), unique=True,
                                                nullable=False)

    def __repr__(self) -> str:
        return f"<InvoiceClaim invoice={self.invoice_id} claim={self.claim_id}>"

"""Expense tables: each collective's categories, the expenses, and their receipts."""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective.extensions import UTCDateTime, db, str_enum, utcnow
from collective.ledger.models import Account
from collective.members.models import Membership


class ExpenseKind(enum.StrEnum):
    """Who paid: a member, to be paid back through their payable, or the collective's bank."""

    MEMBER = "member"
    DIRECT = "direct"


class ExpenseStatus(enum.StrEnum):
    """A member's expense waits for a treasurer; a direct one is approved as it is entered."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class ExpenseCategory(db.Model):
    """What an expense was for, and the expense account it is booked to."""

    __tablename__ = "expense_categories"
    __table_args__ = (sa.UniqueConstraint("collective_id", "name"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    collective_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collectives.id"), index=True, nullable=False)
    name: so.Mapped[str] = so.mapped_column(sa.String(80), nullable=False)
    #: The expense account an approved expense of this category is debited to.
    account_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("accounts.id"), nullable=False)
    #: Offered on the forms; a retired category keeps its expenses but takes no new ones.
    is_active: so.Mapped[bool] = so.mapped_column(sa.Boolean, nullable=False, default=True,
                                                  server_default=sa.true())
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow,
                                                       nullable=False)

    account: so.Mapped[Account] = so.relationship(lazy="select")

    def __repr__(self) -> str:
        return f"<ExpenseCategory {self.id} {self.name!r} collective={self.collective_id}>"


class Expense(db.Model):
    """Money spent for the collective, with its receipts; posted once approved."""

    __tablename__ = "expenses"
    __table_args__ = (
        sa.UniqueConstraint("collective_id", "request_key"),
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.CheckConstraint("base_amount > 0", name="base_amount_positive"),
        sa.CheckConstraint("length(currency) = 3", name="currency_iso"),
        sa.Index("ix_expenses_queue", "collective_id", "status"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    collective_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collectives.id"), index=True, nullable=False)
    #: Who submitted it: the member to be paid back, or the treasurer who entered a direct one.
    membership_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("memberships.id"), index=True, nullable=False)
    kind: so.Mapped[ExpenseKind] = so.mapped_column(
        str_enum(ExpenseKind, name="kind_known", length=10), nullable=False)
    category_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("expense_categories.id"), nullable=False)
    #: Minor units of `currency`, as on the receipt.
    amount: so.Mapped[int] = so.mapped_column(sa.BigInteger, nullable=False)
    currency: so.Mapped[str] = so.mapped_column(sa.String(3), nullable=False)
    #: From `currency` to the base currency (1 for the base itself).
    rate: so.Mapped[Decimal] = so.mapped_column(sa.Numeric(25, 10), nullable=False)
    #: What is posted: the amount in the collective's base currency, at `rate`.
    base_amount: so.Mapped[int] = so.mapped_column(sa.BigInteger, nullable=False)
    #: The day the money was spent (the receipt's date).
    spent_on: so.Mapped[date] = so.mapped_column(sa.Date, nullable=False)
    description: so.Mapped[str] = so.mapped_column(sa.String(500), nullable=False)
    status: so.Mapped[ExpenseStatus] = so.mapped_column(
        str_enum(ExpenseStatus, name="status_known", length=10), nullable=False)
    decided_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("memberships.id"), nullable=True)
    decided_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime(), nullable=True)
    #: Why it was approved or rejected, as the submitter reads it.
    decision_reason: so.Mapped[str] = so.mapped_column(sa.String(1000), nullable=False,
                                                       default="")
    #: The journal entry that booked it ('expense:<id>'), once approved.
    entry_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("journal_entries.id"), unique=True, nullable=True)
    #: The submitting form's key: the same form sent twice records one expense.
    request_key: so.Mapped[str | None] = so.mapped_column(sa.String(64), nullable=True)
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow,
                                                       nullable=False)

    membership: so.Mapped[Membership] = so.relationship(foreign_keys=[membership_id],
                                                        lazy="select")
    decided_by: so.Mapped[Membership | None] = so.relationship(foreign_keys=[decided_by_id])
    category: so.Mapped[ExpenseCategory] = so.relationship(lazy="select")
    receipts: so.Mapped[list[Receipt]] = so.relationship(
        back_populates="expense", order_by="Receipt.id", lazy="select")

    @property
    def is_pending(self) -> bool:
        """Waiting for a treasurer's decision."""
        return self.status == ExpenseStatus.PENDING

    def __repr__(self) -> str:
        return f"<Expense {self.id} {self.kind} {self.status} {self.amount} {self.currency}>"


class StoredFileColumns:
    """What every uploaded file kept in the receipt storage records (a receipt, a learning
    module's attachment): where it is, what it was called, what it is and its checksum."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    #: The storage's name for the file: random, never derived from what was uploaded.
    storage_key: so.Mapped[str] = so.mapped_column(sa.String(200), unique=True, nullable=False)
    #: The uploader's file name, cleaned, with the extension of the type found in it.
    filename: so.Mapped[str] = so.mapped_column(sa.String(200), nullable=False)
    #: The type read from the content: application/pdf, image/png or image/jpeg.
    content_type: so.Mapped[str] = so.mapped_column(sa.String(40), nullable=False)
    size_bytes: so.Mapped[int] = so.mapped_column(sa.Integer, nullable=False)
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64), nullable=False)
    uploaded_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime(), default=utcnow,
                                                        nullable=False)


class Receipt(StoredFileColumns, db.Model):
    """One file proving an expense, kept in the receipt storage under a random name."""

    __tablename__ = "receipts"

    expense_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("expenses.id"), index=True, nullable=False)

    expense: so.Mapped[Expense] = so.relationship(back_populates="receipts")

    @property
    def is_image(self) -> bool:
        """A PNG or JPEG, which the expense page shows as a picture."""
        return self.content_type.startswith("image/")

    def __repr__(self) -> str:
        return f"<Receipt {self.id} expense={self.expense_id} {self.content_type}>"

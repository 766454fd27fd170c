"""Bank tables: the collective's bank accounts, imported statements, their lines, and the
rules that recognise bank fees."""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective.extensions import UTCDateTime, db, str_enum, utcnow
from collective.ledger.models import Account, JournalEntry


class StatementFormat(enum.StrEnum):
    """The file formats a statement is imported from."""

    CSV = "csv"
    OFX = "ofx"
    CAMT053 = "camt053"


class BankAccount(db.Model):
    """One of the collective's bank accounts, reconciled against one ledger asset account."""

    __tablename__ = "bank_accounts"
    __table_args__ = (
        sa.UniqueConstraint("collective_id", "name"),
        # One bank account per ledger account and currency: its balance is the one compared.
        sa.UniqueConstraint("ledger_account_id", "currency"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    collective_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collectives.id"), index=True, nullable=False
    )
    name: so.Mapped[str] = so.mapped_column(sa.String(120), nullable=False)
    #: The IBAN or account number, as the bank writes it (optional, shown only).
    number: so.Mapped[str] = so.mapped_column(sa.String(64), nullable=False, default="")
    currency: so.Mapped[str] = so.mapped_column(sa.String(3), nullable=False)
    #: The ledger asset account this bank account's money is booked on (1000 Bank by default).
    ledger_account_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("accounts.id"), nullable=False
    )
    #: The CSV column mapping last used for this account (see importers.CsvMapping).
    csv_mapping: so.Mapped[dict[str, Any] | None] = so.mapped_column(sa.JSON, nullable=True)
    created_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime(), default=utcnow, nullable=False
    )

    ledger_account: so.Mapped[Account] = so.relationship(lazy="select")

    def __repr__(self) -> str:
        return f"<BankAccount {self.id} {self.name!r} {self.currency}>"


class BankStatement(db.Model):
    """One imported file: the period it covers and the balances it states, if any."""

    __tablename__ = "bank_statements"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    collective_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collectives.id"), index=True, nullable=False
    )
    bank_account_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("bank_accounts.id"), index=True, nullable=False
    )
    format: so.Mapped[StatementFormat] = so.mapped_column(
        str_enum(StatementFormat, name="format_known", length=16), nullable=False
    )
    filename: so.Mapped[str] = so.mapped_column(sa.String(200), nullable=False, default="")
    starts_on: so.Mapped[date] = so.mapped_column(sa.Date, nullable=False)
    ends_on: so.Mapped[date] = so.mapped_column(sa.Date, nullable=False)
    #: Balance before the first day, and at the end of the last day, when the file says.
    opening_balance: so.Mapped[int | None] = so.mapped_column(sa.BigInteger, nullable=True)
    closing_balance: so.Mapped[int | None] = so.mapped_column(sa.BigInteger, nullable=True)
    #: Lines in the file, and how many of them were new (the rest were imported before).
    line_count: so.Mapped[int] = so.mapped_column(sa.Integer, nullable=False)
    new_count: so.Mapped[int] = so.mapped_column(sa.Integer, nullable=False)
    imported_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime(), default=utcnow, nullable=False
    )
    imported_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id"), nullable=True
    )

    def __repr__(self) -> str:
        return f"<BankStatement {self.id} {self.format} {self.starts_on}..{self.ends_on}>"


class BankLine(db.Model):
    """One line of a bank statement: money in (> 0) or out (< 0) on a day. It stays listed
    until it is matched to a journal entry or explained by a treasurer."""

    __tablename__ = "bank_lines"
    __table_args__ = (
        sa.CheckConstraint("amount <> 0", name="amount_not_zero"),
        sa.Index("ix_bank_lines_account_day", "bank_account_id", "booked_on"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    collective_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collectives.id"), index=True, nullable=False
    )
    bank_account_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("bank_accounts.id"), nullable=False
    )
    statement_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("bank_statements.id"), index=True, nullable=False
    )
    booked_on: so.Mapped[date] = so.mapped_column(sa.Date, nullable=False)
    #: Signed minor units of the account's currency: money in > 0, money out < 0.
    amount: so.Mapped[int] = so.mapped_column(sa.BigInteger, nullable=False)
    description: so.Mapped[str] = so.mapped_column(sa.String(500), nullable=False, default="")
    reference: so.Mapped[str] = so.mapped_column(sa.String(200), nullable=False, default="")
    #: sha256 of account, date, amount, reference and the line's occurrence among identical
    #: lines of its file: the same file imported again adds nothing.
    line_key: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True, nullable=False)
    #: The journal entry this line is matched to; an entry matches at most one line.
    entry_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("journal_entries.id"), unique=True, nullable=True
    )
    #: Why a line with no entry needs none (e.g. a transfer between own accounts).
    explanation: so.Mapped[str] = so.mapped_column(sa.String(500), nullable=False, default="")
    #: When and by whom the line was matched or explained.
    resolved_at: so.Mapped[datetime | None] = so.mapped_column(UTCDateTime(), nullable=True)
    resolved_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id"), nullable=True
    )

    entry: so.Mapped[JournalEntry | None] = so.relationship()

    @property
    def is_resolved(self) -> bool:
        """Matched to an entry, or explained."""
        return self.entry_id is not None or bool(self.explanation)

    def __repr__(self) -> str:
        return f"<BankLine {self.id} {self.booked_on} {self.amount}>"


class FeeRule(db.Model):
    """Text that marks a statement line as a known fee, and the expense account it goes to."""

    __tablename__ = "bank_fee_rules"
    __table_args__ = (sa.UniqueConstraint("collective_id", "pattern"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    collective_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collectives.id"), index=True, nullable=False
    )
    #: Matched case-insensitively anywhere in a line's description or reference.
    pattern: so.Mapped[str] = so.mapped_column(sa.String(100), nullable=False)
    expense_account_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("accounts.id"), nullable=False
    )
    created_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime(), default=utcnow, nullable=False
    )

    expense_account: so.Mapped[Account] = so.relationship(lazy="select")

    def __repr__(self) -> str:
        return f"<FeeRule {self.pattern!r} -> {self.expense_account_id}>"

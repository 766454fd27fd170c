"""Ledger tables: accounts, journal entries and their postings (append only)."""
from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy import orm as so

from collective.extensions import UTCDateTime, db, str_enum, utcnow


class AccountType(enum.StrEnum):
    """The five kinds of account in double entry."""

    ASSET = "asset"
    LIABILITY = "liability"
    EQUITY = "equity"
    INCOME = "income"
    EXPENSE = "expense"

    @property
    def is_debit_normal(self) -> bool:
        """Assets and expenses grow with debits; the rest with credits."""
        return self in (AccountType.ASSET, AccountType.EXPENSE)


class EntryKind(enum.StrEnum):
    """What money event a journal entry records; every kind any domain posts is listed here.

    The ledger posts whatever it is given, but the database refuses a kind not listed: a
    domain that posts a new kind adds it here, with a migration that replaces the constraint.
    """

    #: A balance brought into the books by hand (e.g. the bank's opening balance).
    OPENING = "opening"
    #: A client payment and its split (pool).
    PAYMENT = "payment"
    #: A member paid out what the collective owes them (pool).
    PAYOUT = "payout"
    #: A member paid money in (pool).
    DEPOSIT = "deposit"
    #: A member's benefits-fund contribution (benefits run).
    CONTRIBUTION = "contribution"
    #: A reserve above the plan's cap given back to the member (benefits run).
    CONTRIBUTION_RETURN = "contribution-return"
    #: A benefit paid on a claim (benefits run).
    BENEFIT = "benefit"
    #: The mirror of an earlier entry, which it names in `reverses_id`.
    REVERSAL = "reversal"
    #: A client invoice issued: receivable against income and sales tax (books).
    INVOICE = "invoice"
    #: A credit note against an issued invoice (books).
    CREDIT_NOTE = "credit-note"
    #: What a client will never pay, written off to bad debts (books).
    WRITE_OFF = "write-off"
    #: An expense: a member's, approved against a receipt, or one the collective paid (books).
    EXPENSE = "expense"
    #: A balance moved between accounts without money coming in or going out: a member
    #: settling what they owe from what the collective owes them, a reclassification.
    TRANSFER = "transfer"
    #: The year-end closing entry: income and expenses moved to the common fund (ledger).
    CLOSING = "closing"


class Account(db.Model):
    """One account in a collective's chart; a member's payable account names its membership."""

    __tablename__ = "accounts"
    __table_args__ = (sa.UniqueConstraint("collective_id", "code"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    collective_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collectives.id"), index=True, nullable=False
    )
    #: Stable code within the collective, e.g. '1000' for the bank, '2100-7' for a member.
    code: so.Mapped[str] = so.mapped_column(sa.String(32), nullable=False)
    name: so.Mapped[str] = so.mapped_column(sa.String(120), nullable=False)
    type: so.Mapped[AccountType] = so.mapped_column(
        str_enum(AccountType, name="type_known", length=16), nullable=False
    )
    #: Set on a member's payable account: what the collective owes that member.
    membership_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("memberships.id"), unique=True, nullable=True
    )
    #: Set on a member's receivable in the benefits fund (1210-<membership id>): what that
    #: member owes the fund (contributions in arrears, gifts their reserve could not cover).
    owed_by_membership_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("memberships.id"), unique=True, nullable=True
    )
    created_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime(), default=utcnow, nullable=False
    )

    @property
    def account_type(self) -> AccountType:
        """The type as an AccountType."""
        return AccountType(self.type)

    def __repr__(self) -> str:
        return f"<Account {self.code} {self.name!r} collective={self.collective_id}>"


class JournalEntry(db.Model):
    """One money event; its postings sum to zero per currency. Never updated or deleted."""

    __tablename__ = "journal_entries"
    __table_args__ = (
        sa.UniqueConstraint("collective_id", "idempotency_key"),
        #: Finds a collective's entries in a date window (the earnings of the last 90 days).
        sa.Index("ix_journal_entries_collective_id_occurred_on", "collective_id", "occurred_on"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    collective_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collectives.id"), index=True, nullable=False
    )
    #: The business date of the event (a payment's received date), used for "as of" balances.
    occurred_on: so.Mapped[date] = so.mapped_column(sa.Date, index=True, nullable=False)
    posted_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime(), default=utcnow, nullable=False
    )
    #: What kind of event: a payment, a payout, a contribution, a reversal, ...
    kind: so.Mapped[EntryKind] = so.mapped_column(
        str_enum(EntryKind, name="kind_known", length=40), nullable=False
    )
    memo: so.Mapped[str] = so.mapped_column(sa.String(500), nullable=False, default="")
    #: Unique per collective: posting the same key again returns this entry.
    idempotency_key: so.Mapped[str] = so.mapped_column(sa.String(200), nullable=False)
    #: The entry this one reverses; an entry is reversed at most once.
    reverses_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("journal_entries.id"), unique=True, nullable=True
    )
    #: The user who caused the entry; empty for scheduled runs.
    created_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id"), nullable=True
    )

    postings: so.Mapped[list[Posting]] = so.relationship(
        back_populates="entry", order_by="Posting.id", lazy="select"
    )
    reverses: so.Mapped[JournalEntry | None] = so.relationship(
        remote_side=[id], foreign_keys=[reverses_id], back_populates="reversed_by"
    )
    reversed_by: so.Mapped[JournalEntry | None] = so.relationship(
        foreign_keys=[reverses_id], back_populates="reverses", uselist=False, viewonly=True
    )

    def __repr__(self) -> str:
        return f"<JournalEntry {self.id} {self.kind} {self.idempotency_key!r}>"


class Posting(db.Model):
    """One line of a journal entry: a signed amount (debit > 0, credit < 0) on an account."""

    __tablename__ = "postings"
    __table_args__ = (
        sa.CheckConstraint("amount <> 0", name="amount_not_zero"),
        sa.CheckConstraint("length(currency) = 3", name="currency_iso"),
        # Balances are sums per account and currency: this index answers them alone.
        sa.Index("ix_postings_account_currency_amount", "account_id", "currency", "amount"),
        #: An entry's lines with their account and amount, read from the index alone.
        sa.Index("ix_postings_entry_id_account_id_amount", "entry_id", "account_id", "amount"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    entry_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("journal_entries.id"), nullable=False
    )
    account_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("accounts.id"), index=True, nullable=False
    )
    #: Signed minor units: debits positive, credits negative.
    amount: so.Mapped[int] = so.mapped_column(sa.BigInteger, nullable=False)
    currency: so.Mapped[str] = so.mapped_column(sa.String(3), nullable=False)

    entry: so.Mapped[JournalEntry] = so.relationship(back_populates="postings")
    account: so.Mapped[Account] = so.relationship(lazy="select")

    def __repr__(self) -> str:
        return (f"<Posting entry={self.entry_id} account={self.account_id} "
                f"{self.amount} {self.currency}>")


class PeriodAction(enum.StrEnum):
    """What happened to an accounting period (a month, or a whole year at its close)."""

    CLOSED = "closed"
    REOPENED = "reopened"
    #: The year-end close; `is_forced` with a reason when months were still unreconciled.
    YEAR_CLOSED = "year-closed"


class ClosedPeriod(db.Model):
    """A month that is closed: no journal entry may be dated inside it (a trigger says so
    too). Reopening deletes the row; period_events keeps the history."""

    __tablename__ = "closed_periods"
    __table_args__ = (
        sa.UniqueConstraint("collective_id", "starts_on"),
        sa.CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    collective_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collectives.id"), nullable=False
    )
    #: First and last day of the month, both inside the period.
    starts_on: so.Mapped[date] = so.mapped_column(sa.Date, nullable=False)
    ends_on: so.Mapped[date] = so.mapped_column(sa.Date, nullable=False)
    closed_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime(), default=utcnow, nullable=False
    )
    #: Who closed it; empty when the command line did.
    closed_by_id: so.Mapped[int | None] = so.mapped_column(
        sa.ForeignKey("users.id"), nullable=True
    )

    def __repr__(self) -> str:
        return f"<ClosedPeriod {self.starts_on} collective={self.collective_id}>"


class PeriodEvent(db.Model):
    """One close, reopening or year-end close, with who did it and why."""

    __tablename__ = "period_events"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    collective_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collectives.id"), index=True, nullable=False
    )
    #: The month's first day (Jan 1 for a year-end close).
    starts_on: so.Mapped[date] = so.mapped_column(sa.Date, nullable=False)
    action: so.Mapped[PeriodAction] = so.mapped_column(
        str_enum(PeriodAction, name="action_known", length=16), nullable=False
    )
    #: Required to reopen, and to force a year-end close.
    reason: so.Mapped[str] = so.mapped_column(sa.String(500), nullable=False, default="")
    #: A year closed although some of its months were not reconciled.
    is_forced: so.Mapped[bool] = so.mapped_column(sa.Boolean, nullable=False, default=False)
    user_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("users.id"), nullable=True)
    created_at: so.Mapped[datetime] = so.mapped_column(
        UTCDateTime(), default=utcnow, nullable=False
    )

    def __repr__(self) -> str:
        return f"<PeriodEvent {self.action} {self.starts_on} collective={self.collective_id}>"


class BalanceSnapshot(db.Model):
    """An account's balance in one currency through a posting id: the sum of its postings
    with ids up to `through_posting_id` (collective.ledger.snapshots). Derived from the
    append-only postings, so it cannot drift; never edited, only replaced by a newer one."""

    __tablename__ = "balance_snapshots"
    __table_args__ = (sa.UniqueConstraint("through_posting_id", "account_id", "currency"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    #: Every posting with an id up to this one is counted, and no later one.
    through_posting_id: so.Mapped[int] = so.mapped_column(sa.BigInteger, nullable=False)
    account_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("accounts.id"), nullable=False)
    currency: so.Mapped[str] = so.mapped_column(sa.String(3), nullable=False)
    #: Signed minor units: debits positive.
    balance: so.Mapped[int] = so.mapped_column(sa.BigInteger, nullable=False)

    def __repr__(self) -> str:
        return (f"<BalanceSnapshot account={self.account_id} {self.balance} {self.currency} "
                f"through={self.through_posting_id}>")


class _TotalsColumns:
    """The figures both ledger totals tables hold for a group of postings."""

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    #: The account's collective (so a collective's totals are read without the accounts).
    collective_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collectives.id"), nullable=False)
    account_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("accounts.id"), nullable=False)
    currency: so.Mapped[str] = so.mapped_column(sa.String(3), nullable=False)
    #: The entries' own kind (a reversal is 'reversal').
    kind: so.Mapped[str] = so.mapped_column(sa.String(40), nullable=False)
    #: The kind the entries count as: a reversal takes the kind of the entry it reverses.
    effective_kind: so.Mapped[str] = so.mapped_column(sa.String(40), nullable=False)
    #: Sum of the positive amounts (minor units).
    debits: so.Mapped[int] = so.mapped_column(sa.BigInteger, nullable=False)
    #: Sum of the negative amounts, as a positive number (minor units).
    credits: so.Mapped[int] = so.mapped_column(sa.BigInteger, nullable=False)
    #: How many postings.
    postings: so.Mapped[int] = so.mapped_column(sa.Integer, nullable=False)


class LedgerMonthTotal(_TotalsColumns, db.Model):
    """Debits, credits and postings of one account in one currency, month (of the entries'
    date) and kind, counting exactly the postings up to the balance snapshot's watermark
    (collective.ledger.totals). Derived from the append-only postings; the snapshot round
    brings it forward, nothing else writes it."""

    __tablename__ = "ledger_month_totals"
    __table_args__ = (
        sa.UniqueConstraint("account_id", "currency", "month", "kind", "effective_kind",
                            name="uq_ledger_month_totals_key"),
        sa.Index("ix_ledger_month_totals_collective_month", "collective_id", "month"),
    )

    #: The first day of the month the entries happened in.
    month: so.Mapped[date] = so.mapped_column(sa.Date, nullable=False)

    def __repr__(self) -> str:
        return (f"<LedgerMonthTotal account={self.account_id} {self.month} {self.kind} "
                f"{self.debits}/{self.credits} {self.currency}>")


class LedgerAccountTotal(db.Model):
    """The same figures per account and currency only, over all months and kinds: what a
    balance read needs (the trial balance, the balance sheet, the members' payables) in a
    row per account, not one per account and kind (collective.ledger.totals)."""

    __tablename__ = "ledger_account_totals"
    __table_args__ = (
        sa.UniqueConstraint("account_id", "currency", name="uq_ledger_account_totals_key"),
        sa.Index("ix_ledger_account_totals_collective_id", "collective_id"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    collective_id: so.Mapped[int] = so.mapped_column(
        sa.ForeignKey("collectives.id"), nullable=False)
    account_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("accounts.id"), nullable=False)
    currency: so.Mapped[str] = so.mapped_column(sa.String(3), nullable=False)
    debits: so.Mapped[int] = so.mapped_column(sa.BigInteger, nullable=False)
    credits: so.Mapped[int] = so.mapped_column(sa.BigInteger, nullable=False)
    postings: so.Mapped[int] = so.mapped_column(sa.Integer, nullable=False)

    def __repr__(self) -> str:
        return (f"<LedgerAccountTotal account={self.account_id} "
                f"{self.debits}/{self.credits} {self.currency}>")


class LedgerKindTotal(_TotalsColumns, db.Model):
    """The same figures over all months: one account's postings per currency and kind up to
    the watermark (what a whole-history read needs, a row per account and kind)."""

    __tablename__ = "ledger_kind_totals"
    __table_args__ = (
        sa.UniqueConstraint("account_id", "currency", "kind", "effective_kind",
                            name="uq_ledger_kind_totals_key"),
        sa.Index("ix_ledger_kind_totals_collective_id", "collective_id"),
    )

    def __repr__(self) -> str:
        return (f"<LedgerKindTotal account={self.account_id} {self.kind} "
                f"{self.debits}/{self.credits} {self.currency}>")

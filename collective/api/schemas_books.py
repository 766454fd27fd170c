"""What the API reads and writes about the books: invoices, expenses, ledger entries,
balances and the exports' choices (the rest of the API's schemas are in schemas.py)."""
from __future__ import annotations

import base64
import binascii
from decimal import Decimal

import marshmallow as ma
from marshmallow import fields, validate

from collective.api.paging import DatedPageArgs, PageArgs
from collective.api.schemas import MAX_ID, Rate, amount, an_id, currency, text
from collective.audit.actions import ACTIONS
from collective.books.expenses.models import ExpenseKind, ExpenseStatus
from collective.books.expenses.uploads import MAX_RECEIPT_BYTES, MAX_RECEIPTS
from collective.books.invoices.drafts import MAX_LINES
from collective.books.invoices.queries import Status
from collective.ledger.models import EntryKind
from collective.reports.exports import FORMATS, PRESETS

INVOICE_STATUSES = [status.value for status in Status]
EXPENSE_STATUSES = [status.value for status in ExpenseStatus]
ENTRY_KINDS = [kind.value for kind in EntryKind]


class Quantity(fields.String):
    """A positive decimal with at most three places, written as a string ("1.5")."""

    PATTERN = r"^[0-9]{1,9}(\.[0-9]{1,3})?$"

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("metadata", {})["pattern"] = self.PATTERN
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        written = super()._deserialize(value, attr, data, **kwargs)
        validate.Regexp(self.PATTERN, error="write the quantity as digits, like 1.5")(written)
        return Decimal(written)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else format(Decimal(value).normalize(), "f")


class Base64File(fields.String):
    """A file's bytes as standard base64 (at most MAX_RECEIPT_BYTES once decoded)."""

    def _deserialize(self, value, attr, data, **kwargs):
        written = super()._deserialize(value, attr, data, **kwargs)
        if len(written) > (MAX_RECEIPT_BYTES * 4) // 3 + 4:
            raise ma.ValidationError("the file is larger than 10 MB")
        try:
            return base64.b64decode(written, validate=True)
        except (binascii.Error, ValueError):
            raise ma.ValidationError("this is not base64") from None


# --- Invoices ----------------------------------------------------------------------------

class InvoiceArgs(DatedPageArgs):
    """Filters of the invoices list: the status, and the day each was issued (a range
    leaves drafts out)."""

    status = fields.String(load_default=None, validate=validate.OneOf(INVOICE_STATUSES))


class InvoiceLineIn(ma.Schema):
    """One line of a draft: quantity times unit price, with an optional tax rate."""

    description = text(500, least=1, required=True)
    quantity = Quantity(load_default=Decimal(1), metadata={"description": "Up to three "
                                                                         "decimals."})
    unit_price = amount(0, required=True, metadata={
        "description": "Minor units of the work's currency."})
    tax_rate_id = an_id(load_default=None, allow_none=True)


class DraftEditIn(ma.Schema):
    """A draft's new lines, due date and notes (its work stays the same)."""

    lines = fields.List(fields.Nested(InvoiceLineIn), required=True,
                        validate=validate.Length(1, MAX_LINES))
    due_on = fields.Date(load_default=None, allow_none=True, metadata={
        "description": "Today plus the collective's payment terms when left out."})
    notes = text(2000, load_default="")


class InvoiceIn(DraftEditIn):
    """A new draft for won, in-progress, delivered or invoiced work, in the work's
    currency; it posts nothing until it is issued."""

    pitch_id = an_id(required=True)


class IssueIn(ma.Schema):
    """Issue a draft: it gets its number and is posted, once."""

    issued_on = fields.Date(load_default=None, allow_none=True, metadata={
        "description": "Today (the collective's) when left out."})
    rate = Rate(load_default=None, allow_none=True, metadata={
        "description": "Units of the base currency per unit of the invoice's; needed when "
                       "they differ."})


class InvoicePaymentIn(ma.Schema):
    """Money the client paid against an issued invoice, in the invoice's currency."""

    amount = amount(required=True)
    received_on = fields.Date(required=True)
    rate = Rate(load_default=None, allow_none=True)
    reference = text(120, load_default="", metadata={
        "description": "The invoice's number when left empty."})


class InvoiceLineOut(ma.Schema):
    """One line of an invoice."""

    position = fields.Integer(required=True)
    description = fields.String(required=True)
    quantity = Quantity(required=True)
    unit_price = fields.Integer(required=True)
    tax_rate_id = fields.Integer(required=True, allow_none=True)


class InvoiceOut(ma.Schema):
    """An invoice, its totals and where it stands (read from the ledger, never stored)."""

    id = fields.Integer(required=True)
    number = fields.String(required=True, allow_none=True, metadata={
        "description": "Null for a draft."})
    status = fields.String(required=True, validate=validate.OneOf(INVOICE_STATUSES))
    is_overdue = fields.Boolean(required=True)
    pitch_id = fields.Integer(required=True)
    client_id = fields.Integer(required=True)
    currency = fields.String(required=True)
    net_amount = fields.Integer(required=True)
    tax_amount = fields.Integer(required=True)
    gross_amount = fields.Integer(required=True)
    open_amount = fields.Integer(required=True, metadata={
        "description": "What the client still owes, in the invoice's currency."})
    paid_amount = fields.Integer(required=True)
    base_currency = fields.String(required=True)
    base_gross = fields.Integer(required=True, allow_none=True)
    rate = Rate(required=True, allow_none=True)
    issued_on = fields.Date(required=True, allow_none=True)
    due_on = fields.Date(required=True)
    notes = fields.String(required=True)
    entry_id = fields.Integer(required=True, allow_none=True)
    created_at = fields.DateTime(required=True)
    lines = fields.List(fields.Nested(InvoiceLineOut), required=True)
    credited_amount = fields.Integer(required=True, metadata={
        "description": "What credit notes took off, in the invoice's currency."})
    written_off_amount = fields.Integer(required=True)


class CreditNoteIn(ma.Schema):
    """Credit part of what is open on an issued invoice, or all of it."""

    amount = amount(load_default=None, allow_none=True, metadata={
        "description": "Tax included, in the invoice's currency; all that is open when "
                       "left out. The tax is credited in the invoice's own proportion."})
    reason = text(500, least=1, required=True)
    issued_on = fields.Date(load_default=None, allow_none=True, metadata={
        "description": "Today (the collective's) when left out."})


class CreditNoteOut(ma.Schema):
    """A credit note, with its own number series, and the entry that posted it."""

    id = fields.Integer(required=True)
    invoice_id = fields.Integer(required=True)
    number = fields.String(required=True)
    issued_on = fields.Date(required=True)
    gross_amount = fields.Integer(required=True)
    tax_amount = fields.Integer(required=True)
    reason = fields.String(required=True)
    entry_id = fields.Integer(required=True, allow_none=True)
    created_at = fields.DateTime(required=True)


class WriteOffIn(ma.Schema):
    """Write off what is still open on an issued invoice to bad debts."""

    written_off_on = fields.Date(load_default=None, allow_none=True, metadata={
        "description": "Today (the collective's) when left out."})
    open_claims = fields.Boolean(load_default=False, metadata={
        "description": "Open an unpaid-invoice claim for each member who did the work, "
                       "when the invoice is overdue past the fund plan's threshold."})


class WriteOffOut(ma.Schema):
    """The write-off's entry, the claims it opened, and why any were not opened."""

    entry_id = fields.Integer(required=True)
    written_off_base = fields.Integer(required=True, metadata={
        "description": "What went to bad debts, in the base currency."})
    claim_ids = fields.List(fields.Integer(), required=True)
    not_opened = fields.List(fields.String(), required=True)
    invoice = fields.Nested(InvoiceOut, required=True)


class SentOut(ma.Schema):
    """Whether e-mailing the invoice queued a message (it goes once)."""

    queued = fields.Boolean(required=True, metadata={
        "description": "False when it was e-mailed already: nothing new was sent."})
    recipient = fields.String(required=True, allow_none=True)


class TaxRateArgs(PageArgs):
    """The tax rates in use, and the retired ones when asked."""

    retired = fields.Boolean(load_default=False, metadata={
        "description": "Include the rates no longer offered on new lines."})


class TaxRateOut(ma.Schema):
    """A tax rate an invoice line can carry (`tax_rate_id`)."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    rate_bp = fields.Integer(required=True, metadata={"description": "1200 is 12%."})
    is_retired = fields.Boolean(required=True)


# --- Expenses ----------------------------------------------------------------------------

class ExpenseArgs(DatedPageArgs):
    """Filters of the expenses list: the status, and the day the money was spent."""

    status = fields.String(load_default=None, validate=validate.OneOf(EXPENSE_STATUSES))


class CategoryArgs(PageArgs):
    """The categories a new expense can take, and the retired ones when asked."""

    inactive = fields.Boolean(load_default=False, metadata={
        "description": "Include the categories no longer offered."})


class CategoryOut(ma.Schema):
    """An expense category (`category_id` of an expense)."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    is_active = fields.Boolean(required=True)


class ReceiptIn(ma.Schema):
    """A receipt: a PDF, PNG or JPEG (read from its content, not its name)."""

    filename = text(200, least=1, required=True)
    content_base64 = Base64File(required=True, metadata={
        "description": "The file's bytes in standard base64, at most 10 MB decoded."})


class ExpenseIn(ma.Schema):
    """An expense with its receipts. A member's (`paid_by: member`) waits for a treasurer
    other than them; one the collective paid from its bank (`paid_by: collective`,
    treasurers) is booked at once."""

    category_id = an_id(required=True)
    amount = amount(required=True)
    currency = currency(required=True)
    spent_on = fields.Date(required=True)
    description = text(500, least=1, required=True)
    rate = Rate(load_default=None, allow_none=True, metadata={
        "description": "Units of the base currency per unit of `currency`; needed when "
                       "they differ."})
    paid_by = fields.String(load_default=ExpenseKind.MEMBER.value, validate=validate.OneOf(
        ["member", "collective"]))
    receipts = fields.List(fields.Nested(ReceiptIn), required=True,
                           validate=validate.Length(1, MAX_RECEIPTS))


class ExpenseDecisionIn(ma.Schema):
    """A treasurer's decision on a member's expense: approved (booked at once) or rejected
    (with a reason the member reads)."""

    approve = fields.Boolean(required=True)
    reason = text(1000, load_default="")


class ReceiptOut(ma.Schema):
    """A receipt kept with an expense (its file is served by the expense's page)."""

    id = fields.Integer(required=True)
    filename = fields.String(required=True)
    content_type = fields.String(required=True)
    size_bytes = fields.Integer(required=True)
    sha256 = fields.String(required=True)


class ExpenseOut(ma.Schema):
    """An expense, its decision, and the entry that booked it."""

    id = fields.Integer(required=True)
    membership_id = fields.Integer(required=True, metadata={
        "description": "Who submitted it (or the treasurer who entered one the collective "
                       "paid)."})
    paid_by = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(EXPENSE_STATUSES))
    category_id = fields.Integer(required=True)
    category = fields.String(required=True)
    amount = fields.Integer(required=True)
    currency = fields.String(required=True)
    rate = Rate(required=True)
    base_amount = fields.Integer(required=True)
    spent_on = fields.Date(required=True)
    description = fields.String(required=True)
    decision_reason = fields.String(required=True)
    decided_at = fields.DateTime(required=True, allow_none=True)
    entry_id = fields.Integer(required=True, allow_none=True)
    created_at = fields.DateTime(required=True)
    receipts = fields.List(fields.Nested(ReceiptOut), required=True)


# --- Ledger ------------------------------------------------------------------------------

class EntryArgs(DatedPageArgs):
    """Filters of the journal: the entry's kind, and the day it happened."""

    kind = fields.String(load_default=None, validate=validate.OneOf(ENTRY_KINDS))


class PostingOut(ma.Schema):
    """One line of an entry: debit positive, credit negative."""

    account_id = fields.Integer(required=True)
    account_code = fields.String(required=True)
    account_name = fields.String(required=True)
    amount = fields.Integer(required=True)
    currency = fields.String(required=True)


class EntryOut(ma.Schema):
    """A journal entry with its postings (which sum to zero per currency)."""

    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    occurred_on = fields.Date(required=True)
    posted_at = fields.DateTime(required=True)
    memo = fields.String(required=True)
    idempotency_key = fields.String(required=True)
    reverses_id = fields.Integer(required=True, allow_none=True, metadata={
        "description": "The entry this one reverses."})
    reversed_by_id = fields.Integer(required=True, allow_none=True, metadata={
        "description": "The entry that reverses this one."})
    postings = fields.List(fields.Nested(PostingOut), required=True)


class ReversalIn(ma.Schema):
    """Reverse an entry: its mirror is posted, dated as the entry unless its month is
    closed (then today)."""

    memo = text(500, load_default="", metadata={
        "description": "Why; 'Reversal of entry N: ...' when left empty."})


class BalanceArgs(PageArgs):
    """Balances as of a day (today when left out)."""

    as_of = fields.Date(load_default=None, allow_none=True)


class CurrencyBalanceOut(ma.Schema):
    """An account's totals in one currency."""

    currency = fields.String(required=True)
    debits = fields.Integer(required=True)
    credits = fields.Integer(required=True)
    balance = fields.Integer(required=True, metadata={
        "description": "In the account's normal direction: an asset's or expense's debits "
                       "less credits, the others' credits less debits."})


class AccountBalanceOut(ma.Schema):
    """One account's balance per currency as of the day asked."""

    account_id = fields.Integer(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    type = fields.String(required=True)
    membership_id = fields.Integer(required=True, allow_none=True, metadata={
        "description": "Set on a member's account (2100-N: what the collective owes them; "
                       "1210-N: what they owe the benefits fund)."})
    balances = fields.List(fields.Nested(CurrencyBalanceOut), required=True)


# --- Exports -----------------------------------------------------------------------------

class LedgerExportArgs(ma.Schema):
    """The ledger export: as the reports page makes it."""

    format = fields.String(load_default="csv", validate=validate.OneOf(FORMATS))
    preset = fields.String(load_default="accounting", validate=validate.OneOf(PRESETS),
                           metadata={"description": "The CSV's columns."})
    date_from = fields.Date(required=True)
    date_to = fields.Date(required=True)
    account = fields.String(load_default=None, validate=validate.Length(0, 32),
                            metadata={"description": "One account's code (empty: every "
                                                     "account)."})
    membership_id = fields.Integer(load_default=None, validate=validate.Range(1, MAX_ID),
                                   metadata={"description": "One member's postings."})
    kind = fields.String(load_default=None, validate=validate.OneOf(ENTRY_KINDS))


class StatementExportArgs(ma.Schema):
    """A member's statement for a period: your own, or any member's for a treasurer."""

    format = fields.String(load_default="csv", validate=validate.OneOf(["csv", "pdf"]))
    date_from = fields.Date(required=True)
    date_to = fields.Date(required=True)
    membership_id = fields.Integer(load_default=None, validate=validate.Range(1, MAX_ID),
                                   metadata={"description": "Yours when left out."})



class AuditExportArgs(ma.Schema):
    """The audit log's download: every event the filter matches, newest first."""

    action = fields.String(load_default=None, validate=validate.OneOf(list(ACTIONS)))
    membership_id = fields.Integer(load_default=None, validate=validate.Range(1, MAX_ID),
                                   metadata={"description": "Events this member did, and "
                                                            "events about them."})
    date_from = fields.Date(load_default=None, metadata={
        "description": "The collective's calendar day, included."})
    date_to = fields.Date(load_default=None)

    @ma.validates_schema
    def _range(self, data: dict, **kwargs) -> None:
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            raise ma.ValidationError("the end is before the start", "date_to")

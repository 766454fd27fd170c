"""Forms of the reports: export choices, statement periods."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional

from collective.ledger.models import EntryKind
from collective.web.member_field import MemberField

#: Every entry kind, as the export form names it (a new kind must be named here).
KIND_CHOICES = {EntryKind.PAYMENT: "Client payments", EntryKind.PAYOUT: "Payouts",
                EntryKind.CONTRIBUTION: "Contributions", EntryKind.BENEFIT: "Benefits",
                EntryKind.DEPOSIT: "Deposits", EntryKind.REVERSAL: "Reversals",
                EntryKind.CONTRIBUTION_RETURN: "Reserve returns",
                EntryKind.OPENING: "Opening", EntryKind.INVOICE: "Invoices",
                EntryKind.CREDIT_NOTE: "Credit notes", EntryKind.WRITE_OFF: "Write-offs",
                EntryKind.EXPENSE: "Expenses", EntryKind.TRANSFER: "Transfers",
                EntryKind.CLOSING: "Year-end closing"}


class ExportForm(FlaskForm):
    """What to export (a GET form: the link can be bookmarked)."""

    class Meta:
        csrf = False

    format = SelectField("Format", choices=[("csv", "CSV"), ("xlsx", "Excel (XLSX)"),
                                            ("beancount", "Beancount")], default="csv")
    preset = SelectField("Columns (CSV)", default="accounting",
                         choices=[("accounting", "Accounting"),
                                  ("full", "Full (keys, reversals, original currency)")])
    date_from = DateField("From", validators=[InputRequired()])
    date_to = DateField("To", validators=[InputRequired()])
    account = StringField("Account code (optional)", validators=[Optional(), Length(max=32)])
    member = MemberField("Member (optional)", blank=(0, "Everyone"))
    kind = SelectField("Entry kind (optional)", default="", choices=[
        ("", "Any"), *((kind.value, KIND_CHOICES[kind]) for kind in EntryKind)])


class PeriodForm(FlaskForm):
    """A date range (GET)."""

    class Meta:
        csrf = False

    date_from = DateField("From", validators=[InputRequired()])
    date_to = DateField("To", validators=[InputRequired()])
    member = MemberField("Member", blank=(0, "Yourself"))


class AsOfForm(FlaskForm):
    """One date (GET)."""

    class Meta:
        csrf = False

    as_of = DateField("As of", validators=[Optional()])

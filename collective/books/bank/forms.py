"""Forms of the bank pages: bank accounts, statement imports with the CSV column mapping,
fee rules, and what a treasurer does with a statement line."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from collective.books.bank.importers import DATE_FORMATS, DELIMITERS, CsvMapping
from collective.books.bank.models import StatementFormat
from collective.web.forms import AsciiIntegerField, MoneyFormMixin

FORMAT_CHOICES = [(StatementFormat.CSV.value, "CSV (columns mapped below)"),
                  (StatementFormat.OFX.value, "OFX / QFX"),
                  (StatementFormat.CAMT053.value, "CAMT.053 (ISO 20022 XML)")]


class BankAccountForm(FlaskForm):
    """Add a bank account; the ledger account choices are set by the view."""

    name = StringField("Name", validators=[DataRequired(), Length(max=120)],
                       description="How the treasurers call it, e.g. \u201cMain account\u201d.")
    number = StringField("IBAN or account number", validators=[Optional(), Length(max=64)])
    currency = StringField("Currency", validators=[DataRequired(), Length(min=3, max=3)])
    ledger_account = SelectField("Booked on ledger account", coerce=int,
                                 description="Its balance is the one the statements are "
                                             "reconciled against.")


class ImportForm(FlaskForm, MoneyFormMixin):
    """Upload a statement; for a CSV, say which column holds what (kept for next time)."""

    format = SelectField("Format", choices=FORMAT_CHOICES)
    file = FileField("Statement file", validators=[FileRequired("choose the file to import")])
    date_column = StringField("Date column", validators=[Optional(), Length(max=80)])
    date_format = SelectField("Date written as", choices=list(DATE_FORMATS.items()))
    amount_column = StringField("Amount column (signed)", validators=[Optional(), Length(max=80)],
                                description="Or leave empty and name the debit and credit "
                                            "columns.")
    debit_column = StringField("Debit column (money out)",
                               validators=[Optional(), Length(max=80)])
    credit_column = StringField("Credit column (money in)",
                                validators=[Optional(), Length(max=80)])
    description_column = StringField("Description column",
                                     validators=[Optional(), Length(max=80)])
    reference_column = StringField("Reference column", validators=[Optional(), Length(max=80)])
    decimal_separator = SelectField("Decimal separator",
                                    choices=[(".", "point: 1,234.50"), (",", "comma: 1.234,50")])
    delimiter = SelectField("Columns separated by", choices=list(DELIMITERS.items()))
    opening_balance = StringField("Opening balance (optional)",
                                  validators=[Optional(), Length(max=30)],
                                  description="For a CSV: the balance before its first line.")
    closing_balance = StringField("Closing balance (optional)",
                                  validators=[Optional(), Length(max=30)],
                                  description="For a CSV: the balance after its last line.")

    def mapping(self) -> CsvMapping:
        """The CSV column mapping the form describes."""
        return CsvMapping(date=(self.date_column.data or "").strip(),
                          date_format=self.date_format.data,
                          amount=(self.amount_column.data or "").strip(),
                          debit=(self.debit_column.data or "").strip(),
                          credit=(self.credit_column.data or "").strip(),
                          description=(self.description_column.data or "").strip(),
                          reference=(self.reference_column.data or "").strip(),
                          decimal_separator=self.decimal_separator.data,
                          delimiter=self.delimiter.data)

    def show_mapping(self, mapping: CsvMapping | None) -> None:
        """Fill the CSV fields from a saved mapping."""
        if mapping is None:
            return
        for name, value in mapping.as_dict().items():
            field = getattr(self, f"{name}_column", None) or getattr(self, name)
            field.data = value

    def balance(self, field, currency: str) -> int | None | bool:
        """A balance typed in, in minor units; None when empty; False after a field error."""
        from collective.money import MoneyError, parse_amount

        if not (field.data or "").strip():
            return None
        try:
            return parse_amount(field.data, currency, allow_negative=True)
        except MoneyError as exc:
            field.errors = [*field.errors, str(exc)]
            return False


class FeeRuleForm(FlaskForm):
    """Text that marks a line as a known fee, and the expense account it is booked on."""

    pattern = StringField("Text in the description", validators=[DataRequired(),
                                                                 Length(min=3, max=100)],
                          description="Matched anywhere, ignoring case, e.g. "
                                      "\u201caccount fee\u201d.")
    expense_account = SelectField("Expense account", coerce=int)


class ConfirmMatchForm(FlaskForm):
    """Confirm one suggestion for a line."""

    matcher = HiddenField(validators=[DataRequired(), Regexp(r"^[a-z-]{1,40}$")])
    target = AsciiIntegerField(validators=[DataRequired(), NumberRange(min=1, max=2**31 - 1)])


class ExplainForm(FlaskForm):
    """Say why a line needs no journal entry."""

    note = StringField("Why it needs no entry", validators=[DataRequired(), Length(max=400)],
                       description="e.g. \u201cTransfer between own accounts\u201d.")


class EmptyForm(FlaskForm):
    """A button with a CSRF token: undo a match, remove a rule."""

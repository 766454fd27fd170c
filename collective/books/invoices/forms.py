"""Forms of invoices: the invoicing details, a tax rate, a draft with its lines (rows are
added and removed by sending the form, so no script is needed), and the money actions."""
from __future__ import annotations

from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    FieldList,
    Form,
    FormField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from collective.books.invoices.drafts import MAX_LINES, DraftLine
from collective.web.forms import (
    AsciiIntegerField,
    FiniteDecimalField,
    MoneyFormMixin,
    percent_to_bp,
    request_key_field,
)


class DetailsForm(FlaskForm):
    legal_name = StringField("Legal name", validators=[DataRequired(), Length(max=200)])
    address = TextAreaField("Address", validators=[Optional(), Length(max=1000)])
    tax_id = StringField("Tax id", validators=[Optional(), Length(max=60)])
    payment_instructions = TextAreaField(
        "Payment instructions", description="Bank details and the like, printed on every "
        "invoice.", validators=[Optional(), Length(max=2000)])
    payment_terms_days = AsciiIntegerField("Payment terms (days)", default=30, validators=[
        InputRequired(), NumberRange(min=0, max=365)])
    number_prefix = StringField("Invoice number prefix", default="INV",
                                description="Numbers read like BRC-2026-0007.",
                                validators=[DataRequired(), Length(max=12)])


class TaxRateForm(FlaskForm):
    name = StringField("Name", description="VAT, GST...",
                       validators=[DataRequired(), Length(max=60)])
    rate = FiniteDecimalField("Rate (%)", places=None, validators=[
        InputRequired(), NumberRange(min=Decimal("0.01"), max=100)])
    account_id = SelectField("Credited to", coerce=int)

    def rate_bp(self) -> int | None:
        """The rate in basis points, or None after a field error."""
        return percent_to_bp(self.rate)


class LineForm(Form):
    description = StringField("What", validators=[Optional(), Length(max=500)])
    quantity = FiniteDecimalField("Quantity", places=None, default=Decimal(1),
                                  validators=[Optional()])
    unit_price = StringField("Unit price", validators=[Optional(), Length(max=30)])
    tax_rate_id = SelectField("Tax", coerce=int, default=0, validate_choice=False)
    remove = BooleanField("Remove")


class DraftForm(FlaskForm, MoneyFormMixin):
    pitch_id = SelectField("Work", coerce=int, validators=[InputRequired()])
    due_on = DateField("Due on", validators=[InputRequired()])
    notes = TextAreaField("Notes on the invoice", validators=[Optional(), Length(max=2000)])
    lines = FieldList(FormField(LineForm), min_entries=1, max_entries=MAX_LINES)
    add_line = SubmitField("Add a line")
    save = SubmitField("Save the draft")

    def set_tax_choices(self, choices: list[tuple[int, str]]) -> None:
        """Offer "no tax" and these rates on every line."""
        for entry in self.lines:
            entry.form.tax_rate_id.choices = [(0, "No tax"), *choices]

    def kept_lines(self) -> list:
        """The line subforms not marked for removal and not left blank."""
        return [entry.form for entry in self.lines
                if not entry.form.remove.data and (entry.form.description.data
                                                   or entry.form.unit_price.data)]

    def draft_lines(self, currency: str) -> list[DraftLine] | None:
        """The lines as the service takes them, or None after a field error."""
        result, ok = [], True
        for line in self.kept_lines():
            price = self.parsed_amount(line.unit_price, currency)
            if line.quantity.data is None:
                line.quantity.errors = [*line.quantity.errors, "give a quantity"]
                ok = False
            if price is None:
                ok = False
                continue
            result.append(DraftLine(line.description.data or "", line.quantity.data or
                                    Decimal(0), price, line.tax_rate_id.data or None))
        if ok and not result:
            self.form_errors.append("An invoice needs at least one line.")
            return None
        return result if ok else None


class EditDraftForm(DraftForm):
    pitch_id = None  # an invoice keeps its work


class IssueForm(FlaskForm):
    issued_on = DateField("Issue date", validators=[InputRequired()])
    rate = FiniteDecimalField("Rate to the base currency", places=None,
                              validators=[Optional(), NumberRange(min=0)])


class CreditNoteForm(FlaskForm, MoneyFormMixin):
    amount = StringField("Amount to credit, tax included", description="Leave it empty to "
                         "credit everything still open.", validators=[Optional(), Length(max=30)])
    reason = StringField("Why", validators=[DataRequired(), Length(max=500)])
    issued_on = DateField("Date", validators=[InputRequired()])


class WriteOffForm(FlaskForm):
    written_off_on = DateField("Date", validators=[InputRequired()])
    open_claims = BooleanField("Open an unpaid-invoice claim for each member who did the work")


class ConfirmForm(FlaskForm):
    """A one-button form (delete a draft, retire a tax rate)."""


class PaymentForm(FlaskForm, MoneyFormMixin):
    amount = StringField("Amount received", validators=[DataRequired(), Length(max=30)])
    rate = FiniteDecimalField("Rate to the base currency on the day", places=None,
                              validators=[Optional(), NumberRange(min=0)])
    received_on = DateField("Received on", validators=[InputRequired()])
    reference = StringField("Reference", validators=[Optional(), Length(max=120)])
    request_key = request_key_field()

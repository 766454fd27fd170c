"""Forms of expenses: submitting one (a member's or one the collective paid), deciding one,
and adding a category. The service checks the receipts' content; the form reads the files."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import (
    AnyOf,
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
)

from collective.books.expenses.uploads import (
    MAX_RECEIPT_BYTES,
    MAX_RECEIPTS,
    Upload,
    uploads_from,
)
from collective.web.forms import FiniteDecimalField, MoneyFormMixin, request_key_field

RECEIPT_HINT = (f"PDF, PNG or JPEG, at most {MAX_RECEIPT_BYTES // (1024 * 1024)} MB each; "
                f"up to {MAX_RECEIPTS} files.")


class ExpenseForm(FlaskForm, MoneyFormMixin):
    category_id = SelectField("Category", coerce=int, validators=[InputRequired()])
    amount = StringField("Amount", validators=[DataRequired(), Length(max=30)])
    currency = StringField("Currency", validators=[DataRequired(), Length(min=3, max=3)])
    rate = FiniteDecimalField("Rate to the base currency (only for another currency)",
                              places=None, validators=[Optional(), NumberRange(min=0)])
    spent_on = DateField("Day spent", validators=[InputRequired()])
    description = TextAreaField("What for", validators=[DataRequired(), Length(max=500)])
    receipts = MultipleFileField("Receipts", description=RECEIPT_HINT)
    request_key = request_key_field()

    def uploads(self) -> list[Upload]:
        """The files chosen, read for the service's checks."""
        return uploads_from(self.receipts.data)


class DecideForm(FlaskForm):
    """Approve or reject; the button pressed says which."""

    #: Sent by the button pressed (no input of its own on the page).
    decision = StringField("Decision", validators=[
        AnyOf(["approve", "reject"], message="Press Approve or Reject.")])
    reason = TextAreaField("Reason (the member reads it; needed to reject)",
                           validators=[Optional(), Length(max=1000)])


class CategoryForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=80)])
    account_id = SelectField("Booked to", coerce=int, validators=[InputRequired()])

"""Form helpers every domain's forms share: money and currency fields, the request key that
makes a form post once, percentages, safe `next` targets, and domain errors on fields."""
from __future__ import annotations

import uuid
from collections.abc import Mapping
from urllib.parse import urlsplit

from flask import flash
from flask_wtf import FlaskForm
from wtforms import (
    DecimalField,
    HiddenField,
    IntegerField,
    MonthField,
    SelectMultipleField,
    widgets,
)
from wtforms.validators import DataRequired, Regexp

from collective.clock import PeriodError, parse_period
from collective.errors import DomainError
from collective.money import MoneyError, check_ascii_digits, check_currency, parse_amount

#: The largest id a URL or form may name (a PostgreSQL integer).
MAX_ID = 2**31 - 1


class MultiCheckboxField(SelectMultipleField):
    """A set of checkboxes for choosing several values."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def ascii_int(value: str) -> int:
    """int() of the digits 0-9 only, for `request.args.get(..., type=ascii_int)` (int()
    reads '١٢' as 12); anything else is a ValueError, which `get` turns into its default."""
    if not value.isascii():
        raise ValueError(f"{value[:20]!r} is not written with the digits 0-9")
    return int(value)


def valid_id(value: object) -> bool:
    """True for an int that can be a row id."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def show_domain_error(form: FlaskForm | None, exc: DomainError,
                      aliases: Mapping[str, str] | None = None) -> None:
    """Attach a domain error to the form field it names (or its alias), or flash it."""
    name = (aliases or {}).get(exc.field, exc.field)
    field = getattr(form, name, None) if form is not None and name else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, exc.message]
    else:
        flash(exc.message, "error")


def flash_form_errors(form: FlaskForm) -> None:
    """Flash one message saying why a form that shows no fields of its own was refused."""
    problems = [error if name == "csrf_token" else f"{form[name].label.text}: {error}"
                for name, errors in form.errors.items() if name in form
                for error in errors]
    problems += [str(error) for error in form.form_errors]
    if problems:
        flash("Nothing was changed. " + "; ".join(problems), "error")


def is_safe_next(target: str | None) -> bool:
    """True for a local path such as '/c/demo/'; False for other hosts or odd schemes."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def _ascii_digits_only(valuelist) -> None:
    """Raise ValueError (a field error) for digits other than 0-9 in the submitted value."""
    try:
        for value in valuelist or ():
            check_ascii_digits(value if isinstance(value, str) else "")
    except MoneyError as exc:
        raise ValueError(str(exc)) from exc


class AsciiIntegerField(IntegerField):
    """An IntegerField that reads the digits 0-9 only (int() reads '١٢' as 12)."""

    def process_formdata(self, valuelist):
        _ascii_digits_only(valuelist)
        super().process_formdata(valuelist)


class PeriodField(MonthField):
    """A month field that reads YYYY-MM only (MonthField's strptime also takes '2026-1')."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        try:
            self.data = parse_period(valuelist[0])
        except PeriodError as exc:
            self.data = None
            raise ValueError(str(exc)) from exc


class FiniteDecimalField(DecimalField):
    """A DecimalField that refuses NaN and infinity (which would break range checks), and
    digits other than 0-9 (Decimal() reads '١٢' as 12)."""

    def process_formdata(self, valuelist):
        _ascii_digits_only(valuelist)
        super().process_formdata(valuelist)
        if self.data is not None and not self.data.is_finite():
            self.data = None
            raise ValueError("Not a valid number")


class MoneyFormMixin:
    """Parse an amount field against a currency field into exact minor units."""

    def parsed_amount(self, amount_field, currency: str, *, more_than_zero: bool = False
                      ) -> int | None:
        """The amount in minor units, or None after adding a field error (also for zero,
        when it must be `more_than_zero`)."""
        try:
            amount = parse_amount(amount_field.data or "", currency)
        except MoneyError as exc:
            amount_field.errors = [*amount_field.errors, str(exc)]
            return None
        if more_than_zero and amount == 0:
            amount_field.errors = [*amount_field.errors, "the amount must be more than zero"]
            return None
        return amount


def currency_error(field) -> bool:
    """Add an error to a currency field that is not ISO 4217; True if it was bad."""
    try:
        field.data = check_currency(field.data or "")
    except MoneyError as exc:
        field.errors = [*field.errors, str(exc)]
        return True
    return False


def new_request_key() -> str:
    """A fresh key that makes one submitted form post once."""
    return uuid.uuid4().hex


def request_key_field() -> HiddenField:
    """A hidden key, fresh for each form shown, that makes one submission post once."""
    return HiddenField(default=new_request_key, validators=[
        DataRequired(), Regexp(r"^[A-Za-z0-9_-]{1,64}$", message="The form is damaged; reload it")])


def percent_to_bp(field) -> int | None:
    """A percentage field (Decimal) to whole basis points, or None after a field error."""
    value = field.data
    if value is None:
        return None
    bp = value * 100
    if bp != bp.to_integral_value():
        field.errors = [*field.errors, "use at most two decimals (like 7.25)"]
        return None
    return int(bp)

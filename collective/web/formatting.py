"""Words, numbers, days and months for people, through Babel: "3 hours", "Aug 2026",
"Aug 5, 2026", "1,250". Templates reach these as filters (templates.py); the charts use them
for their labels. English for now: every function takes the locale, so a translation only
has to pass another one."""
from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_compact_decimal, format_decimal

LOCALE = "en_US"

_MONTH = re.compile(r"^(\d{4})-(\d{2})(?:-\d{2})?$")


def number(value: int | float | Decimal, locale: str = LOCALE) -> str:
    """A number with the locale's separators: 1250 -> '1,250', 2.5 -> '2.5'."""
    return format_decimal(value, locale=locale)


def compact(value: int | float | Decimal, locale: str = LOCALE) -> str:
    """A number shortened for a tight space: 1665 -> '1.7K', 1250000 -> '1.2M', 33.75 -> '34'."""
    return format_compact_decimal(round(value), format_type="short", locale=locale,
                                  fraction_digits=1)


def plural(count: int | float | Decimal, singular: str, plural_word: str | None = None,
           locale: str = LOCALE) -> str:
    """A count with its noun in the right form, by the locale's plural rules:
    1 -> '1 hour', 3 -> '3 hours', 1.5 -> '1.5 hours'."""
    form = Locale.parse(locale).plural_form(count)
    word = singular if form == "one" else (plural_word or singular + "s")
    return f"{number(count, locale)} {word}"


def as_month(value: date | str) -> date:
    """A month given as a date or as 'YYYY-MM' (or 'YYYY-MM-DD'), as its first day."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.replace(day=1)
    match = _MONTH.match(str(value))
    if match is None:
        raise ValueError(f"not a month: {value!r}")
    return date(int(match.group(1)), int(match.group(2)), 1)


def month_label(value: date | str | None, locale: str = LOCALE) -> str:
    """A month as people write it: '2026-08' -> 'Aug 2026'. Text that is not a month is
    returned unchanged, so a chart label such as 'Year 1' passes through."""
    if value is None or value == "":
        return ""
    try:
        month = as_month(value)
    except ValueError:
        return str(value)
    return format_date(month, "MMM y", locale=locale)


def month_name(value: date | str | None, locale: str = LOCALE) -> str:
    """A month with its name written out: 'August 2026'."""
    if value is None or value == "":
        return ""
    return format_date(as_month(value), "MMMM y", locale=locale)


def day_label(value: date | str | None, locale: str = LOCALE) -> str:
    """A calendar day (a date, or ISO text as a stored proposal keeps it): 'Aug 5, 2026'."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value)
    if isinstance(value, datetime):
        value = value.date()
    return format_date(value, "medium", locale=locale)



#: A spreadsheet treats text starting with these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: str) -> str:
    """Text a spreadsheet opens as text: a leading formula character gets a quote before
    it (a member named '=HYPERLINK(...)' stays a name). Every CSV the app writes uses it."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value

"""Setting, loading and looking up reference exchange rates; converting with them.

A rate stands from its day until a later one for the same pair. A pair known only the other
way round (USD→EUR when EUR→USD is kept) is used inverted, exactly. Conversion is exact
(money.convert: integer minor units, round half to even)."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from fractions import Fraction

import sqlalchemy as sa

from collective.errors import DomainError
from collective.exchange.models import ExchangeRate
from collective.extensions import db
from collective.money import MoneyError, check_currency, convert

#: Decimal places a rate may have (the ECB publishes at most 4; 10 leaves room).
MAX_RATE_PLACES = 10
#: Digits before the point a rate may have.
MAX_RATE_WHOLE_DIGITS = 12


@dataclass(frozen=True)
class Quote:
    """The rate that turns `source` amounts into `target` ones, and the stored rate it
    comes from (which may be the other way round)."""

    source: str
    target: str
    #: Units of `target` for one of `source`, exact.
    factor: Fraction
    stored: ExchangeRate

    def convert(self, amount: int) -> int:
        """`amount` minor units of `source` in minor units of `target`."""
        return convert(amount, self.source, self.target, self.factor)

    def describe(self) -> str:
        """'1 EUR = 1.0842 USD as of 2026-11-01', as the rate was set."""
        rate = self.stored
        return f"1 {rate.base} = {rate.rate_text} {rate.quote} as of {rate.as_of.isoformat()}"


def parse_rate(text: str) -> Decimal:
    """The rate in `text` as a Decimal: positive, at most MAX_RATE_PLACES decimal places;
    DomainError (field 'rate') otherwise."""
    cleaned = (text or "").strip()
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise DomainError(f"{text!r} is not a number (write it like 1.0842)",
                          field="rate") from None
    if not value.is_finite() or value <= 0:
        raise DomainError("a rate is a number above zero", field="rate")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > MAX_RATE_PLACES:
        raise DomainError(f"a rate has at most {MAX_RATE_PLACES} decimal places",
                          field="rate")
    if value.adjusted() >= MAX_RATE_WHOLE_DIGITS:
        raise DomainError("that rate is too large", field="rate")
    return value


def _currency(code: str, field: str) -> str:
    try:
        return check_currency(code)
    except MoneyError as exc:
        raise DomainError(str(exc), field=field) from None


def set_rate(base: str, quote: str, rate: str, as_of: date, *, source: str = "cli"
             ) -> ExchangeRate:
    """Set the rate of one `base` in `quote` on `as_of` (replacing that day's, if any)."""
    base, quote = _currency(base, "base"), _currency(quote, "quote")
    if base == quote:
        raise DomainError("a rate is between two different currencies", field="quote")
    value = parse_rate(rate)
    found = db.session.scalar(sa.select(ExchangeRate).filter_by(base=base, quote=quote,
                                                                as_of=as_of))
    if found is None:
        found = ExchangeRate(base=base, quote=quote, as_of=as_of)
        db.session.add(found)
    found.rate_text, found.source = str(value), source[:120]
    db.session.flush()
    return found


def _csv_day(text: str) -> date:
    text = text.strip()
    for pattern in ("%Y-%m-%d", "%d %B %Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise DomainError(f"{text!r} is not a date (2026-11-01 or 01 November 2026)",
                      field="file")


def load_csv(text: str, *, base: str = "EUR", source: str = "csv") -> int:
    """Load a table of rates: a header 'Date, USD, JPY, ...' and a row per day of how many
    of each currency one `base` is worth, as the ECB's reference rates files have it (the
    day's file and the history). Empty and 'N/A' cells and currencies no longer in use are
    skipped. Returns how many rates were set; nothing is set if a row is wrong."""
    base = _currency(base, "base")
    rows = [row for row in csv.reader(io.StringIO(text)) if any(c.strip() for c in row)]
    if not rows or rows[0][0].strip().lower() != "date":
        raise DomainError("the file starts with a header row: Date, then currency codes",
                          field="file")
    header = [cell.strip().upper() for cell in rows[0]]
    count = 0
    for row in rows[1:]:
        day = _csv_day(row[0])
        for code, cell in zip(header[1:], row[1:], strict=False):
            cell = cell.strip()
            if not code or not cell or cell.upper() == "N/A" or code == base:
                continue
            try:
                check_currency(code)
            except MoneyError:
                continue  # a currency since replaced (the history has a few)
            set_rate(base, code, cell, day, source=source)
            count += 1
    return count


def quotes_for(pairs: Iterable[tuple[str, str]], on: date) -> dict[tuple[str, str], Quote]:
    """The latest rate on or before `on` for each (source, target) pair that has one, kept
    either way round (the later day wins; on the same day the pair as asked), in one query."""
    wanted = {(s, t) for s, t in pairs if s != t}
    if not wanted:
        return {}
    codes = sorted({c for pair in wanted for c in pair})
    latest = (sa.select(ExchangeRate.base, ExchangeRate.quote,
                        sa.func.max(ExchangeRate.as_of).label("as_of"))
              .where(ExchangeRate.base.in_(codes), ExchangeRate.quote.in_(codes),
                     ExchangeRate.as_of <= on)
              .group_by(ExchangeRate.base, ExchangeRate.quote).subquery())
    rates = db.session.scalars(
        sa.select(ExchangeRate).join(latest, sa.and_(
            latest.c.base == ExchangeRate.base, latest.c.quote == ExchangeRate.quote,
            latest.c.as_of == ExchangeRate.as_of))).all()
    stored = {(r.base, r.quote): r for r in rates}
    found: dict[tuple[str, str], Quote] = {}
    for source, target in wanted:
        direct, inverse = stored.get((source, target)), stored.get((target, source))
        if direct is not None and (inverse is None or direct.as_of >= inverse.as_of):
            found[(source, target)] = Quote(source, target, Fraction(direct.rate), direct)
        elif inverse is not None:
            found[(source, target)] = Quote(source, target, 1 / Fraction(inverse.rate),
                                            inverse)
    return found

"""Money as integer minor units plus an ISO 4217 currency; exact parsing and splitting.

Nothing here imports from the rest of `collective`: every other package builds on it.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from numbers import Rational

from babel.core import get_global
from babel.numbers import format_currency, get_currency_precision, get_territory_currencies

#: Largest amount, in minor units, that any form or API accepts (10^15).
MAX_MINOR_UNITS = 10**15


class MoneyError(ValueError):
    """An amount, currency or split request that cannot be honoured."""


class UnknownCurrency(MoneyError):
    """A code that is not a current ISO 4217 currency."""


class SplitError(MoneyError):
    """Weights that cannot divide an amount."""


@lru_cache(maxsize=1)
def currency_codes() -> frozenset[str]:
    """ISO 4217 codes legal tender somewhere today, from CLDR's territory data (via Babel)."""
    today = date.today()
    codes: set[str] = set()
    for territory in get_global("territory_currencies"):
        codes.update(get_territory_currencies(territory, today))
    return frozenset(codes)


def check_currency(code: str) -> str:
    """Return the upper-cased code, or raise UnknownCurrency."""
    normalised = (code or "").strip().upper()
    if normalised not in currency_codes():
        raise UnknownCurrency(f"{code!r} is not an ISO 4217 currency code")
    return normalised


def minor_digits(currency: str) -> int:
    """Number of decimal places of the currency's minor unit (USD 2, JPY 0, BHD 3)."""
    return get_currency_precision(check_currency(currency))


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount: integer minor units and a currency code."""

    amount: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise MoneyError(
                f"amount must be an integer number of minor units, not {self.amount!r}"
            )
        object.__setattr__(self, "currency", check_currency(self.currency))

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def _same_currency(self, other: Money) -> None:
        if not isinstance(other, Money) or other.currency != self.currency:
            raise MoneyError(f"cannot combine {self.currency} with {other!r}")

    @property
    def decimal(self) -> Decimal:
        """The amount in major units, exactly."""
        return to_decimal(self.amount, self.currency)

    def __str__(self) -> str:
        return format_money(self.amount, self.currency)


def to_decimal(amount: int, currency: str) -> Decimal:
    """Minor units to an exact Decimal in major units."""
    return Decimal(amount).scaleb(-minor_digits(currency))


def format_money(amount: int, currency: str, locale: str = "en_US") -> str:
    """Human-readable amount with the currency symbol, e.g. 'A$1,234.50'."""
    return format_currency(to_decimal(amount, currency), currency, locale=locale)


def format_plain(amount: int, currency: str) -> str:
    """Amount in major units with thousands separators and no symbol, e.g. '1,234.50'."""
    digits = minor_digits(currency)
    return f"{to_decimal(amount, currency):,.{digits}f}"


_AMOUNT = re.compile(
    r"""^(?P<sign>-)?
        (?P<int>\d{1,3}(?:,\d{3})+|\d+)?
        (?:\.(?P<frac>\d+))?$""",
    re.VERBOSE,
)


def parse_amount(text: str, currency: str, *, allow_negative: bool = False) -> int:
    """Parse '1,234.56' or '1234.5' into exact minor units of `currency`.

    Raises MoneyError with a message fit to show a person for anything else: letters,
    exponents, NaN, infinity, more decimals than the currency has, or an amount larger
    than MAX_MINOR_UNITS.
    """
    digits = minor_digits(currency)
    raw = (text or "").strip()
    match = _AMOUNT.match(raw)
    if not raw or not match or (match["int"] is None and match["frac"] is None):
        raise MoneyError(f"{raw or 'an empty value'!r} is not an amount; write it like 1234.50")
    if match["sign"] and not allow_negative:
        raise MoneyError("the amount must not be negative")
    frac = match["frac"] or ""
    if len(frac) > digits:
        if digits == 0:
            raise MoneyError(f"{currency} has no minor unit; enter a whole number")
        raise MoneyError(f"{currency} amounts have at most {digits} decimal places")
    whole = int((match["int"] or "0").replace(",", ""))
    amount = whole * 10**digits + int(frac.ljust(digits, "0") or "0")
    if amount > MAX_MINOR_UNITS:
        raise MoneyError("the amount is too large")
    return -amount if match["sign"] else amount


def _weight(value: object) -> Fraction:
    if isinstance(value, bool):
        raise SplitError("weights must be numbers, not booleans")
    if isinstance(value, Rational):
        return Fraction(int(value.numerator), int(value.denominator))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise SplitError(f"weight {value} is not a finite number")
        return Fraction(value)
    raise SplitError(
        f"weight {value!r} must be an int, Decimal or Fraction (floats are not exact)"
    )


def split(total: int, weights: Iterable[object]) -> list[int]:
    """Divide `total` minor units in proportion to `weights` by the largest remainder method.

    The parts are never negative, sum exactly to `total`, follow the order of `weights`,
    and a tie between equal remainders goes to the earlier position.
    """
    if isinstance(total, bool) or not isinstance(total, int):
        raise SplitError(f"total must be an integer number of minor units, not {total!r}")
    if total < 0:
        raise SplitError("cannot split a negative total")
    fractions = [_weight(w) for w in weights]
    if not fractions:
        raise SplitError("cannot split among nobody: the list of weights is empty")
    if any(w < 0 for w in fractions):
        raise SplitError("weights must not be negative")
    weight_sum = sum(fractions, Fraction(0))
    if weight_sum == 0:
        raise SplitError("cannot split by weights that add up to zero")
    quotas = [total * w / weight_sum for w in fractions]
    parts = [q.numerator // q.denominator for q in quotas]
    leftover = total - sum(parts)
    # Largest remainder first; equal remainders go to the earlier position.
    order = sorted(range(len(quotas)), key=lambda i: (-(quotas[i] - parts[i]), i))
    for i in order[:leftover]:
        parts[i] += 1
    return parts


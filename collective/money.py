"""Money as integer minor units plus an ISO 4217 currency; exact parsing and splitting.

Nothing here imports from the rest of `collective`: every other package builds on it.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from itertools import groupby
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
    re.VERBOSE | re.ASCII,
)


def check_ascii_digits(text: str) -> None:
    """Raise MoneyError when `text` holds digits other than 0-9 (Arabic-Indic, full-width...).

    Python's int(), Decimal() and a regular expression's \\d all read any script's digits,
    so '١٢٣' would silently be 123; Collective reads the digits 0-9 only.
    """
    if any(ch.isdigit() and not ("0" <= ch <= "9") for ch in text or ""):
        raise MoneyError("write numbers with the digits 0-9")


def parse_amount(text: str, currency: str, *, allow_negative: bool = False) -> int:
    """Parse '1,234.56' or '1234.5' into exact minor units of `currency`.

    Raises MoneyError with a message fit to show a person for anything else: letters,
    exponents, NaN, infinity, more decimals than the currency has, or an amount larger
    than MAX_MINOR_UNITS.
    """
    digits = minor_digits(currency)
    raw = (text or "").strip()
    check_ascii_digits(raw)
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


def convert(amount: int, from_currency: str, to_currency: str, rate: Decimal | Fraction
            ) -> int:
    """Minor units of `from_currency` in minor units of `to_currency` at `rate` (units of
    `to_currency` for one of `from_currency`), computed exactly and rounded half to even."""
    if isinstance(rate, Decimal) and not rate.is_finite():
        raise MoneyError(f"rate {rate} is not a finite number")
    shift = minor_digits(to_currency) - minor_digits(from_currency)
    # Fraction is exact, and round() of a Fraction rounds half to even.
    return round(Fraction(amount) * Fraction(rate) * Fraction(10) ** shift)


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


def split(total: int, weights: Iterable[object], *, seed: int = 0) -> list[int]:
    """Divide `total` minor units in proportion to `weights` by the largest remainder method.

    The parts are never negative, sum exactly to `total` and follow the order of `weights`.
    Equal remainders are a tie, and `seed` decides who gets the units left over: within a
    tied group of k positions that shares m units, the seed-th split starts at position
    seed * m (mod k) of the group, so splits with consecutive seeds deal the tie's units
    round the group in turn, each one starting where the one before stopped. Over any run
    of such splits of the same amount, every position of the group gets its units within
    one of the others, whoever is listed first. Seed 0 gives ties to the earlier positions.
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise SplitError(f"the seed must be an integer, not {seed!r}")
    return _largest_remainder(total, weights, lambda shared: seed * shared)[0]


def split_capped(total: int, weights: Sequence[object], caps: Sequence[int], *,
                 seed: int = 0) -> list[int]:
    """`split`, with no part above its cap: a position that would get more than its cap gets
    the cap, and the rest is split again among the others by their weights, until nobody is
    over. The parts add up to `total`, or to the caps of the positions with a weight when
    those are smaller. Ties are dealt by `seed` as in `split`."""
    if len(weights) != len(caps):
        raise SplitError("give one cap for each weight")
    fractions = [_weight(w) for w in weights]
    room = [max(int(c), 0) for c in caps]
    parts = [0] * len(room)
    open_ = [i for i, w in enumerate(fractions) if w > 0 and room[i] > 0]
    remaining = min(int(total), sum(room[i] for i in open_))
    while remaining and open_:
        shares = split(remaining, [fractions[i] for i in open_], seed=seed)
        full = [i for i, share in zip(open_, shares, strict=True) if share >= room[i]]
        if not full:
            for i, share in zip(open_, shares, strict=True):
                parts[i] += share
            break
        for i in full:
            parts[i] += room[i]
            remaining -= room[i]
        open_ = [i for i in open_ if i not in full]
    return parts


def split_after(total: int, weights: Iterable[object], *, dealt: int) -> list[int]:
    """`split`, with a tie's units dealt from position `dealt` (mod k) of the tied group:
    the caller counts the tie units it dealt before (`tie_units`) and goes on from there."""
    if isinstance(dealt, bool) or not isinstance(dealt, int):
        raise SplitError(f"the count dealt must be an integer, not {dealt!r}")
    return _largest_remainder(total, weights, lambda shared: dealt)[0]


def tie_units(total: int, weights: Iterable[object]) -> int:
    """How many units of `split(total, weights)` go to only some of a tied group (0 when
    nothing is tied)."""
    return _largest_remainder(total, weights, lambda shared: 0)[1]


def _largest_remainder(total: int, weights: Iterable[object],
                       start: Callable[[int], int]) -> tuple[list[int], int]:
    """The parts, and the units shared within a tied group; `start(units)` says where in
    the group they start."""
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
    remainders = [q - p for q, p in zip(quotas, parts, strict=True)]
    by_remainder = sorted(range(len(quotas)), key=lambda i: (-remainders[i], i))
    for _, tied in groupby(by_remainder, key=lambda i: remainders[i]):
        if leftover == 0:
            break
        group = list(tied)
        if len(group) > leftover:
            # The one group that shares units: deal them round it from the start given.
            first = start(leftover) % len(group)
            for j in range(leftover):
                parts[group[(first + j) % len(group)]] += 1
            return parts, leftover
        for i in group:
            parts[i] += 1
        leftover -= len(group)
    return parts, 0

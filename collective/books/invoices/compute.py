"""An invoice's numbers, with no database: line amounts, tax, totals, the base-currency
parts an entry posts, and the aging buckets. Integer minor units throughout."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

from collective.money import split


@dataclass(frozen=True, slots=True)
class LineAmounts:
    """What one line comes to: quantity x unit price, and its tax (rounded half up)."""

    net: int
    tax: int
    tax_rate_id: int | None


def line_amounts(quantity: Decimal, unit_price: int, tax_bp: int | None,
                 tax_rate_id: int | None = None) -> LineAmounts:
    """The net of a line, rounded half up to the minor unit, and its tax."""
    net = int((Decimal(quantity) * unit_price).to_integral_value(rounding=ROUND_HALF_UP))
    tax = 0
    if tax_bp:
        tax = int((Decimal(net) * tax_bp / 10_000).to_integral_value(rounding=ROUND_HALF_UP))
    return LineAmounts(net, tax, tax_rate_id if tax_bp else None)


@dataclass(frozen=True)
class Totals:
    """An invoice's totals in its own currency; `taxes` is tax rate id -> tax."""

    net: int
    taxes: dict[int, int] = field(default_factory=dict)

    @property
    def tax(self) -> int:
        """All the tax."""
        return sum(self.taxes.values())

    @property
    def gross(self) -> int:
        """What the client owes."""
        return self.net + self.tax


def totals(lines: Iterable[LineAmounts]) -> Totals:
    """Add up the lines; tax is summed per tax rate."""
    net, taxes = 0, {}
    for line in lines:
        net += line.net
        if line.tax_rate_id is not None and line.tax:
            taxes[line.tax_rate_id] = taxes.get(line.tax_rate_id, 0) + line.tax
    return Totals(net, taxes)


def to_base(amount: int, currency_digits: int, rate: Decimal, base_digits: int) -> int:
    """Minor units of the invoice's currency to minor units of the base, half to even (as
    client payments convert)."""
    exact = Decimal(amount) * rate * Decimal(10) ** (base_digits - currency_digits)
    return int(exact.to_integral_value(rounding=ROUND_HALF_EVEN))


def proportional_parts(total: int, weights: Sequence[int]) -> list[int]:
    """`total` divided like `weights` (net first, then each tax), summing exactly to it."""
    if total == 0 or not any(weights):
        return [total, *([0] * (len(weights) - 1))]
    return split(total, weights)


#: (label, first day past due, last day past due); None is open-ended.
BUCKETS: tuple[tuple[str, int | None, int | None], ...] = (
    ("current", None, 0),
    ("1-30", 1, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("over 90", 91, None),
)


def bucket_of(due_on: date, as_of: date) -> str:
    """The aging bucket of an amount due on `due_on`, seen on `as_of`."""
    late = (as_of - due_on).days
    for label, first, last in BUCKETS:
        if (first is None or late >= first) and (last is None or late <= last):
            return label
    raise AssertionError("the buckets cover every day")  # pragma: no cover


def aging(rows: Iterable[tuple[str, date, int]], as_of: date) -> list[dict]:
    """Per client (name, due date, open amount) rows to one row per client with an amount
    per bucket and a total, by client name; the last row is the total of all clients."""
    by_client: dict[str, dict] = {}
    for client, due_on, amount in rows:
        if amount == 0:
            continue
        row = by_client.setdefault(client, {"client": client, **{b[0]: 0 for b in BUCKETS},
                                            "total": 0})
        row[bucket_of(due_on, as_of)] += amount
        row["total"] += amount
    result = [by_client[name] for name in sorted(by_client, key=str.casefold)]
    total = {"client": "All clients", **{b[0]: sum(r[b[0]] for r in result) for b in BUCKETS},
             "total": sum(r["total"] for r in result)}
    return [*result, total]

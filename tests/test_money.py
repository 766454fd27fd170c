"""Money: exact parsing per currency and the largest remainder split."""
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collective.money import (
    MAX_MINOR_UNITS,
    Money,
    MoneyError,
    SplitError,
    UnknownCurrency,
    format_money,
    minor_digits,
    parse_amount,
    split,
)

weights_strategy = st.lists(
    st.integers(min_value=0, max_value=10**6), min_size=1, max_size=40
).filter(lambda ws: sum(ws) > 0)


@given(total=st.integers(min_value=0, max_value=10**15), weights=weights_strategy)
def test_split_parts_sum_to_total_and_are_never_negative(total, weights):
    parts = split(total, weights)
    assert sum(parts) == total
    assert len(parts) == len(weights)
    assert all(p >= 0 for p in parts)


@given(total=st.integers(min_value=0, max_value=10**12), weights=weights_strategy)
def test_split_parts_are_within_one_unit_of_the_exact_quota(total, weights):
    parts = split(total, weights)
    weight_sum = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        quota = Fraction(total * weight, weight_sum)
        assert quota - 1 < part < quota + 1
        if weight == 0:
            assert part == 0


@given(total=st.integers(min_value=0, max_value=10**9), weights=weights_strategy)
def test_split_is_deterministic(total, weights):
    assert split(total, weights) == split(total, list(weights))


@given(total=st.integers(min_value=0, max_value=10**9), n=st.integers(min_value=1, max_value=50))
def test_equal_weights_give_earlier_positions_the_extra_units(total, n):
    parts = split(total, [1] * n)
    assert parts == sorted(parts, reverse=True)
    assert max(parts) - min(parts) <= 1


@pytest.mark.parametrize(
    ("total", "weights", "expected"),
    [
        (100, [1, 1, 1], [34, 33, 33]),
        (10, [1, 1, 1], [4, 3, 3]),
        (11, [1, 1, 1], [4, 4, 3]),
        (0, [1, 2], [0, 0]),
        (1, [1, 1], [1, 0]),
        (100, [0, 1], [0, 100]),
        # quotas 14.2857.., 28.5714.., 57.1428..: remainders .29, .57, .14 -> second gets it
        (100, [1, 2, 4], [14, 29, 57]),
        # Hamilton's classic: 10 seats, votes 44/33/23 -> quotas 4.4, 3.3, 2.3
        (10, [44, 33, 23], [5, 3, 2]),
        (1000, [Decimal("7.5"), Decimal("2.5")], [750, 250]),
        (5, [Fraction(1, 3), Fraction(2, 3)], [2, 3]),
        # quotas 30864.25, 24691.4, 18518.55, 12345.7, 37037.1: the .7 and .55 get the 2 left over
        (123457, [25, 20, 15, 10, 30], [30864, 24691, 18519, 12346, 37037]),
    ],
)
def test_split_known_examples(total, weights, expected):
    assert split(total, weights) == expected


@pytest.mark.parametrize(
    ("total", "weights", "message"),
    [
        (100, [], "empty"),
        (100, [0, 0], "zero"),
        (100, [1, -1, 2], "negative"),
        (-5, [1, 1], "negative total"),
        (100, [0.5, 0.5], "floats"),
        (100, [True, False], "booleans"),
        (1.5, [1], "integer"),
        (100, [Decimal("NaN")], "finite"),
    ],
)
def test_split_refuses_bad_input_clearly(total, weights, message):
    with pytest.raises(SplitError, match=message):
        split(total, weights)


@pytest.mark.parametrize(
    ("text", "currency", "expected"),
    [
        ("1,234.56", "USD", 123456),
        ("1234.5", "USD", 123450),
        ("1234", "USD", 123400),
        (" 0.01 ", "USD", 1),
        ("1,234", "JPY", 1234),
        ("1234.567", "BHD", 1234567),
        ("1234.5", "BHD", 1234500),
        ("12,345,678.90", "EUR", 1234567890),
        ("0", "USD", 0),
        ("10000000000000.00", "USD", MAX_MINOR_UNITS),
    ],
)
def test_parse_amount_gives_exact_minor_units(text, currency, expected):
    assert parse_amount(text, currency) == expected


@pytest.mark.parametrize(
    ("text", "currency", "message"),
    [
        ("1234.567", "USD", "at most 2 decimal places"),
        ("12.5", "JPY", "whole number"),
        ("1.2345", "BHD", "at most 3"),
        ("abc", "USD", "not an amount"),
        ("12a", "USD", "not an amount"),
        ("NaN", "USD", "not an amount"),
        ("nan", "USD", "not an amount"),
        ("inf", "USD", "not an amount"),
        ("Infinity", "USD", "not an amount"),
        ("1e5", "USD", "not an amount"),
        ("", "USD", "not an amount"),
        ("  ", "USD", "not an amount"),
        ("1,23.00", "USD", "not an amount"),
        ("12,34", "USD", "not an amount"),
        ("1.000.000", "USD", "not an amount"),
        ("-5", "USD", "negative"),
        ("10000000000000.01", "USD", "too large"),
        ("99999999999999999999", "JPY", "too large"),
        ("5", "XYZ", "not an ISO 4217"),
        ("5", "DEM", "not an ISO 4217"),
    ],
)
def test_parse_amount_refuses_bad_input(text, currency, message):
    with pytest.raises(MoneyError, match=message):
        parse_amount(text, currency)


def test_negative_amounts_parse_only_when_allowed():
    assert parse_amount("-12.30", "USD", allow_negative=True) == -1230


@pytest.mark.parametrize(("currency", "digits"), [("USD", 2), ("JPY", 0), ("BHD", 3), ("PHP", 2),
                                                  ("INR", 2), ("KWD", 3), ("CLP", 0)])
def test_minor_digits_come_from_cldr(currency, digits):
    assert minor_digits(currency) == digits


def test_money_refuses_floats_and_mixed_currencies():
    with pytest.raises(MoneyError):
        Money(1.5, "USD")
    with pytest.raises(UnknownCurrency):
        Money(1, "ABC")
    with pytest.raises(MoneyError, match="cannot combine"):
        Money(1, "USD") + Money(1, "EUR")
    assert Money(150, "usd") + Money(250, "USD") == Money(400, "USD")


def test_format_money_uses_the_currency_digits():
    assert format_money(123456, "USD") == "$1,234.56"
    assert format_money(1234, "JPY") == "¥1,234"
    assert format_money(1234567, "BHD").endswith("1,234.567")

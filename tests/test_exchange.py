"""Reference exchange rates: setting them, loading the ECB's files, looking them up either
way round, and exact conversion (integer minor units, round half to even)."""
from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collective.errors import DomainError
from collective.exchange import rates
from collective.exchange.models import ExchangeRate
from collective.extensions import db
from collective.money import convert

amounts = st.integers(min_value=-10**15, max_value=10**15)
rate_texts = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("99999"), places=4,
                         allow_nan=False, allow_infinity=False)


def _exact(amount: int, rate: Decimal, shift: int) -> int:
    """The same conversion worked in Decimal with room for every digit."""
    with localcontext() as ctx:
        ctx.prec = 60
        value = Decimal(amount) * rate * Decimal(10) ** shift
        return int(value.to_integral_value(rounding=ROUND_HALF_EVEN))


@given(amounts, rate_texts)
def test_conversion_is_the_exact_product_rounded_half_to_even(amount, rate):
    assert convert(amount, "EUR", "USD", rate) == _exact(amount, rate, 0)
    assert convert(amount, "USD", "JPY", rate) == _exact(amount, rate, -2)  # JPY: no cents
    assert convert(amount, "JPY", "BHD", rate) == _exact(amount, rate, 3)   # BHD: 3 places


@given(st.integers(min_value=0, max_value=10**12))
def test_a_rate_of_one_changes_nothing_and_halves_go_to_the_even_unit(amount):
    assert convert(amount, "EUR", "USD", Decimal("1")) == amount
    assert convert(2 * amount + 1, "EUR", "USD", Decimal("0.5")) == (
        amount if amount % 2 == 0 else amount + 1)


def test_hand_checked_conversions():
    assert convert(45_000, "EUR", "USD", Decimal("1.0842")) == 48_789  # 450.00 -> 487.89
    assert convert(1, "EUR", "USD", Decimal("0.5")) == 0                # 0.5 -> 0 (even)
    assert convert(3, "EUR", "USD", Decimal("0.5")) == 2                # 1.5 -> 2 (even)
    assert convert(-3, "EUR", "USD", Decimal("0.5")) == -2
    assert convert(10_000, "USD", "JPY", Decimal("151.235")) == 15_124  # 100.00 USD -> ¥15,124


@given(amounts, rate_texts)
def test_an_inverted_rate_is_exact_too(amount, rate):
    inverse = 1 / Fraction(rate)
    expected = round(Fraction(amount) / Fraction(rate))
    assert convert(amount, "USD", "EUR", inverse) == expected


def test_set_rate_keeps_the_text_and_replaces_the_days_rate(ctx):
    first = rates.set_rate("eur", "usd", "1.0842", date(2026, 11, 1))
    again = rates.set_rate("EUR", "USD", "1.0850", date(2026, 11, 1))
    assert first is again and again.rate_text == "1.0850" and again.rate == Decimal("1.0850")
    assert db.session.query(ExchangeRate).count() == 1


@pytest.mark.parametrize("args, field", [
    (("EUR", "USD", "abc"), "rate"), (("EUR", "USD", "0"), "rate"),
    (("EUR", "USD", "-1.2"), "rate"), (("EUR", "USD", "NaN"), "rate"),
    (("EUR", "USD", "1.00000000001"), "rate"), (("EUR", "USD", "1e20"), "rate"),
    (("EUR", "XXZ", "1.1"), "quote"), (("EUR", "EUR", "1"), "quote"),
    (("QQQ", "USD", "1.1"), "base"),
])
def test_bad_rates_are_refused_naming_the_field(ctx, args, field):
    with pytest.raises(DomainError) as refused:
        rates.set_rate(*args, date(2026, 11, 1))
    assert refused.value.field == field


def test_the_latest_rate_up_to_the_day_is_used_either_way_round(ctx):
    rates.set_rate("EUR", "USD", "1.05", date(2026, 10, 1))
    rates.set_rate("EUR", "USD", "1.0842", date(2026, 11, 1))
    rates.set_rate("EUR", "USD", "1.2", date(2026, 12, 1))
    rates.set_rate("USD", "PHP", "58.5", date(2026, 11, 20))
    found = rates.quotes_for({("EUR", "USD"), ("USD", "EUR"), ("PHP", "USD"),
                              ("GBP", "USD"), ("USD", "USD")}, date(2026, 11, 26))
    assert set(found) == {("EUR", "USD"), ("USD", "EUR"), ("PHP", "USD")}
    assert found[("EUR", "USD")].describe() == "1 EUR = 1.0842 USD as of 2026-11-01"
    assert found[("EUR", "USD")].convert(45_000) == 48_789
    assert found[("USD", "EUR")].describe() == "1 EUR = 1.0842 USD as of 2026-11-01"
    assert found[("USD", "EUR")].convert(48_789) == 45_000
    assert found[("PHP", "USD")].convert(585_000) == 10_000  # 5,850.00 PHP = 100.00 USD
    # A pair kept both ways: the later day wins.
    rates.set_rate("USD", "EUR", "0.9", date(2026, 11, 15))
    assert rates.quotes_for([("EUR", "USD")], date(2026, 11, 26))[
        ("EUR", "USD")].describe() == "1 USD = 0.9 EUR as of 2026-11-15"


ECB_DAY = """Date, USD, JPY, BGN, CYP, PHP, ISK,
26 November 2026, 1.0842, 161.23, 1.9558, N/A, 63.412, ,
"""
ECB_HISTORY = """Date,USD,JPY,CYP,PHP,
2026-11-26,1.0842,161.23,N/A,63.412,
2026-11-25,1.0810,160.90,N/A,63.100,
"""


def test_the_ecbs_files_load(ctx):
    # USD, JPY and PHP: BGN is no longer in use (Bulgaria took the euro), CYP neither.
    assert rates.load_csv(ECB_DAY, source="eurofxref.csv") == 3
    assert rates.load_csv(ECB_HISTORY, source="eurofxref-hist.csv") == 6
    found = rates.quotes_for([("EUR", "PHP"), ("EUR", "JPY")], date(2026, 11, 25))
    assert found[("EUR", "PHP")].stored.rate_text == "63.100"
    assert found[("EUR", "JPY")].describe() == "1 EUR = 160.90 JPY as of 2026-11-25"


def test_a_file_with_a_wrong_row_sets_nothing(app, runner, tmp_path, db_session):
    bad = tmp_path / "rates.csv"
    bad.write_text("Date,USD,JPY\n2026-11-26,1.0842,161.23\n2026-11-25,1.08,lots\n")
    result = runner.invoke(args=["rates", "load", str(bad)])
    assert result.exit_code == 1 and "error (rate)" in result.output
    with app.app_context():
        assert db.session.query(ExchangeRate).count() == 0


def test_the_commands_set_and_load_rates(app, runner, tmp_path, db_session):
    result = runner.invoke(args=["rates", "set", "EUR", "USD", "1.0842", "--on", "2026-11-01"])
    assert result.exit_code == 0, result.output
    assert "rate set: 1 EUR = 1.0842 USD as of 2026-11-01" in result.output
    refused = runner.invoke(args=["rates", "set", "EUR", "USD", "lots"])
    assert refused.exit_code == 1 and "error (rate)" in refused.output
    day = tmp_path / "eurofxref.csv"
    day.write_text(ECB_DAY)
    loaded = runner.invoke(args=["rates", "load", str(day)])
    assert loaded.exit_code == 0 and "3 rates loaded from eurofxref.csv" in loaded.output
    with app.app_context():
        assert {(r.base, r.quote, r.rate_text, r.as_of) for r in db.session.query(
            ExchangeRate).filter_by(quote="USD")} == {
            ("EUR", "USD", "1.0842", date(2026, 11, 1)),
            ("EUR", "USD", "1.0842", date(2026, 11, 26))}

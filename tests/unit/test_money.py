from decimal import Decimal

import pytest

from vrm_dashboard.domain.money import Money, MoneyError, exponent, format_money, to_major_string


def test_exponents_follow_iso_4217():
    assert (exponent("EUR"), exponent("JPY"), exponent("BHD")) == (2, 0, 3)


def test_parse_is_exact_and_respects_the_currency_exponent():
    assert Money.parse("1234.56", "EUR").minor == 123456
    assert Money.parse("0.1", "EUR") + Money.parse("0.2", "EUR") == Money.parse("0.3", "EUR")
    assert Money.parse("1235", "JPY").minor == 1235
    assert Money.parse("1.234", "BHD").minor == 1234
    with pytest.raises(MoneyError, match="at most 0 decimal places"):
        Money.parse("12.5", "JPY")
    with pytest.raises(MoneyError, match="at most 2 decimal places"):
        Money.parse("1.005", "EUR")


def test_floats_and_unknown_currencies_are_refused():
    with pytest.raises(MoneyError):
        Money(1.5, "EUR")  # type: ignore[arg-type]
    with pytest.raises(MoneyError):
        Money.parse(1.5, "EUR")  # type: ignore[arg-type]
    with pytest.raises(MoneyError, match="Unknown currency"):
        Money(100, "EUX")


def test_different_currencies_never_add_up():
    with pytest.raises(MoneyError, match="cannot combine EUR with USD"):
        Money(1, "EUR") + Money(1, "USD")


def test_formatting_for_people():
    assert format_money(123456, "EUR") == "€1,234.56"
    assert format_money(1235, "JPY") == "¥1,235"
    assert format_money(1234, "BHD") == "BHD1.234"
    assert to_major_string(5, "EUR") == "0.05"
    assert Money(123456, "EUR").amount == Decimal("1234.56")

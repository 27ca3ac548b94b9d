"""Exact money: integer minor units with an ISO 4217 currency.

A currency's exponent (JPY 0, EUR 2, BHD 3) comes from CLDR through babel, so the same
amount is stored, compared and shown the same way everywhere. No float touches an amount.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from babel.numbers import format_currency, get_currency_precision, list_currencies


class MoneyError(ValueError):
    """An amount or currency that cannot be used as money."""


@lru_cache(maxsize=1)
def _known_currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def check_currency(code: str) -> str:
    """Return the upper-cased ISO 4217 code, or raise MoneyError for an unknown one."""
    normalized = (code or "").strip().upper()
    if len(normalized) != 3 or normalized not in _known_currencies():
        raise MoneyError(f"Unknown currency {code!r}: use an ISO 4217 code such as EUR or USD")
    return normalized


@lru_cache(maxsize=512)
def exponent(currency: str) -> int:
    """Digits after the decimal point for a currency (JPY 0, EUR 2, BHD 3)."""
    return get_currency_precision(check_currency(currency))


# Amounts are stored in bigint columns (up to 9.2e18 minor units). One amount that comes in is
# held far below that, so balances and totals adding up thousands of them still fit.
MAX_MINOR_UNITS = 10**15


def check_finite(value: Decimal, what: str = "The amount") -> Decimal:
    """`value` when it is a number an amount can be: finite (no NaN or Infinity), not so large
    that turning it into minor units could overflow (1E+999999) and not absurdly small
    (1E-20000); MoneyError otherwise."""
    if not value.is_finite():
        raise MoneyError(f"{what} {value} is not a number")
    if value and value.adjusted() >= 18:
        raise MoneyError(f"{what} {value} is too large to be an amount")
    # 1E-20000 is finite too, but no column stores it (PostgreSQL refuses it outright).
    if value and value.adjusted() < -18:
        raise MoneyError(f"{what} {value} is too small to be an amount")
    return value


def to_minor_units(amount: Decimal, currency: str, rounding: str = ROUND_HALF_UP, what: str = "The amount") -> int:
    """A major-unit amount in whole minor units of its currency, rounded, or MoneyError when it is
    not a finite number or is beyond MAX_MINOR_UNITS."""
    scaled = check_finite(amount, what).scaleb(exponent(currency)).quantize(Decimal(1), rounding=rounding)
    if abs(scaled) >= MAX_MINOR_UNITS:
        raise MoneyError(f"{what} {amount} {currency} is too large to be an amount")
    return int(scaled)


@dataclass(frozen=True, order=False)
class Money:
    minor: int
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.minor, int) or isinstance(self.minor, bool):
            raise MoneyError("Money holds whole minor units, never a float")
        object.__setattr__(self, "currency", check_currency(self.currency))

    @classmethod
    def parse(cls, text: str | int | Decimal, currency: str) -> "Money":
        """Money from a major-unit amount such as "1234.56"; refuses extra decimals."""
        places = exponent(currency)
        if isinstance(text, float):
            raise MoneyError("Amounts are never floats; pass a string or Decimal")
        try:
            value = check_finite(Decimal(str(text).strip().replace(",", "").replace(" ", "")))
        except InvalidOperation:
            raise MoneyError(f"{text!r} is not an amount") from None
        scaled = value.scaleb(places)
        if scaled != scaled.to_integral_value():
            raise MoneyError(f"{currency} amounts have at most {places} decimal places: {text!r}")
        if abs(scaled) >= MAX_MINOR_UNITS:
            raise MoneyError(f"{text!r} is too large to be an amount in {currency}")
        return cls(int(scaled), currency)

    @property
    def amount(self) -> Decimal:
        """The amount in major units, exact."""
        return Decimal(self.minor).scaleb(-exponent(self.currency))

    def __add__(self, other: "Money") -> "Money":
        self._same_currency(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: "Money") -> "Money":
        self._same_currency(other)
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> "Money":
        return Money(-self.minor, self.currency)

    def _same_currency(self, other: "Money") -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise MoneyError(f"cannot combine {self.currency} with {other.currency}")

    def format(self, locale: str = "en_US") -> str:
        """The amount as people read it, e.g. "€1,234.56" or "¥1,235"."""
        return format_money(self.minor, self.currency, locale)

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


def format_money(minor: int, currency: str, locale: str = "en_US") -> str:
    """Format integer minor units for people, with the currency's own exponent."""
    places = exponent(currency)
    value = Decimal(int(minor)).scaleb(-places)
    return format_currency(value, currency, locale=locale, currency_digits=True)


def to_major_string(minor: int, currency: str) -> str:
    """Plain major-unit text ("1234.56") for forms and exports."""
    places = exponent(currency)
    value = Decimal(int(minor)).scaleb(-places)
    return f"{value:.{places}f}"

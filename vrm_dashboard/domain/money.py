"""Exact money: integer minor units with an ISO 4217 currency.

A currency's exponent (JPY 0, EUR 2, BHD 3) comes from CLDR through babel, so the same
amount is stored, compared and shown the same way everywhere. No float touches an amount.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
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
            value = Decimal(str(text).strip().replace(",", "").replace(" ", ""))
        except InvalidOperation:
            raise MoneyError(f"{text!r} is not an amount") from None
        if not value.is_finite():
            raise MoneyError(f"{text!r} is not an amount")
        scaled = value.scaleb(places)
        if scaled != scaled.to_integral_value():
            raise MoneyError(f"{currency} amounts have at most {places} decimal places: {text!r}")
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

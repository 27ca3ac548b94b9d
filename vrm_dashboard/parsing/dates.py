"""Dates as printed on invoices: numeric (31.12.2026, 12/31/2026, 2026-12-31, 31-12-26) and
written out with month names in English, German, French, Dutch, Spanish, Italian and
Portuguese (month names from CLDR through babel)."""
from __future__ import annotations

import re
import unicodedata
from datetime import date
from functools import lru_cache

from babel.dates import get_month_names

LANGUAGES = ("en", "de", "fr", "nl", "es", "it", "pt")


def _plain(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


@lru_cache(maxsize=1)
def month_numbers() -> dict[str, int]:
    """Every wide and abbreviated month name (accents folded, trailing dot dropped) -> 1..12."""
    names: dict[str, int] = {}
    for language in LANGUAGES:
        for width in ("wide", "abbreviated"):
            for context in ("format", "stand-alone"):
                for number, name in get_month_names(width, context, language).items():
                    names[_plain(name).rstrip(".")] = number
    names.update({"sept": 9, "mrz": 3, "maerz": 3, "juni": 6, "juli": 7})
    return names


_MONTH_WORD = r"([^\W\d_]{3,12})\.?"
_ISO = re.compile(r"\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\b")
_NUMERIC = re.compile(r"\b(\d{1,2})[./-](\d{1,2})[./-](\d{4}|\d{2})\b")
_DAY_MONTH_YEAR = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th|er|e|\.)?\s*(?:de\s+)?" + _MONTH_WORD + r",?\s*(?:de\s+)?(\d{4})\b")
_MONTH_DAY_YEAR = re.compile(r"\b" + _MONTH_WORD + r"\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b")


def _make(year: int, month: int, day: int) -> date | None:
    if year < 100:
        year += 2000
    try:
        return date(year, month, day)
    except ValueError:
        return None


def find_date(text: str, month_first: bool = False) -> date | None:
    """The first date in `text`. Numeric dates are read day-first unless the day cannot be
    first (a second number above 12) or `month_first` is asked for (US documents)."""
    plain = _plain(text)
    candidates: list[tuple[int, date]] = []
    for match in _ISO.finditer(plain):
        found = _make(int(match[1]), int(match[2]), int(match[3]))
        if found:
            candidates.append((match.start(), found))
    for match in _NUMERIC.finditer(plain):
        first, second, year = int(match[1]), int(match[2]), int(match[3])
        if month_first and first <= 12 or second > 12:
            found = _make(year, first, second)
        else:
            found = _make(year, second, first)
        if found:
            candidates.append((match.start(), found))
    months = month_numbers()
    for match in _DAY_MONTH_YEAR.finditer(plain):
        month = months.get(match[2])
        found = _make(int(match[3]), month, int(match[1])) if month else None
        if found:
            candidates.append((match.start(), found))
    for match in _MONTH_DAY_YEAR.finditer(plain):
        month = months.get(match[1])
        found = _make(int(match[3]), month, int(match[2])) if month else None
        if found:
            candidates.append((match.start(), found))
    return min(candidates, key=lambda c: c[0])[1] if candidates else None

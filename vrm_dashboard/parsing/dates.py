"""Dates as printed on invoices: numeric (31.12.2026, 12/31/2026, 2026-12-31, 31-12-26) and
written out with month names in English, German, French, Dutch, Spanish, Italian and
Portuguese (month names from CLDR through babel). A document's own language is asked first,
so a month name that two languages share is read as the document means it."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from babel.dates import get_month_names

from vrm_dashboard.parsing.layout import fold

LANGUAGES = ("en", "de", "fr", "nl", "es", "it", "pt")


def _plain(text: str) -> str:
    """Lower case without accents, one character for each of `text`'s."""
    return fold(text)


@lru_cache(maxsize=None)
def _month_names(language: str) -> dict[str, int]:
    names: dict[str, int] = {}
    for width in ("wide", "abbreviated"):
        for context in ("format", "stand-alone"):
            for number, name in get_month_names(width, context, language).items():
                names.setdefault(_plain(name).rstrip("."), number)
    return names


@lru_cache(maxsize=16)
def month_numbers(preferred: tuple[str, ...] = ()) -> dict[str, int]:
    """Every wide and abbreviated month name (accents folded, trailing dot dropped) -> 1..12,
    the preferred languages' names winning where two languages spell a month alike."""
    names: dict[str, int] = {"sept": 9, "mrz": 3, "maerz": 3, "juni": 6, "juli": 7}
    order = [lang for lang in preferred if lang in LANGUAGES] + [lang for lang in LANGUAGES if lang not in preferred]
    for language in reversed(order):
        names.update(_month_names(language))
    return names


_MONTH_WORD = r"([^\W\d_]{3,12})\.?"
_ISO = re.compile(r"\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\b")
_NUMERIC = re.compile(r"\b(\d{1,2})[./-](\d{1,2})[./-](\d{4}|\d{2})\b(?![.,]\d)")
_DAY_MONTH_YEAR = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th|er|e|\.)?\s*(?:de\s+)?" + _MONTH_WORD + r",?\s*(?:de\s+)?(\d{4})\b")
_MONTH_DAY_YEAR = re.compile(r"\b" + _MONTH_WORD + r"\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b")
_COMPACT = re.compile(r"(?<!\d)(20\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?!\d)")


@dataclass(frozen=True)
class FoundDate:
    start: int
    end: int
    value: date


def _make(year: int, month: int, day: int) -> date | None:
    if year < 100:
        year += 2000
    try:
        return date(year, month, day)
    except ValueError:
        return None


def find_dates(text: str, month_first: bool = False, languages: tuple[str, ...] = (),
               compact: bool = False) -> list[FoundDate]:
    """Every date in `text`, left to right. Numeric dates are read day-first unless the day
    cannot be first (a second number above 12) or `month_first` is asked for (US documents).
    `compact` also reads 20260131 (only where a label says a date follows)."""
    plain = _plain(text)
    found: list[FoundDate] = []
    taken: list[tuple[int, int]] = []

    def add(start: int, end: int, value: date | None) -> None:
        if value and not any(start < e and s < end for s, e in taken):
            found.append(FoundDate(start, end, value))
            taken.append((start, end))

    for match in _ISO.finditer(plain):
        add(match.start(), match.end(), _make(int(match[1]), int(match[2]), int(match[3])))
    for match in _NUMERIC.finditer(plain):
        first, second, year = int(match[1]), int(match[2]), int(match[3])
        if month_first and first <= 12 or second > 12:
            add(match.start(), match.end(), _make(year, first, second))
        else:
            add(match.start(), match.end(), _make(year, second, first))
    months = month_numbers(languages)
    for match in _DAY_MONTH_YEAR.finditer(plain):
        month = months.get(match[2])
        add(match.start(), match.end(), _make(int(match[3]), month, int(match[1])) if month else None)
    for match in _MONTH_DAY_YEAR.finditer(plain):
        month = months.get(match[1])
        add(match.start(), match.end(), _make(int(match[3]), month, int(match[2])) if month else None)
    if compact:
        for match in _COMPACT.finditer(plain):
            add(match.start(), match.end(), _make(int(match[1]), int(match[2]), int(match[3])))
    return sorted(found, key=lambda f: f.start)


def find_date(text: str, month_first: bool = False, languages: tuple[str, ...] = ()) -> date | None:
    """The first date in `text`."""
    found = find_dates(text, month_first, languages)
    return found[0].value if found else None

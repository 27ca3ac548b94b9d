"""When a parsed invoice is ready for review (Draft Valid) and when it must stay a Draft, and
what text from outside may be stored as."""
from __future__ import annotations

import re
from dataclasses import dataclass

# The quantity columns (activity rows and invoice lines) hold 12 digits before the decimal point.
MAX_QUANTITY = 10**12
# Control characters (NUL, CR, LF, ...) and unpaired surrogates: PostgreSQL refuses NUL in text,
# a line break in a file name splits the headers it is put in, and a surrogate is no character.
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]+")


def printable(text: str) -> str:
    """Text from a file or an e-mail (names, numbers, descriptions) as it can be stored and shown:
    each run of control characters becomes one space."""
    return _UNPRINTABLE.sub(" ", text).strip()


@dataclass(frozen=True)
class ParsedFacts:
    has_number: bool
    has_issue_date: bool
    has_total: bool
    currency_known: bool
    vendor_matched: bool
    lines_total_minor: int | None
    line_count: int
    tax_minor: int
    total_minor: int
    duplicate_of: str | None


def draft_problems(facts: ParsedFacts) -> list[str]:
    """Every reason the invoice stays a Draft; none means it is valid."""
    problems = []
    if not facts.has_number:
        problems.append("The invoice number is missing")
    if not facts.has_issue_date:
        problems.append("The issue date is missing")
    if not facts.has_total:
        problems.append("The total is missing")
    if not facts.currency_known:
        problems.append("The currency is missing or unknown")
    if not facts.vendor_matched:
        problems.append("No vendor is matched: choose one of the suggestions or create the vendor")
    if facts.lines_total_minor is not None and facts.has_total:
        # Each line may round by one minor unit.
        tolerance = max(1, facts.line_count)
        if abs(facts.lines_total_minor + facts.tax_minor - facts.total_minor) > tolerance:
            problems.append("The lines plus tax do not add up to the total")
    if facts.duplicate_of:
        problems.append(f"Possible duplicate of {facts.duplicate_of}")
    return problems

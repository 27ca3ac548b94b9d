"""Amounts as printed on invoices, in the number formats of many countries:
1,234.56 / 1.234,56 / 1 234,56 / 1'234.56 / 1234 / -12.00 / (12.00)."""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

# A number with optional grouping (comma, dot, space, no-break spaces, apostrophe) and decimals.
AMOUNT_PATTERN = re.compile(
    r"(?<![\w.,])[-−(]?\s?(?:\d{1,3}(?:[,. \u00a0\u202f'’]\d{3})+|\d+)(?:[.,]\d{1,4})?\)?(?![\w]|[.,]\d)"
)
_GROUPING = " \u00a0\u202f'’"


def parse_amount(text: str) -> Decimal | None:
    """The amount in `text`, or None. The decimal separator is the last '.' or ',' followed by
    one, two or (with no other separator of that kind) up to four digits; a lone separator
    followed by exactly three digits groups thousands (1.234 or 1,234) unless the number
    starts with 0 (0.015)."""
    raw = text.strip()
    if raw.startswith("(") and not raw.endswith(")"):
        raw = raw[1:]  # "(35,13 €)": a note in brackets, not an accountant's negative
    negative = raw.startswith(("-", "−", "(")) or raw.endswith("-")
    digits = raw.strip("-−() ")
    for mark in _GROUPING:
        digits = digits.replace(mark, "")
    if not digits or not re.fullmatch(r"[\d.,]+", digits) or not digits[0].isdigit():
        return None
    last_dot, last_comma = digits.rfind("."), digits.rfind(",")
    decimal_at = max(last_dot, last_comma)
    if decimal_at >= 0:
        separator = digits[decimal_at]
        decimals = len(digits) - decimal_at - 1
        other = "," if separator == "." else "."
        single = digits.count(separator) == 1
        leading_zero = digits[:decimal_at] == "0"
        if not single or (decimals == 3 and other not in digits and not leading_zero):
            decimal_at = -1  # every separator groups thousands
        elif other in digits[decimal_at:]:
            return None
    if decimal_at >= 0:
        whole = re.sub(r"[.,]", "", digits[:decimal_at])
        number = f"{whole}.{digits[decimal_at + 1:]}"
    else:
        number = re.sub(r"[.,]", "", digits)
    try:
        value = Decimal(number)
    except InvalidOperation:
        return None
    return -value if negative else value


def amounts_in(text: str) -> list[Decimal]:
    """Every amount on a line, left to right."""
    found = []
    for match in AMOUNT_PATTERN.finditer(text):
        value = parse_amount(match.group(0))
        if value is not None:
            found.append(value)
    return found

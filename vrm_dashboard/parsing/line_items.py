"""Line items from a table under a header row (description, quantity, price, amount), read
by column position in the laid-out text."""
from __future__ import annotations

import re
from decimal import Decimal

from vrm_dashboard.parsing.amounts import parse_amount
from vrm_dashboard.parsing.extraction import ExtractedLine, Extraction
from vrm_dashboard.parsing.labels import HEADER_WORDS, label_pattern
from vrm_dashboard.parsing.layout import Cell

_HEADER_PATTERNS = {
    kind: re.compile(r"^(?:" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + r")\b\.?")
    for kind, words in HEADER_WORDS.items()
}
_STOP_FIELDS = ("subtotal", "total", "tax_total")


def _header_kinds(row: list[Cell]) -> dict[str, Cell] | None:
    kinds: dict[str, Cell] = {}
    for cell in row:
        for kind, pattern in _HEADER_PATTERNS.items():
            if kind not in kinds and pattern.match(cell.folded.strip()):
                kinds[kind] = cell
                break
    if "description" in kinds and "amount" in kinds and len(kinds) >= 3:
        return kinds
    return None


def _nearest(cell: Cell, columns: dict[str, Cell]) -> str:
    centre = (cell.start + cell.end) / 2
    numeric = {k: c for k, c in columns.items() if k != "description"}
    # Numbers are right-aligned under their headers more often than centred: compare right edges too.
    return min(numeric, key=lambda k: min(abs((numeric[k].start + numeric[k].end) / 2 - centre),
                                          abs(numeric[k].end - cell.end)))


def read_line_items(rows: list[list[Cell]], extraction: Extraction) -> None:
    for index, row in enumerate(rows):
        columns = _header_kinds(row)
        if columns:
            _read_table(rows, index + 1, columns, extraction)
            if extraction.lines:
                return


def _read_table(rows: list[list[Cell]], start: int, columns: dict[str, Cell], extraction: Extraction) -> None:
    blank_run = 0
    for row in rows[start:]:
        if not row:
            blank_run += 1
            if blank_run > 2 and extraction.lines:
                return
            continue
        blank_run = 0
        first = row[0].folded
        if any(label_pattern(f).match(first) for f in _STOP_FIELDS):
            return
        numbers: dict[str, Decimal] = {}
        words: list[str] = []
        for cell in row:
            value = parse_amount(cell.text.replace("€", "").replace("$", "").replace("£", "").strip())
            if value is None:
                for code in ("EUR", "USD", "GBP", "CHF"):
                    if cell.text.endswith(" " + code) or cell.text.startswith(code + " "):
                        value = parse_amount(cell.text.replace(code, "").strip())
            if value is not None and cell.start > columns["description"].start + 3 and cell is not row[0]:
                numbers[_nearest(cell, columns)] = value
            else:
                words.append(cell.text)
        if "amount" not in numbers:
            # A wrapped description continues the line above.
            if words and not numbers and extraction.lines and row[0].overlaps(columns["description"], 6):
                extraction.lines[-1].description += " " + " ".join(words)
                continue
            if extraction.lines:
                return
            continue
        quantity = numbers.get("quantity", Decimal(1))
        unit_price = numbers.get("unit_price")
        extraction.lines.append(ExtractedLine(
            description=" ".join(words).strip(), quantity=quantity, unit_price=unit_price,
            amount=numbers["amount"],
        ))

"""Line items from a table under a header row (description, quantity, price, amount), read
by the columns the header's cells stand in."""
from __future__ import annotations

from decimal import Decimal

from vrm_dashboard.parsing.amounts import parse_amount
from vrm_dashboard.parsing.extraction import ExtractedLine, Extraction
from vrm_dashboard.parsing.labels import header_pattern, label_pattern
from vrm_dashboard.parsing.layout import Cell, Line

_KINDS = ("description", "quantity", "unit_price", "amount")
_STOP_FIELDS = ("subtotal", "total", "tax_total", "amount_due")


def _header_kinds(line: Line) -> dict[str, Cell] | None:
    kinds: dict[str, Cell] = {}
    for cell in line.cells:
        for kind in _KINDS:
            if kind not in kinds and header_pattern(kind).match(cell.folded.strip()):
                kinds[kind] = cell
                break
    if "description" in kinds and "amount" in kinds and len(kinds) >= 3:
        return kinds
    return None


def _nearest(cell: Cell, columns: dict[str, Cell]) -> str:
    centre = (cell.x0 + cell.x1) / 2
    numeric = {k: c for k, c in columns.items() if k != "description"}
    # Numbers are right-aligned under their headers more often than centred: compare right edges too.
    return min(numeric, key=lambda k: min(abs((numeric[k].x0 + numeric[k].x1) / 2 - centre),
                                          abs(numeric[k].x1 - cell.x1)))


def read_line_items(lines: list[Line], extraction: Extraction) -> None:
    for index, line in enumerate(lines):
        columns = _header_kinds(line)
        if columns:
            _read_table(lines, index + 1, columns, extraction)
            if extraction.lines:
                return


def _stops(cell: Cell) -> bool:
    return any(label_pattern(f).match(cell.folded) for f in _STOP_FIELDS)


def _read_table(lines: list[Line], start: int, columns: dict[str, Cell], extraction: Extraction) -> None:
    description = columns["description"]
    char = description.size * 0.5
    previous = lines[start - 1]
    for line in lines[start:]:
        # A gap of more than two empty lines ends the table.
        if line.page != previous.page or line.top - previous.bottom > 3.2 * line.size:
            if extraction.lines:
                return
        previous = line
        if not line.cells:
            continue
        if _stops(line.cells[0]):
            return
        numbers: dict[str, Decimal] = {}
        words: list[str] = []
        for cell in line.cells:
            value = parse_amount(cell.text.replace("€", "").replace("$", "").replace("£", "").strip())
            if value is None:
                for code in ("EUR", "USD", "GBP", "CHF"):
                    if cell.text.endswith(" " + code) or cell.text.startswith(code + " "):
                        value = parse_amount(cell.text.replace(code, "").strip())
            if value is not None and cell.x0 > description.x0 + 3 * char and cell is not line.cells[0]:
                numbers[_nearest(cell, columns)] = value
            else:
                words.append(cell.text)
        if "amount" not in numbers:
            # A wrapped description continues the line above.
            if words and not numbers and extraction.lines and line.cells[0].overlaps(description, 6 * char):
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

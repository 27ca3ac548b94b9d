"""Fields read from an invoice's laid-out text by their labels, in any of the supported
languages and number and date formats, then checked against each other."""
from __future__ import annotations

import re
from collections import Counter
from decimal import Decimal

from schwifty import IBAN
from stdnum.eu import vat as eu_vat

from vrm_dashboard.parsing import extraction as conf
from vrm_dashboard.parsing.amounts import amounts_in
from vrm_dashboard.parsing.dates import find_date
from vrm_dashboard.parsing.extraction import Extraction
from vrm_dashboard.parsing.labels import TITLE_WORDS, label_pattern
from vrm_dashboard.parsing.layout import Cell, cells_of, fold
from vrm_dashboard.parsing.line_items import read_line_items

VALUE_FIELDS = ("invoice_number", "issue_date", "due_date", "total", "subtotal", "tax_total")
ALL_LABELS = (*VALUE_FIELDS, "vendor_tax_id", "bill_to", "from")
_PERCENT = re.compile(r"\d+(?:[.,]\d+)?\s*%")
_NUMBER_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-/._]*")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b")
_VAT = re.compile(r"\b(?:ATU|BE|BG|CY|CZ|DE|DK|EE|EL|ES|FI|FR|HR|HU|IE|IT|LT|LU|LV|MT|NL|PL|PT|RO|SE|SI|SK|XI)"
                  r"[ .-]?[0-9A-Z](?:[ .-]?[0-9A-Z]){5,13}\b")
# A sender line: "Vendor GmbH · Street 1 · City" or with | or a dash between the parts.
_SENDER_SEPARATOR = re.compile(r"\s+[·•|–]\s+|\s+-\s+")
_EIN = re.compile(r"\b\d{2}-\d{7}\b")
_SYMBOLS = {"€": "EUR", "£": "GBP", "$": "USD", "¥": "JPY", "₹": "INR"}
_CODES = ("EUR", "USD", "GBP", "CHF", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF", "CAD", "AUD", "JPY", "INR",
          "RON", "BGN", "NZD", "SGD", "ZAR", "MXN", "BRL")
_LEGAL_FORM = re.compile(
    r"\b(gmbh|ag|kg|ug|e\.?k|ltd|limited|llc|inc|corp|plc|co\.|s\.?a\.?s?|sarl|s\.?l\.?|s\.?r\.?l\.?|b\.?v\.?|"
    r"n\.?v\.?|bvba|oy|ab|as|aps|sp\. z o\.o\.)(?!\w)", re.I)


class _Label:
    def __init__(self, field: str, cell: Cell, start: int, end: int, rank: int):
        self.field, self.cell, self.start, self.end, self.rank = field, cell, start, end, rank

    @property
    def rest(self) -> str:
        """What follows the label in its own cell."""
        return self.cell.text[self.end:].lstrip(" :#.-–|").strip()


def _labels_in(cell: Cell) -> list[_Label]:
    found: list[_Label] = []
    folded = cell.folded
    for field in ALL_LABELS:
        for match in label_pattern(field).finditer(folded):
            found.append(_Label(field, cell, match.start(), match.end(), match.end() - match.start()))
    # Where labels overlap, the longer one wins: "total net" is a subtotal, not a total.
    found.sort(key=lambda label: (-label.rank, label.start))
    kept: list[_Label] = []
    for label in found:
        if all(label.end <= k.start or label.start >= k.end for k in kept):
            kept.append(label)
    kept.sort(key=lambda label: label.start)
    # Text between two labels in one cell belongs to the first: cut each label's reach.
    for current, following in zip(kept, kept[1:]):
        current.cell = Cell(cell.line, cell.start, cell.end, cell.text[:following.start])
    return kept


def _is_label_only(cell: Cell) -> bool:
    labels = _labels_in(cell)
    return bool(labels) and labels[0].start <= 1 and not labels[-1].rest


def _value_texts(label: _Label, rows: list[list[Cell]]) -> list[tuple[str, float]]:
    """Where a label's value may be, surest first: after it in its cell, in the next cell on its
    line, or below it in the same column (a header row over a row of values)."""
    places: list[tuple[str, float]] = []
    if label.rest:
        places.append((label.rest, 1.0))
    row = rows[label.cell.line]
    later = [c for c in row if c.start > label.cell.start]
    if later and not _is_label_only(later[0]):
        places.append((later[0].text, 0.95))
    for below in rows[label.cell.line + 1: label.cell.line + 4]:
        under = [c for c in below if c.overlaps(label.cell)]
        if under:
            if not _is_label_only(under[0]):
                places.append((under[0].text, 0.85))
            break
    return places


def _invoice_number(text: str) -> str | None:
    text = re.sub(r"^(?:no\.?|nr\.?|n°|nº|#|number|nummer|numero|:)\s*", "", text.strip(), flags=re.I)
    for token in _NUMBER_TOKEN.findall(text):
        if any(ch.isdigit() for ch in token) and find_date(token) is None:
            return token.rstrip("./-")
    return None


def _amount(text: str) -> Decimal | None:
    values = amounts_in(_PERCENT.sub(" ", text))
    return values[-1] if values else None


def read_fields(page_texts: list[str], extraction: Extraction) -> None:
    lines = [line for text in page_texts for line in text.splitlines()]
    rows = cells_of(lines)
    full = "\n".join(lines)
    _read_currency(full, extraction)
    month_first = extraction.value("currency") == "USD"
    amounts: dict[str, list[tuple[Decimal, int, float]]] = {"total": [], "subtotal": [], "tax_total": []}
    bill_to_cells: list[Cell] = []
    for row in rows:
        for cell in row:
            for label in _labels_in(cell):
                if label.field == "bill_to":
                    bill_to_cells.append(label.cell)
                    continue
                if label.field in ("from", "vendor_tax_id"):
                    continue
                for text, weight in _value_texts(label, rows):
                    if label.field == "invoice_number":
                        number = _invoice_number(text)
                        if number:
                            extraction.put("invoice_number", number, conf.LABELLED * weight - 0.001 * (20 - min(label.rank, 20)))
                            break
                    elif label.field in ("issue_date", "due_date"):
                        found = find_date(text, month_first)
                        if found:
                            # Generic "date" labels rank below "invoice date".
                            extraction.put(label.field, found, conf.LABELLED * weight - (0.1 if label.rank <= 5 else 0))
                            break
                    else:
                        value = _amount(text)
                        if value is not None:
                            amounts[label.field].append((value, label.cell.line, weight * min(label.rank, 20)))
                            break
    read_line_items(rows, extraction)
    _settle_amounts(amounts, extraction)
    _read_identifiers(rows, bill_to_cells, extraction)
    _read_vendor_name(rows, bill_to_cells, extraction)


def _read_currency(text: str, extraction: Extraction) -> None:
    codes = Counter(code for code in re.findall(r"\b[A-Z]{3}\b", text) if code in _CODES)
    if codes:
        extraction.put("currency", codes.most_common(1)[0][0], conf.LABELLED)
        return
    symbols = Counter(ch for ch in text if ch in _SYMBOLS)
    if symbols:
        extraction.put("currency", _SYMBOLS[symbols.most_common(1)[0][0]], conf.INFERRED + 0.2)


def _settle_amounts(amounts: dict[str, list[tuple[Decimal, int, float]]], extraction: Extraction) -> None:
    """Pick total, subtotal and tax that agree with each other (and with the lines) where the
    page offers such a set; otherwise the best-labelled, lowest-placed reading."""
    totals = sorted(amounts["total"], key=lambda a: (-a[2], -a[1]))
    subtotals = sorted(amounts["subtotal"], key=lambda a: (-a[2], -a[1]))
    taxes = sorted(amounts["tax_total"], key=lambda a: (-a[2], -a[1]))
    lines_sum = sum((line.amount for line in extraction.lines), Decimal(0)) if extraction.lines else None
    for total, *_ in totals:
        for subtotal, *_ in subtotals:
            for tax, *_ in taxes:
                if subtotal + tax == total and subtotal != total:
                    for name, value in (("total", total), ("subtotal", subtotal), ("tax_total", tax)):
                        extraction.put(name, value, conf.CROSS_CHECKED)
                    return
            if subtotal == total and not taxes:
                extraction.put("total", total, conf.CROSS_CHECKED)
                extraction.put("subtotal", subtotal, conf.CROSS_CHECKED)
                extraction.put("tax_total", Decimal("0.00"), conf.INFERRED)
                return
    # No agreeing set: the largest total printed last, and what the lines imply.
    if totals:
        best = max(totals, key=lambda a: (a[0], a[1]))
        extraction.put("total", best[0], conf.LABELLED - 0.1)
    if subtotals:
        extraction.put("subtotal", subtotals[0][0], conf.LABELLED - 0.1)
    elif lines_sum is not None:
        extraction.put("subtotal", lines_sum, conf.INFERRED)
    if taxes:
        extraction.put("tax_total", taxes[0][0], conf.LABELLED - 0.2)
    total, subtotal = extraction.value("total"), extraction.value("subtotal")
    if total is not None and subtotal is not None and "tax_total" not in extraction.fields and total >= subtotal:
        extraction.put("tax_total", total - subtotal, conf.INFERRED)
    if total is None and subtotal is not None and extraction.value("tax_total") is not None:
        extraction.put("total", subtotal + extraction.value("tax_total"), conf.INFERRED)


def _outside(cell: Cell, bill_to: list[Cell]) -> bool:
    """False for text in a bill-to block (the customer's details, not the vendor's)."""
    return not any(0 <= cell.line - b.line <= 6 and cell.overlaps(b, 4) for b in bill_to)


def _read_identifiers(rows: list[list[Cell]], bill_to: list[Cell], extraction: Extraction) -> None:
    for row in rows:
        for cell in row:
            if not _outside(cell, bill_to):
                continue
            upper = cell.text.upper()
            for match in _IBAN.finditer(upper):
                try:
                    extraction.put("iban", IBAN(match.group(0)).compact, conf.LABELLED)
                except ValueError:
                    pass
            for match in _VAT.finditer(upper):
                candidate = _valid_vat(match.group(0))
                if candidate and "vendor_tax_id" not in extraction.fields:
                    extraction.put("vendor_tax_id", candidate, conf.LABELLED)
            if "vendor_tax_id" not in extraction.fields and label_pattern("vendor_tax_id").search(cell.folded):
                ein = _EIN.search(cell.text)
                if ein:
                    extraction.put("vendor_tax_id", ein.group(0), conf.LABELLED - 0.1)


def _valid_vat(text: str) -> str | None:
    """The longest run of the match's space-separated parts that is a valid VAT number: the
    pattern may run on into the next word."""
    parts = text.split(" ")
    for count in range(len(parts), 0, -1):
        candidate = re.sub(r"[.-]", "", "".join(parts[:count]))
        if eu_vat.is_valid(candidate):
            return eu_vat.compact(candidate)
    return None


def _plausible_name(text: str) -> bool:
    folded = fold(text).strip(" :")
    if len(folded) < 2 or folded in TITLE_WORDS or any(folded.startswith(w + " ") and len(folded) < len(w) + 4 for w in TITLE_WORDS):
        return False
    if sum(ch.isdigit() for ch in text) > len(text) / 3 or "@" in text or "www." in folded or "http" in folded:
        return False
    return not any(label_pattern(f).match(folded) for f in ALL_LABELS)


def _read_vendor_name(rows: list[list[Cell]], bill_to: list[Cell], extraction: Extraction) -> None:
    top = [cell for row in rows[:40] for cell in row if _outside(cell, bill_to)]
    for cell in top:
        labels = _labels_in(cell)
        if labels and labels[0].field == "from":
            below = [c for r in rows[cell.line + 1: cell.line + 3] for c in r if c.overlaps(cell)]
            candidate = labels[0].rest or (below[0].text if below else "")
            if candidate and _plausible_name(candidate):
                extraction.put("vendor_name", candidate, conf.LABELLED)
                return
    for cell in top:
        name = _SENDER_SEPARATOR.split(cell.text)[0].strip()
        if _LEGAL_FORM.search(name) and _plausible_name(name):
            extraction.put("vendor_name", name, conf.LABELLED - 0.05)
            return
    for cell in top:
        name = _SENDER_SEPARATOR.split(cell.text)[0].strip()
        if _plausible_name(name) and any(ch.isalpha() for ch in name):
            extraction.put("vendor_name", name, conf.GUESSED)
            return

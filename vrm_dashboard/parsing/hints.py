"""Reading a vendor's invoices where a person's correction showed a field to be.

When a person corrects a field the reader got wrong (or did not find), the corrected value is
looked up in the invoice's kept layout (extraction.Layout): the label printed next to it ("Beleg-
Kennung", to its left, above it or before it in its cell), where it stood on its page (its box
as fractions of the page's width and height) and how it was written (a date's order, a number's
shape). That is a Hint, kept per vendor (services/intake/reading_hints). On that vendor's next
invoice the hint is read first by its label, else by its region, and a value found there of the
remembered format is taken with its evidence "learned from invoice N".

Pure functions of the layout: no file is read again and no database is touched here."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Iterable, Sequence

from vrm_dashboard.parsing.amounts import AMOUNT_PATTERN, parse_amount
from vrm_dashboard.parsing.dates import find_dates
from vrm_dashboard.parsing.extraction import LEARNED, Evidence, Extraction, Layout
from vrm_dashboard.parsing.layout import fold

# Fields a correction teaches, by the reader's names.
LEARNABLE = ("invoice_number", "issue_date", "due_date", "subtotal", "tax_total", "total")
DATE_FIELDS = ("issue_date", "due_date")
AMOUNT_FIELDS = ("subtotal", "tax_total", "total")
INLINE, RIGHT, BELOW, REGION = "inline", "right", "below", "region"
_DATE_FORMATS = ("%d.%m.%Y", "%d.%m.%y", "%d/%m/%Y", "%d/%m/%y", "%m/%d/%Y", "%m/%d/%y", "%Y-%m-%d", "%d-%m-%Y",
                 "%d-%m-%y", "%m-%d-%Y", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d")
_SEPARATORS = re.compile(r"\s+[·•|–—]\s+|\s+-\s+|\s*[·•|]\s*")
_TOKEN = re.compile(r"[^\s:;,]+")
# How far around a remembered region a value is still looked for, in fractions of the page.
_REGION_SLACK = 0.03
_MAX_LABEL = 60


@dataclass(frozen=True)
class Hint:
    field: str
    relation: str  # INLINE, RIGHT, BELOW (of its label) or REGION (no label near it)
    label: str | None  # the label as printed
    page: int  # from 0
    box: tuple[float, float, float, float]  # x0, top, x1, bottom as fractions of the page
    format: str | None  # a date's strftime pattern or "month first"/"day first"; a number's shape
    learned_from: str  # the invoice whose correction taught it


@dataclass(frozen=True)
class _Cell:
    page: int
    x0: float
    top: float
    x1: float
    bottom: float
    text: str

    def box(self, start: int = 0, end: int | None = None) -> tuple[float, float, float, float]:
        """The box of characters start..end, their widths taken as equal."""
        end = len(self.text) if end is None else end
        width = (self.x1 - self.x0) / max(len(self.text), 1)
        return self.x0 + start * width, self.top, self.x0 + end * width, self.bottom


class _Page:
    def __init__(self, layout: Layout) -> None:
        self.cells = [_Cell(*cell) for cell in layout.cells]
        self.cells.sort(key=lambda c: (c.page, c.top, c.x0))
        self.sizes: list[tuple[float, float]] = []
        for number, (width, height) in enumerate(layout.pages):
            on_page = [c for c in self.cells if c.page == number]
            self.sizes.append((width or max((c.x1 for c in on_page), default=1.0),
                               height or max((c.bottom for c in on_page), default=1.0)))

    def size(self, page: int) -> tuple[float, float]:
        return self.sizes[page] if page < len(self.sizes) else (1.0, 1.0)

    def normalized(self, page: int, box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        width, height = self.size(page)
        return box[0] / width, box[1] / height, box[2] / width, box[3] / height

    def same_line(self, cell: _Cell) -> list[_Cell]:
        middle = (cell.top + cell.bottom) / 2
        return [c for c in self.cells if c.page == cell.page and c is not cell and c.top <= middle <= c.bottom]

    def left_of(self, cell: _Cell) -> _Cell | None:
        left = [c for c in self.same_line(cell) if c.x1 <= cell.x0 + 1]
        return max(left, key=lambda c: c.x1, default=None)

    def right_of(self, cell: _Cell, x: float | None = None) -> _Cell | None:
        edge = cell.x1 if x is None else x
        right = [c for c in self.same_line(cell) if c.x0 >= edge - 1]
        return min(right, key=lambda c: c.x0, default=None)

    def above(self, cell: _Cell) -> _Cell | None:
        height = max(cell.bottom - cell.top, 6.0)
        found = [c for c in self.cells if c.page == cell.page and c.bottom <= cell.top + 1
                 and cell.top - c.bottom <= 3 * height and c.x0 <= cell.x1 and cell.x0 <= c.x1]
        return max(found, key=lambda c: c.bottom, default=None)

    def below(self, cell: _Cell, x0: float, x1: float) -> _Cell | None:
        height = max(cell.bottom - cell.top, 6.0)
        found = [c for c in self.cells if c.page == cell.page and c.top >= cell.bottom - 1
                 and c.top - cell.bottom <= 3 * height and c.x0 <= x1 + height and x0 - height <= c.x1]
        return min(found, key=lambda c: c.top, default=None)


def _letters(text: str) -> bool:
    return sum(ch.isalpha() for ch in text) >= 2


def _label_text(text: str) -> str:
    """The label part of a text: its last part after a separator, without trailing marks."""
    part = _SEPARATORS.split(text)[-1].strip(" :#*-–|")
    return part[-_MAX_LABEL:].strip()


# ---------------------------------------------------------------- formats and values


def shape_of(number: str) -> str:
    """A number's shape as a pattern: runs of letters and of digits, its other characters as
    they are ("KB/25/0042" -> letters/digits/digits)."""
    out = []
    for run in re.finditer(r"[^\W\d_]+|\d+|.", number):
        text = run.group(0)
        out.append(r"[^\W\d_]+" if text[0].isalpha() else r"\d+" if text[0].isdigit() else re.escape(text))
    return "".join(out)


def date_format(printed: str, value: date) -> str:
    for pattern in _DATE_FORMATS:
        if value.strftime(pattern) == printed.strip():
            return pattern
    return "month first" if re.match(r"[^\W\d_]", printed.strip()) else "day first"


def _month_first(format_: str | None) -> bool:
    return bool(format_) and (format_ == "month first" or str(format_).startswith("%m"))


def _occurrences(field: str, value: Any, text: str) -> list[tuple[int, int, str | None]]:
    """Where `value` is printed in `text`: (start, end, its format)."""
    if field in DATE_FIELDS:
        found: dict[int, tuple[int, int, str | None]] = {}
        for month_first in (False, True):
            for hit in find_dates(text, month_first, compact=True):
                if hit.value == value and hit.start not in found:
                    found[hit.start] = (hit.start, hit.end, date_format(text[hit.start:hit.end], value))
        return sorted(found.values())
    if field in AMOUNT_FIELDS:
        wanted = abs(Decimal(value))
        return [(m.start(), m.end(), None) for m in AMOUNT_PATTERN.finditer(text)
                if (amount := parse_amount(m.group(0))) is not None and abs(amount) == wanted]
    number = str(value).strip()
    if not number:
        return []
    pattern = re.compile(r"(?<![\w/-])" + re.escape(number) + r"(?![\w/-])", re.I)
    return [(m.start(), m.end(), shape_of(number)) for m in pattern.finditer(text)]


def _read_value(field: str, text: str, format_: str | None) -> tuple[Any, int, int] | None:
    """The field's value at the start of `text` (a number, a date) or its last amount, with
    where it is; None when `text` holds none of the remembered format."""
    if field in DATE_FIELDS:
        found = find_dates(text, _month_first(format_), compact=True)
        return (found[0].value, found[0].start, found[0].end) if found else None
    if field in AMOUNT_FIELDS:
        amounts = [(amount, m.start(), m.end()) for m in AMOUNT_PATTERN.finditer(text)
                   if (amount := parse_amount(m.group(0))) is not None]
        return amounts[-1] if amounts else None
    shape = re.compile(format_) if format_ else None
    for token in list(_TOKEN.finditer(text))[:3]:
        word = token.group(0).strip("#.")
        if (shape.fullmatch(word) if shape else any(ch.isdigit() for ch in word)):
            start = token.start() + token.group(0).find(word)
            return word, start, start + len(word)
    return None


# ---------------------------------------------------------------- learning


def learn(layout: Layout, field: str, value: Any, learned_from: str) -> Hint | None:
    """What the layout says about where `value`, the field's corrected value, was printed; None
    when it was not printed (a person typed what the document does not say)."""
    if field not in LEARNABLE or value in (None, ""):
        return None
    page = _Page(layout)
    found: list[tuple[int, _Cell, int, int, str | None]] = []
    for order, cell in enumerate(page.cells):
        for start, end, format_ in _occurrences(field, value, cell.text):
            found.append((order, cell, start, end, format_))
    if not found:
        return None
    hints = [_hint_at(page, field, cell, start, end, format_, learned_from) for _, cell, start, end, format_ in found]
    labelled = [hint for hint in hints if hint.relation != REGION]
    candidates = labelled or hints
    # Totals are printed last, the number and dates first.
    return candidates[-1] if field in AMOUNT_FIELDS else candidates[0]


def _hint_at(page: _Page, field: str, cell: _Cell, start: int, end: int, format_: str | None,
             learned_from: str) -> Hint:
    box = page.normalized(cell.page, cell.box(start, end))

    def hint(relation: str, label: str | None) -> Hint:
        return Hint(field, relation, label, cell.page, box, format_, learned_from)

    before = _label_text(cell.text[:start])
    if _letters(before):
        return hint(INLINE, before)
    if not cell.text[:start].strip():
        left = page.left_of(cell)
        if left is not None and _letters(left.text):
            return hint(RIGHT, _label_text(left.text))
        up = page.above(cell)
        if up is not None and _letters(up.text):
            return hint(BELOW, _label_text(up.text))
    return hint(REGION, None)


# ---------------------------------------------------------------- reading by hints


def _distance(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    return abs((a[0] + a[2]) / 2 - (b[0] + b[2]) / 2) + abs((a[1] + a[3]) / 2 - (b[1] + b[3]) / 2)


def _by_label(page: _Page, hint: Hint) -> Iterable[tuple[_Cell, str, int]]:
    """Texts the hint's label points at: (the cell, the text, where in the cell the text starts)."""
    label = fold(hint.label or "")
    if not label:
        return
    for cell in page.cells:
        at = fold(cell.text).find(label)
        if at < 0:
            continue
        after = at + len(label)
        rest = cell.text[after:]
        lead = len(rest) - len(rest.lstrip(" :#.-–|*"))
        if hint.relation == INLINE or rest.strip(" :#.-–|*"):
            yield cell, rest[lead:], after + lead
        if hint.relation == RIGHT:
            right = page.right_of(cell)
            if right is not None:
                yield right, right.text, 0
        elif hint.relation == BELOW:
            x0, _, x1, _ = cell.box(at, after)
            under = page.below(cell, x0, x1)
            if under is not None:
                yield under, under.text, 0


def _in_region(page: _Page, hint: Hint) -> Iterable[tuple[_Cell, str, int]]:
    x0, top, x1, bottom = hint.box
    for cell in page.cells:
        if cell.page != hint.page:
            continue
        c0, ctop, c1, cbottom = page.normalized(cell.page, (cell.x0, cell.top, cell.x1, cell.bottom))
        if c0 <= x1 + _REGION_SLACK and x0 - _REGION_SLACK <= c1 and ctop <= bottom + _REGION_SLACK \
                and top - _REGION_SLACK <= cbottom:
            yield cell, cell.text, 0


def read(layout: Layout, hint: Hint) -> tuple[Any, Evidence] | None:
    """The hint's field read at the place it remembers: by its label, else in its region; the
    value nearest the remembered place wins."""
    page = _Page(layout)
    for source in (_by_label, _in_region):
        best: tuple[float, Any, Evidence] | None = None
        for cell, text, offset in source(page, hint):
            found = _read_value(hint.field, text, hint.format)
            if found is None:
                continue
            value, start, end = found
            box = cell.box(offset + start, offset + end)
            distance = _distance(page.normalized(cell.page, box), hint.box) + (0 if cell.page == hint.page else 2)
            if best is None or distance < best[0]:
                label = hint.label if source is _by_label else "the place it was printed"
                evidence = Evidence(page=cell.page + 1, box=box, label=label, text=text[start:end],
                                    learned_from=hint.learned_from)
                best = (distance, value, evidence)
        if best is not None:
            return best[1], best[2]
    return None


def apply(layout: Layout | None, hints: Sequence[Hint], extraction: Extraction) -> list[str]:
    """Read each hinted field at its remembered place; the fields so read."""
    if layout is None or extraction.method != "text":
        return []
    read_fields: list[str] = []
    for hint in hints:
        found = read(layout, hint)
        if found is None:
            continue
        value, evidence = found
        if hint.field in AMOUNT_FIELDS and extraction.kind() == "credit_note" and value > 0:
            value = -value
        extraction.put(hint.field, value, LEARNED, evidence)
        read_fields.append(hint.field)
    return read_fields

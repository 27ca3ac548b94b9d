"""A page as lines of cells, built from the words pdfplumber reads with their positions.

A cell is a run of words on one line with no wide gap between them ("Rechnungsnummer",
"471102", "Lieferant GmbH"); each keeps where it is on its page (x0..x1, top..bottom in points),
its font size and whether it is bold, and where each of its characters starts, so a label
inside a cell ("TOTAL TVA" in "TOTAL HT TOTAL TVA TOTAL TTC") has its own column and finds
the value printed under it.

Plain text can be laid out the same way (`lines_from_text`): each character is a fixed width
and each line a fixed height, as pdfplumber's laid-out text places them; the tests use it."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any, Iterable, Sequence

# Plain text: a character is this wide and a line this tall, in points, for a 10 pt font.
TEXT_CHAR_WIDTH = 5.0
TEXT_LINE_HEIGHT = 12.0
TEXT_SIZE = 10.0
# Two words further apart than this many character widths are in different cells.
CELL_GAP = 1.5


@lru_cache(maxsize=4096)
def _fold_char(c: str) -> str:
    if c in "’‘`´":
        return "'"
    lower = c.lower()
    plain = "".join(x for x in unicodedata.normalize("NFKD", lower) if not unicodedata.combining(x))
    return plain if len(plain) == 1 else (lower if len(lower) == 1 else c)


def fold(text: str) -> str:
    """Lower case without accents, one character for each of `text`'s, so a span found in the
    folded text is the same span of the original."""
    if text.isascii():
        return text.lower().replace("`", "'")
    return "".join(map(_fold_char, text))


@dataclass(frozen=True)
class Word:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    page: int = 0
    size: float = TEXT_SIZE
    bold: bool = False


@dataclass(eq=False)
class Cell:
    """Words on one line with no wide gap between them."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    page: int
    line: int  # index of its line in the document
    size: float
    bold: bool
    char_x: list[float] = field(repr=False, default_factory=list)  # where each character starts

    @cached_property
    def folded(self) -> str:
        return fold(self.text)

    @property
    def height(self) -> float:
        return max(self.bottom - self.top, 1.0)

    def x_of(self, start: int, end: int) -> tuple[float, float]:
        """The horizontal extent of characters start..end of the text."""
        if not self.char_x or start >= len(self.text):
            return self.x0, self.x1
        end = min(max(end, start + 1), len(self.text))
        return self.char_x[start], self.char_x[end] if end < len(self.char_x) else self.x1

    def part(self, start: int, end: int) -> "Cell":
        """Characters start..end of this cell as a cell of their own."""
        text = self.text[start:end]
        lead = len(text) - len(text.lstrip())
        text = text.strip()
        start += lead
        end = start + len(text)
        x0, x1 = self.x_of(start, end)
        return Cell(text, x0, x1, self.top, self.bottom, self.page, self.line, self.size, self.bold,
                    self.char_x[start:end])

    def overlaps(self, other: "Cell | tuple[float, float]", slack: float | None = None) -> bool:
        x0, x1 = (other.x0, other.x1) if isinstance(other, Cell) else other
        slack = self.size * 0.5 if slack is None else slack
        return self.x0 <= x1 + slack and x0 <= self.x1 + slack


@dataclass
class Line:
    index: int
    page: int
    top: float
    bottom: float
    cells: list[Cell]

    @property
    def text(self) -> str:
        return "  ".join(cell.text for cell in self.cells)

    @property
    def size(self) -> float:
        return max((cell.size for cell in self.cells), default=TEXT_SIZE)


@dataclass
class Document:
    lines: list[Line]
    page_heights: list[float]
    page_widths: list[float] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return len(self.page_heights)

    def relative_top(self, cell: Cell | Line) -> float:
        """0 at the top of its page, 1 at the bottom."""
        height = self.page_heights[cell.page] if cell.page < len(self.page_heights) else 0
        return cell.top / height if height else 0.0


def _char_width(word: Word) -> float:
    return (word.x1 - word.x0) / max(len(word.text), 1)


def _cells_of_line(words: Sequence[Word], index: int) -> list[Cell]:
    cells: list[Cell] = []
    run: list[Word] = []

    def close() -> None:
        if not run:
            return
        text_parts: list[str] = []
        char_x: list[float] = []
        for word in run:
            if text_parts:
                text_parts.append(" ")
                char_x.append(char_x[-1] if char_x else word.x0)
            step = _char_width(word)
            char_x.extend(word.x0 + i * step for i in range(len(word.text)))
            text_parts.append(word.text)
        # The space before a word starts where the word before it ended.
        position = 0
        for previous, word in zip(run, run[1:]):
            position += len(previous.text)
            char_x[position] = previous.x1
            position += 1
        cells.append(Cell("".join(text_parts), run[0].x0, max(w.x1 for w in run), min(w.top for w in run),
                          max(w.bottom for w in run), run[0].page, index, max(w.size for w in run),
                          all(w.bold for w in run), char_x))
        run.clear()

    for word in words:
        if run:
            previous = run[-1]
            width = max(_char_width(previous), _char_width(word), 0.1)
            gap = word.x0 - previous.x1
            if gap > CELL_GAP * width or gap < -width:
                close()
        run.append(word)
    close()
    return cells


def _group_lines(words: Iterable[Word]) -> list[list[Word]]:
    """Words of one page into lines: a word belongs to a line its vertical middle falls in."""
    lines: list[list[Word]] = []
    spans: list[tuple[float, float]] = []
    for word in sorted(words, key=lambda w: (w.top, w.x0)):
        middle = (word.top + word.bottom) / 2
        for i in range(len(lines) - 1, max(len(lines) - 4, -1), -1):
            top, bottom = spans[i]
            if top <= middle <= bottom:
                lines[i].append(word)
                break
        else:
            lines.append([word])
            spans.append((word.top, word.bottom))
    return [sorted(line, key=lambda w: w.x0) for line in lines]


def document_from_words(pages: Sequence[Sequence[Word]], page_heights: Sequence[float],
                        page_widths: Sequence[float] = ()) -> Document:
    lines: list[Line] = []
    for page_words in pages:
        for words in _group_lines(page_words):
            index = len(lines)
            cells = _cells_of_line(words, index)
            lines.append(Line(index, words[0].page, min(w.top for w in words), max(w.bottom for w in words), cells))
    return Document(lines, list(page_heights), list(page_widths))


_WORD = re.compile(r"\S+")


def document_from_text(page_texts: Sequence[str]) -> Document:
    """Laid-out text (as pdfplumber's `extract_text(layout=True)` prints it) as a document:
    fixed-width characters, fixed-height lines."""
    pages: list[list[Word]] = []
    heights: list[float] = []
    widths: list[float] = []
    for number, text in enumerate(page_texts):
        words: list[Word] = []
        rows = text.split("\n")
        for row_number, row in enumerate(rows):
            top = row_number * TEXT_LINE_HEIGHT
            for match in _WORD.finditer(row):
                words.append(Word(match.group(0), match.start() * TEXT_CHAR_WIDTH, match.end() * TEXT_CHAR_WIDTH,
                                  top, top + TEXT_SIZE, number))
        pages.append(words)
        heights.append(max(len(rows), 1) * TEXT_LINE_HEIGHT)
        widths.append(max((len(row) for row in rows), default=1) * TEXT_CHAR_WIDTH)
    return document_from_words(pages, heights, widths)


def words_of_page(page: Any, number: int) -> list[Word]:
    """A pdfplumber page's words, with their font size and weight."""
    words: list[Word] = []
    for w in page.extract_words(keep_blank_chars=False, use_text_flow=False, extra_attrs=["size", "fontname"]):
        text = w["text"]
        if not text.strip():
            continue
        font = str(w.get("fontname") or "").lower()
        words.append(Word(text, float(w["x0"]), float(w["x1"]), float(w["top"]), float(w["bottom"]), number,
                          float(w.get("size") or TEXT_SIZE), "bold" in font or "black" in font or "heavy" in font))
    return words

"""Lines of a page's laid-out text split into cells: runs of text separated by two or more
spaces, each with the columns it spans, so a label can find its value beside or below it."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_GAP = re.compile(r"\S(?:.*?\S)?(?=\s{2,}|\s*$)")


def fold(text: str) -> str:
    """Lower case without accents: how labels are matched."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))


@dataclass(frozen=True)
class Cell:
    line: int
    start: int
    end: int
    text: str

    @property
    def folded(self) -> str:
        return fold(self.text)

    def overlaps(self, other: "Cell", slack: int = 2) -> bool:
        return self.start <= other.end + slack and other.start <= self.end + slack


def _wordy(text: str) -> bool:
    return not any(ch.isdigit() for ch in text)


def cells_of(lines: list[str]) -> list[list[Cell]]:
    """Each line's cells, left to right; a line of nothing gives an empty list. Two runs of
    words two spaces apart are one cell: large type is laid out with wider gaps."""
    out: list[list[Cell]] = []
    for number, line in enumerate(lines):
        row: list[Cell] = []
        position = 0
        for chunk in re.split(r"(\s{2,})", line):
            if chunk.strip() and not chunk.isspace():
                lead = len(chunk) - len(chunk.lstrip())
                text = chunk.strip()
                start = position + lead
                if row and start - row[-1].end <= 3 and _wordy(text) and _wordy(row[-1].text):
                    previous = row.pop()
                    text, start = f"{previous.text} {text}", previous.start
                row.append(Cell(number, start, start + len(text), text))
            position += len(chunk)
        out.append(row)
    return out

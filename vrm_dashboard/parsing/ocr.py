"""Words read off scanned pages: each page rendered to an image (pypdfium2, which pdfplumber
already brings) and read by Tesseract (Debian's tesseract-ocr with the eng, deu, fra, nld, spa
and ita data), as words with their boxes and confidence, in points like pdfplumber's words, so
the same layout reader reads them.

Tesseract is run as a program (its TSV output on stdout), not through pytesseract: that wrapper
is itself a subprocess call through temporary files, and calling the program directly keeps the
image in memory, gives each page its own deadline (the program is killed when it runs out), a
single thread (OMP_THREAD_LIMIT=1, the machine's other cores stay free) and no extra package.

This runs inside the confined reader worker (parsing/sandbox), whose memory limit the program
inherits; a page is rendered at most MAX_SIDE_PIXELS on its longer side whatever its size says."""
from __future__ import annotations

import io
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from statistics import median
from typing import Any

from vrm_dashboard.parsing.layout import Word

LANGUAGES = "eng+deu+fra+nld+spa+ita"
DPI = 200
MAX_SIDE_PIXELS = 3600
# Words Tesseract is less sure of than this are mostly specks and ruling lines read as letters.
MIN_WORD_CONFIDENCE = 30.0


class OcrUnavailable(RuntimeError):
    """Tesseract is not installed (see the Makefile's test-deps / ocr-deps)."""


@dataclass
class OcrPages:
    """The words of the pages read, and how sure OCR was of them."""

    words: dict[int, list[Word]] = field(default_factory=dict)  # by page number (0-based)
    confidences: list[float] = field(default_factory=list)  # every kept word's, 0..100

    @property
    def confidence(self) -> float:
        """How sure Tesseract was of the words, 0..1 (the median word)."""
        return median(self.confidences) / 100 if self.confidences else 0.0


def available() -> bool:
    return shutil.which("tesseract") is not None


def read_pages(content: bytes, page_numbers: list[int], deadline: float) -> OcrPages:
    """OCR the given pages (0-based) of a PDF until `deadline` (time.monotonic()); pages not
    read in time are left out of `words`."""
    import pypdfium2

    if not available():
        raise OcrUnavailable("Tesseract (OCR) is not installed")
    out = OcrPages()
    document = pypdfium2.PdfDocument(content)
    try:
        for number in page_numbers:
            left = deadline - time.monotonic()
            if left <= 1:
                break
            page = document[number]
            try:
                width, height = page.get_size()
                scale = min(DPI / 72, MAX_SIDE_PIXELS / max(width, height, 1))
                image = page.render(scale=scale, grayscale=True).to_pil()
            finally:
                page.close()
            picture = io.BytesIO()
            image.save(picture, format="PNG", compress_level=1)
            try:
                tsv = _tesseract(picture.getvalue(), left)
            except subprocess.TimeoutExpired:
                break
            words, confidences = words_of_tsv(tsv, number, 1 / scale)
            out.words[number] = words
            out.confidences += confidences
    finally:
        document.close()
    return out


def _tesseract(png: bytes, seconds: float) -> str:
    environment = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    done = subprocess.run(["tesseract", "stdin", "stdout", "-l", LANGUAGES, "--psm", "3", "tsv"], input=png,
                          capture_output=True, timeout=seconds, env=environment, check=False)
    if done.returncode != 0:
        raise OcrUnavailable(f"Tesseract failed: {done.stderr.decode(errors='replace')[-300:]}")
    return done.stdout.decode("utf-8", errors="replace")


def words_of_tsv(tsv: str, page: int, points_per_pixel: float) -> tuple[list[Word], list[float]]:
    """Tesseract's TSV as words in points. Each word takes its line's top and bottom (so words
    of one printed line stay on one line whatever their ascenders) and the line's height as its
    size; its own left and right."""
    lines: dict[tuple[str, ...], tuple[float, float]] = {}
    rows: list[tuple[tuple[str, ...], dict[str, Any]]] = []
    header: list[str] = []
    for raw in tsv.splitlines():
        cells = raw.split("\t")
        if not header:
            header = cells
            continue
        if len(cells) != len(header):
            continue
        row = dict(zip(header, cells))
        key: tuple[str, ...] = (row["page_num"], row["block_num"], row["par_num"], row["line_num"])
        if row["level"] == "4":
            top = float(row["top"])
            lines[key] = (top, top + float(row["height"]))
        elif row["level"] == "5" and row["text"].strip():
            rows.append((key, row))
    words: list[Word] = []
    confidences: list[float] = []
    for key, row in rows:
        confidence = float(row["conf"])
        if confidence < MIN_WORD_CONFIDENCE:
            continue
        left, width = float(row["left"]), float(row["width"])
        top, bottom = lines.get(key, (float(row["top"]), float(row["top"]) + float(row["height"])))
        words.append(Word(row["text"].strip(), left * points_per_pixel, (left + width) * points_per_pixel,
                          top * points_per_pixel, bottom * points_per_pixel, page,
                          max((bottom - top) * points_per_pixel, 1.0)))
        confidences.append(confidence)
    return words, confidences

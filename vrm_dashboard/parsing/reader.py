"""From a file's bytes to an Extraction, refusing what cannot be read with a reason a person
can act on.

XML is read here with the hardened parser; a PDF is read in a confined worker process
(parsing/sandbox), where a bomb costs that worker its memory or its time and never the app.

Pages with no text layer (scans) are read by OCR (parsing/ocr) only when the caller asks for it
with limits on pages and time (`ocr=OCR`): the intake job and the CLI do, a web request never
does. There a document that is a scan through and through is returned unread (method
SCANNED, a note saying the intake job will read it), and the job reads it later.

A file that is an invoice but cannot be read (encrypted, damaged, too many pages, a scan OCR
cannot read, an e-invoice XML of an unknown kind) raises CompleteByHand, which intake takes
as a Draft for a person to complete; anything else unreadable (not a PDF or XML, a bomb, a
hostile XML) raises UnreadableDocument and is refused."""
from __future__ import annotations

import io
import logging
import re
import time
import zlib
from dataclasses import dataclass
from itertools import islice

import pdfplumber
from pdfminer import pdftypes
from pdfminer.pdfdocument import PDFPasswordIncorrect
from pdfminer.pdfpage import PDFPage

from vrm_dashboard.domain.intake_rules import printable
from vrm_dashboard.parsing import ocr as ocr_reader
from vrm_dashboard.parsing.einvoice import AmountRefused, embedded_xml, read_einvoice
from vrm_dashboard.parsing.extraction import Extraction
from vrm_dashboard.parsing.layout import Word, document_from_words, words_of_page
from vrm_dashboard.parsing.sandbox import ReaderLimit, run_confined
from vrm_dashboard.parsing.text_fields import read_fields
from vrm_dashboard.parsing.xml_safety import XmlRefused

log = logging.getLogger(__name__)

MAX_BYTES = 20 * 1024 * 1024
MAX_PAGES = 30
# A 30-page invoice reads in a second or two; a file still being read after this is hostile or broken.
PDF_SECONDS = 60.0
# What one stream (a page's content, an attachment) may inflate to; a scanned page is a few MB.
MAX_STREAM_BYTES = 64 * 1024 * 1024
# A page with fewer words than this has no text layer: a scan.
MIN_TEXT_WORDS = 1
# What an extraction of a scan not read yet is (InvoiceExtraction.method), and what it says.
SCANNED = "scanned"
SCANNED_NOTE = "A scanned PDF (no text layer): it will be read by OCR in the intake job"
# A root element that names an invoice: XML of an unknown kind that is still meant as an invoice.
_INVOICE_ROOT = re.compile(r"invoice|credit.?note|factur|rechnung|fattura|factuur", re.I)


@dataclass(frozen=True)
class OcrLimits:
    """How much of a scan OCR reads: its first pages (and its last), within a time budget."""

    pages: int = 10
    seconds: float = 45.0


OCR = OcrLimits()


class UnreadableDocument(ValueError):
    """A file that is not an invoice we can read; the message says why."""


class CompleteByHand(UnreadableDocument):
    """An invoice that cannot be read (encrypted, damaged, too long, a scan OCR cannot read, an
    e-invoice XML of an unknown kind): a person completes it as a draft; the message says why."""


def parse_document(content: bytes, filename: str = "", max_bytes: int = MAX_BYTES, max_pages: int = MAX_PAGES,
                   ocr: OcrLimits | None = None) -> Extraction:
    """The file's extraction. `ocr` reads pages with no text layer by OCR within its limits
    (never in a web request: it takes about a second a page); without it a scan comes back
    unread as SCANNED."""
    if not content:
        raise UnreadableDocument("The file is empty")
    if len(content) > max_bytes:
        raise UnreadableDocument(f"The file is {len(content) / 1_048_576:.1f} MB; the limit is {max_bytes // 1_048_576} MB")
    head = content[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        try:
            return read_einvoice(content)
        except (XmlRefused, AmountRefused) as error:
            raise UnreadableDocument(str(error)) from error
        except ValueError as error:
            if _INVOICE_ROOT.search(_root_name(content)):
                raise CompleteByHand(f"{error}; complete the invoice by hand") from error
            raise UnreadableDocument(str(error)) from error
    if not head.startswith(b"%PDF"):
        raise UnreadableDocument(f"{filename or 'The file'} is not a PDF or an e-invoice XML file")
    seconds = PDF_SECONDS + (ocr.seconds if ocr else 0)
    try:
        return run_confined(read_pdf, content, max_pages, ocr, seconds=seconds)
    except ReaderLimit as limit:
        raise UnreadableDocument(f"The PDF {limit}; it was not read") from None


def _root_name(content: bytes) -> str:
    """The local name of an XML file's root element (the hardened parser already read it)."""
    from vrm_dashboard.parsing.xml_safety import parse_xml

    try:
        return printable(str(parse_xml(content).tag)).rsplit("}", 1)[-1]
    except ValueError:
        return ""


def _caused_by(error: BaseException, kind: type[BaseException], depth: int = 4) -> BaseException | None:
    """`error` or what it wraps, when of `kind`: pdfplumber wraps pdfminer's errors, ours included."""
    if isinstance(error, kind):
        return error
    if depth == 0:
        return None
    inner = [e for e in (*error.args, error.__cause__, error.__context__) if isinstance(e, BaseException)]
    return next((found for e in inner if (found := _caused_by(e, kind, depth - 1)) is not None), None)


def _reraise_limits(error: BaseException) -> None:
    """A limit reached inside pdfminer comes out wrapped: raise it as itself."""
    for kind in (MemoryError, UnreadableDocument):
        if (found := _caused_by(error, kind)) is not None:
            raise found from None


def _password_protected(error: BaseException) -> bool:
    return _caused_by(error, PDFPasswordIncorrect) is not None or "password" in str(error).lower()


def _page_count(pdf: pdfplumber.PDF, max_pages: int) -> int:
    """Pages up to one past the limit: a page tree of millions stops being walked there."""
    return sum(1 for _page in islice(PDFPage.create_pages(pdf.doc), max_pages + 1))


class _BoundedInflate:
    """What pdfminer's FlateDecode calls as `zlib`: one stream inflates to MAX_STREAM_BYTES at
    most, where pdfminer would grow it until memory runs out."""

    error = zlib.error
    decompressobj = staticmethod(zlib.decompressobj)

    @staticmethod
    def decompress(data: bytes) -> bytes:
        inflater = zlib.decompressobj()
        inflated = inflater.decompress(data, MAX_STREAM_BYTES)
        if inflater.unconsumed_tail:
            raise UnreadableDocument(f"A stream in the PDF inflates past {MAX_STREAM_BYTES // 1_048_576} MB "
                                     "(a compression bomb?); it was not read")
        return inflated


def read_pdf(content: bytes, max_pages: int = MAX_PAGES, ocr: OcrLimits | None = None) -> Extraction:
    """A PDF's e-invoice attachment or its printed text (pages with none read by OCR within
    `ocr`'s limits when given). Runs in a confined worker."""
    pdftypes.zlib = _BoundedInflate  # type: ignore[assignment]
    try:
        pdf = pdfplumber.open(io.BytesIO(content))
    except Exception as error:  # noqa: BLE001 - pdfminer raises many kinds for broken files
        _reraise_limits(error)
        if _password_protected(error):
            raise CompleteByHand("The PDF is encrypted with a password; ask for it without one, or "
                                 "complete the invoice by hand") from None
        raise CompleteByHand(_DAMAGED) from None
    # Never pdf.close(): it walks the whole page tree again, millions of pages in a bomb. The
    # stream is our own BytesIO, and the pages read (max_pages at most) are closed after use.
    try:
        pages = _page_count(pdf, max_pages)
    except Exception as error:  # noqa: BLE001
        _reraise_limits(error)
        raise CompleteByHand(_DAMAGED) from None
    if pages == 0:
        raise CompleteByHand("The PDF has no pages; complete the invoice by hand")
    if pages > max_pages:
        raise CompleteByHand(f"The PDF has more than {max_pages} pages; the limit is {max_pages}: "
                             "complete the invoice by hand")
    try:
        xml = embedded_xml(content)
    except XmlRefused as refused:
        raise UnreadableDocument(str(refused)) from None
    if xml:
        try:
            return read_einvoice(xml, pages)
        except (XmlRefused, AmountRefused) as refused:
            raise UnreadableDocument(str(refused)) from None
        except ValueError:
            pass  # a broken attachment: read the printed page instead
    words, heights, widths = _page_words(pdf)
    scanned = [number for number, page_words in enumerate(words) if len(page_words) < MIN_TEXT_WORDS]
    extraction = Extraction(method="text", pages=pages)
    confidence = 1.0
    if scanned and ocr is None:
        if len(scanned) == pages:
            extraction.method = SCANNED
            extraction.warnings.append(SCANNED_NOTE)
            return extraction
        extraction.warnings.append(f"{_pages_named(scanned)} scanned (no text layer) and not read")
    elif scanned and ocr is not None:
        confidence = _read_scans(content, scanned, words, ocr, extraction)
    document = document_from_words(words, heights, widths)
    if not document.lines:
        why = f" ({extraction.warnings[0]})" if extraction.warnings else ""
        raise CompleteByHand(f"The PDF is a scanned image and no text could be read from it{why}; "
                             "complete the invoice by hand")
    try:
        read_fields(document, extraction)
    except Exception:  # noqa: BLE001 - a flaw in the reader costs the fields not yet read, never the document
        log.exception("Reading the printed text of a PDF failed")
        extraction.warnings.append("Some fields could not be read from the printed text; complete them by hand")
    if confidence < 1.0:
        for found in extraction.fields.values():
            found.confidence = round(found.confidence * confidence, 3)
    return extraction


_DAMAGED = "The PDF is damaged and cannot be read; complete the invoice by hand"


def _pages_named(numbers: list[int]) -> str:
    shown = ", ".join(str(n + 1) for n in numbers[:10]) + (", ..." if len(numbers) > 10 else "")
    return f"Page {shown} is" if len(numbers) == 1 else f"Pages {shown} are"


def _read_scans(content: bytes, scanned: list[int], words: list[list[Word]], ocr: OcrLimits,
                extraction: Extraction) -> float:
    """OCR the pages with no text layer into `words`, at most `ocr.pages` of them (the first
    ones and the last, where the totals are) within `ocr.seconds`; how sure OCR was (0..1).
    What is not read is said in the extraction's warnings."""
    chosen = scanned if len(scanned) <= ocr.pages else [*scanned[:max(ocr.pages - 1, 0)], scanned[-1]][:ocr.pages]
    try:
        read = ocr_reader.read_pages(content, chosen, time.monotonic() + ocr.seconds)
    except ocr_reader.OcrUnavailable as error:
        log.warning("OCR could not run: %s", error)
        extraction.warnings.append(f"{_pages_named(scanned)} scanned and could not be read: {error}")
        return 1.0
    except MemoryError:
        raise
    except Exception:  # noqa: BLE001 - a page pdfium cannot render is a page not read, never a crash
        log.exception("OCR of a scanned PDF failed")
        extraction.warnings.append(f"{_pages_named(scanned)} scanned and could not be read by OCR")
        return 1.0
    for number, page_words in read.words.items():
        words[number] = page_words
    extraction.method = "ocr"
    left = [n for n in scanned if n not in read.words]
    if left:
        extraction.warnings.append(f"{_pages_named(left)} scanned and not read by OCR "
                                   f"(at most {ocr.pages} pages in {ocr.seconds:g} seconds)")
    extraction.warnings.append(f"Read by OCR ({read.confidence:.0%} sure of its words): check the fields")
    return read.confidence


def _page_words(pdf: pdfplumber.PDF) -> tuple[list[list[Word]], list[float], list[float]]:
    """Every page's words with their places, font sizes and weights, and each page's height and width."""
    try:
        pages = pdf.pages
        try:
            words: list[list[Word]] = [words_of_page(page, number) for number, page in enumerate(pages)]
            heights = [float(page.height) for page in pages]
            widths = [float(page.width) for page in pages]
        finally:
            for page in pages:
                page.close()
    except Exception as error:  # noqa: BLE001
        _reraise_limits(error)
        raise CompleteByHand(_DAMAGED) from None
    return words, heights, widths

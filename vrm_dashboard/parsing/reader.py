"""From a file's bytes to an Extraction, refusing what cannot be read with a reason a person
can act on.

XML is read here with the hardened parser; a PDF is read in a confined worker process
(parsing/sandbox), where a bomb costs that worker its memory or its time and never the app."""
from __future__ import annotations

import io
import logging
import zlib
from itertools import islice

import pdfplumber
from pdfminer import pdftypes
from pdfminer.pdfdocument import PDFPasswordIncorrect
from pdfminer.pdfpage import PDFPage

from vrm_dashboard.parsing.einvoice import AmountRefused, embedded_xml, read_einvoice
from vrm_dashboard.parsing.extraction import Extraction
from vrm_dashboard.parsing.layout import Document, Word, document_from_words, words_of_page
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


class UnreadableDocument(ValueError):
    """A file that is not an invoice we can read; the message says why."""


def parse_document(content: bytes, filename: str = "", max_bytes: int = MAX_BYTES, max_pages: int = MAX_PAGES) -> Extraction:
    if not content:
        raise UnreadableDocument("The file is empty")
    if len(content) > max_bytes:
        raise UnreadableDocument(f"The file is {len(content) / 1_048_576:.1f} MB; the limit is {max_bytes // 1_048_576} MB")
    head = content[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        try:
            return read_einvoice(content)
        except ValueError as error:
            raise UnreadableDocument(str(error)) from error
    if not head.startswith(b"%PDF"):
        raise UnreadableDocument(f"{filename or 'The file'} is not a PDF or an e-invoice XML file")
    try:
        return run_confined(read_pdf, content, max_pages, seconds=PDF_SECONDS)
    except ReaderLimit as limit:
        raise UnreadableDocument(f"The PDF {limit}; it was not read") from None


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


def read_pdf(content: bytes, max_pages: int = MAX_PAGES) -> Extraction:
    """A PDF's e-invoice attachment or its printed text. Runs in a confined worker."""
    pdftypes.zlib = _BoundedInflate  # type: ignore[assignment]
    try:
        pdf = pdfplumber.open(io.BytesIO(content))
    except Exception as error:  # noqa: BLE001 - pdfminer raises many kinds for broken files
        _reraise_limits(error)
        if _password_protected(error):
            raise UnreadableDocument("The PDF is encrypted with a password; send it without one") from None
        raise UnreadableDocument("The PDF is damaged and cannot be read") from None
    # Never pdf.close(): it walks the whole page tree again, millions of pages in a bomb. The
    # stream is our own BytesIO, and the pages read (max_pages at most) are closed after use.
    try:
        pages = _page_count(pdf, max_pages)
    except Exception as error:  # noqa: BLE001
        _reraise_limits(error)
        raise UnreadableDocument("The PDF is damaged and cannot be read") from None
    if pages == 0:
        raise UnreadableDocument("The PDF has no pages")
    if pages > max_pages:
        raise UnreadableDocument(f"The PDF has more than {max_pages} pages; the limit is {max_pages}")
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
    document = _page_words(pdf)
    if not document.lines:
        raise UnreadableDocument("The PDF has no text layer (a scanned image); send the original PDF or an e-invoice")
    extraction = Extraction(method="text", pages=pages)
    try:
        read_fields(document, extraction)
    except Exception:  # noqa: BLE001 - a flaw in the reader costs the fields not yet read, never the document
        log.exception("Reading the printed text of a PDF failed")
        extraction.warnings.append("Some fields could not be read from the printed text; complete them by hand")
    return extraction


def _page_words(pdf: pdfplumber.PDF) -> Document:
    """Every page's words with their places, font sizes and weights."""
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
        raise UnreadableDocument("The PDF is damaged and cannot be read") from None
    return document_from_words(words, heights, widths)

"""From a file's bytes to an Extraction, refusing what cannot be read with a reason a person
can act on."""
from __future__ import annotations

import io

import pdfplumber
from pdfminer.pdfdocument import PDFPasswordIncorrect

from vrm_dashboard.parsing.einvoice import embedded_xml, read_einvoice
from vrm_dashboard.parsing.extraction import Extraction
from vrm_dashboard.parsing.text_fields import read_fields

MAX_BYTES = 20 * 1024 * 1024
MAX_PAGES = 30


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
    return _read_pdf(content, max_pages)


def _password_protected(error: BaseException) -> bool:
    # pdfplumber wraps pdfminer's errors: look through the wrapper.
    causes = [error, *error.args, error.__cause__, error.__context__]
    return any(isinstance(c, PDFPasswordIncorrect) for c in causes) or "password" in str(error).lower()


def _read_pdf(content: bytes, max_pages: int) -> Extraction:
    try:
        pdf = pdfplumber.open(io.BytesIO(content))
    except Exception as error:  # noqa: BLE001 - pdfminer raises many kinds for broken files
        if _password_protected(error):
            raise UnreadableDocument("The PDF is encrypted with a password; send it without one") from error
        raise UnreadableDocument("The PDF is damaged and cannot be read") from error
    with pdf:
        try:
            pages = len(pdf.pages)
        except Exception as error:  # noqa: BLE001
            raise UnreadableDocument("The PDF is damaged and cannot be read") from error
        if pages == 0:
            raise UnreadableDocument("The PDF has no pages")
        if pages > max_pages:
            raise UnreadableDocument(f"The PDF has {pages} pages; the limit is {max_pages}")
        xml = embedded_xml(content)
        if xml:
            try:
                return read_einvoice(xml, pages)
            except ValueError:
                pass  # a broken attachment: read the printed page instead
        try:
            texts = [page.extract_text(layout=True) or "" for page in pdf.pages]
        except Exception as error:  # noqa: BLE001
            raise UnreadableDocument("The PDF is damaged and cannot be read") from error
    if not any(text.strip() for text in texts):
        raise UnreadableDocument("The PDF has no text layer (a scanned image); send the original PDF or an e-invoice")
    extraction = Extraction(method="text", pages=pages)
    read_fields(texts, extraction)
    return extraction

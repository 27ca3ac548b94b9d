"""Scanned PDFs (issue 20): pages with no text layer are read by Tesseract and go through the
same layout reader as printed text, within limits on pages and time; a web request never
runs OCR."""
import shutil
import time

import pytest

from tests.invoice_corpus import make_invoice, scanned
from vrm_dashboard.parsing import reader
from vrm_dashboard.parsing.ocr import words_of_tsv
from vrm_dashboard.parsing.reader import CompleteByHand, OcrLimits, parse_document

needs_tesseract = pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract-ocr is not installed "
                                     "(make test-deps installs it)")


@needs_tesseract
@pytest.mark.parametrize("seed, language, layout", [(7, "de", "classic"), (12, "fr", "letter"), (31, "en", "compact")])
def test_an_image_only_pdf_of_a_generated_invoice_is_read_by_ocr(seed, language, layout):
    sample = make_invoice(seed, language, layout)
    scan = scanned(sample.pdf)
    found = parse_document(scan, "scan.pdf", ocr=reader.OCR)
    data = found.as_json()
    assert data["method"] == "ocr"
    for field in ("invoice_number", "issue_date", "total"):
        assert data[field] == sample.truth[field], (field, data[field], sample.truth[field])
    # The same field read by OCR is less sure than read off the printed text.
    printed = parse_document(sample.pdf).fields
    assert all(found.fields[name].confidence < printed[name].confidence
               for name in ("invoice_number", "issue_date", "total"))
    assert any("Read by OCR" in warning for warning in data["warnings"])


def test_without_ocr_a_scan_comes_back_unread_for_the_intake_job():
    scan = scanned(make_invoice(7, "de", "classic").pdf)
    data = parse_document(scan, "scan.pdf").as_json()
    assert data["method"] == reader.SCANNED and data["total"] is None
    assert data["warnings"] == [reader.SCANNED_NOTE]


@needs_tesseract
def test_ocr_reads_no_more_pages_than_its_limit_the_first_and_the_last():
    sample = make_invoice(7, "de", "classic")
    found = parse_document(scanned(sample.pdf, pages=5), "long-scan.pdf", ocr=OcrLimits(pages=2, seconds=60))
    assert found.method == "ocr" and found.pages == 5
    assert any("Pages 2, 3, 4 are scanned and not read by OCR (at most 2 pages" in w for w in found.warnings)
    assert found.value("invoice_number") == sample.truth["invoice_number"]


@needs_tesseract
def test_ocr_stops_at_its_time_budget():
    scan = scanned(make_invoice(8, "fr", "classic").pdf, pages=16)
    started = time.monotonic()
    found = parse_document(scan, "slow-scan.pdf", ocr=OcrLimits(pages=16, seconds=5))
    # Sixteen pages take ten seconds or more: the budget stops it after the first pages.
    assert time.monotonic() - started < 5 + 8
    assert any("not read by OCR (at most 16 pages in 5 seconds)" in w for w in found.warnings)
    with pytest.raises(CompleteByHand, match="no text could be read"):
        parse_document(scan, "no-time.pdf", ocr=OcrLimits(pages=16, seconds=0.5))


def test_tesseract_tsv_becomes_words_in_points_on_their_lines():
    tsv = ("level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n"
           "4\t1\t1\t1\t1\t0\t100\t200\t300\t40\t-1\t\n"
           "5\t1\t1\t1\t1\t1\t100\t200\t120\t40\t95.5\tRechnung\n"
           "5\t1\t1\t1\t1\t2\t240\t210\t60\t22\t91\tNr.\n"
           "5\t1\t1\t1\t1\t3\t320\t205\t20\t20\t12\t~\n")
    words, confidences = words_of_tsv(tsv, 3, 0.5)
    assert [(w.text, w.x0, w.x1, w.top, w.bottom, w.page) for w in words] == [
        ("Rechnung", 50, 110, 100, 120, 3), ("Nr.", 120, 150, 100, 120, 3)]
    assert confidences == [95.5, 91]  # the speck read as "~" is dropped

"""Scanned invoices (issue 20): a web request never runs OCR, the intake job does; and bad input
(encrypted, damaged, unreadable scans, 500 pages, XML of an unknown namespace) never crashes the
CLI, the API or the intake job: each is a Draft that says why."""
import io
import json
import shutil
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient
from fpdf import FPDF
from sqlmodel import Session, select

from tests.helpers import SYSTEM, make_user, vendor_input
from tests.invoice_corpus import make_invoice, scanned as scan_of
from vrm_dashboard.api.app import build_api
from vrm_dashboard.db.models import AuditEntry, Invoice
from vrm_dashboard.domain.money import to_major_string
from vrm_dashboard.parsing import reader
from vrm_dashboard.services.identity.api_keys import create_api_key
from vrm_dashboard.services.intake import invoice_files, scanned
from vrm_dashboard.services.vendors import records as vendor_service

needs_tesseract = pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract-ocr is not installed")


def _blank_scan() -> bytes:
    from PIL import Image

    picture = io.BytesIO()
    Image.new("L", (1654, 2339), "white").save(picture, format="PNG")
    pdf = FPDF()
    pdf.add_page()
    pdf.image(picture, x=0, y=0, w=210)
    return bytes(pdf.output())


def _encrypted() -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.cell(40, 10, "Invoice 1")
    pdf.set_encryption(owner_password="owner", user_password="secret")
    return bytes(pdf.output())


def _pages(count: int) -> bytes:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    for number in range(count):
        pdf.add_page()
        pdf.cell(40, 10, f"Page {number}")
    return bytes(pdf.output())


BAD = {
    "locked.pdf": (_encrypted, "encrypted with a password"),
    "broken.pdf": (lambda: make_invoice(3).pdf[:400], "damaged"),
    "long.pdf": (lambda: _pages(500), "more than 30 pages"),
    "other.xml": (lambda: b'<x:Invoice xmlns:x="urn:example:unknown:9"><x:ID>7</x:ID></x:Invoice>',
                  "not a readable e-invoice"),
}


@needs_tesseract
def test_a_scan_uploaded_in_a_web_request_waits_for_the_intake_job_which_reads_it(session):
    finance = make_user(session, "finance_manager")
    sample = make_invoice(7, "de", "classic")
    vendor = vendor_service.create_vendor(session, finance, vendor_input(vat_id=sample.truth["vendor_tax_id"]))
    outcome = invoice_files.receive_invoice(session, finance, scan_of(sample.pdf), "scan.pdf")
    session.commit()
    assert outcome.status == "accepted" and reader.SCANNED_NOTE in outcome.message
    assert outcome.problems[0] == reader.SCANNED_NOTE
    assert invoice_files.extraction_of(session, finance, outcome.invoice_id)["method"] == reader.SCANNED
    assert session.get(Invoice, outcome.invoice_id).vendor_invoice_number is None

    assert scanned.read_scanned(session) == 1
    invoice = session.get(Invoice, outcome.invoice_id)
    assert invoice.vendor_invoice_number == sample.truth["invoice_number"]
    assert invoice.issue_date.isoformat() == sample.truth["issue_date"]
    assert to_major_string(invoice.total_minor, invoice.currency) == sample.truth["total"]
    assert invoice.vendor_id == vendor.id and invoice.status == "draft_valid"
    shown = invoice_files.extraction_of(session, finance, invoice.id)
    assert shown["method"] == "ocr" and shown["problems"] == []
    assert session.execute(select(AuditEntry).where(AuditEntry.action == "invoice.ocr")).scalar_one()
    # Read once: the next run has nothing left.
    assert scanned.read_scanned(session) == 0


@needs_tesseract
def test_a_scan_ocr_cannot_read_is_a_draft_that_says_so(session):
    finance = make_user(session, "finance_manager")
    outcome = invoice_files.receive_invoice(session, finance, _blank_scan(), "blank.pdf")
    session.commit()
    assert scanned.read_scanned(session) == 1
    shown = invoice_files.extraction_of(session, finance, outcome.invoice_id)
    assert shown["method"] == invoice_files.UNREAD
    assert "no text could be read" in shown["problems"][0] and "by hand" in shown["problems"][0]
    assert session.get(Invoice, outcome.invoice_id).status == "draft"


def test_bad_files_through_the_api_are_drafts_and_a_scan_is_not_read_in_the_request(db):
    client = TestClient(build_api())
    with Session(db) as session:
        finance = make_user(session, "finance_manager")
        key = create_api_key(session, SYSTEM, "tests", user_id=finance.user_id)
        session.commit()
    files = [("files", (name, build(), "application/octet-stream")) for name, (build, _) in BAD.items()]
    files.append(("files", ("scan.pdf", scan_of(make_invoice(7, "de", "classic").pdf), "application/pdf")))
    response = client.post("/api/v1/invoices/intake", files=files, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.text
    outcomes = response.json()
    for outcome, message in zip(outcomes, [message for _, message in BAD.values()] + [reader.SCANNED_NOTE]):
        assert outcome["status"] == "accepted" and outcome["invoice_status"] == "draft"
        assert message in outcome["message"] and message in outcome["problems"][0]
    with Session(db) as session:
        waiting = invoice_files.waiting_for_ocr(session, 10)
        assert waiting == [outcomes[-1]["invoice_id"]]


@needs_tesseract
def test_vrm_parse_reads_a_scan_by_ocr_and_explains_every_bad_file_without_a_traceback(tmp_path):
    sample = make_invoice(12, "fr", "letter")
    path = tmp_path / "scan.pdf"
    path.write_bytes(scan_of(sample.pdf))
    run = subprocess.run([sys.executable, "-m", "vrm_dashboard.cli", "parse", str(path), "--json"],
                         capture_output=True, text=True, timeout=120)
    data = json.loads(run.stdout)
    assert data["method"] == "ocr" and data["total"] == sample.truth["total"]
    bad = {name: (build, message) for name, (build, message) in BAD.items()}
    bad["blank.pdf"] = (_blank_scan, "no text could be read")
    for name, (build, message) in bad.items():
        path = tmp_path / name
        path.write_bytes(build())
        run = subprocess.run([sys.executable, "-m", "vrm_dashboard.cli", "parse", str(path), "--json"],
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 1 and message in run.stderr and "Traceback" not in run.stderr, (name, run.stderr)

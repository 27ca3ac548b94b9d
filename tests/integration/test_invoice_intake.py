"""Vendor invoice files: read, matched, checked for duplicates, and refused clearly when bad."""
import io

import pytest
from fpdf import FPDF
from sqlmodel import select

from tests.helpers import count_rows, make_user, vendor_input
from tests.invoice_corpus import make_invoice
from vrm_dashboard.db.models import Intake, Invoice, InvoiceLine, StoredDocument
from vrm_dashboard.domain.money import to_major_string
from vrm_dashboard.parsing import reader
from vrm_dashboard.services.intake import invoice_files as invoice_intake
from vrm_dashboard.services.invoices import records as invoices
from vrm_dashboard.services.vendors import records as vendor_service


@pytest.fixture
def finance(session):
    return make_user(session, "finance_manager")


@pytest.fixture
def sample():
    return make_invoice(7, "de", "classic")



def test_a_parsed_invoice_matched_by_vat_id_is_draft_valid_with_its_lines(session, finance, sample):
    vendor = vendor_service.create_vendor(session, finance, vendor_input(
        vendor_code="V-7", name="Someone Else Entirely", vat_id=sample.truth["vendor_tax_id"]))
    outcome = invoice_intake.receive_invoice(session, finance, sample.pdf, "rechnung.pdf")
    session.commit()
    assert outcome.status == "accepted" and outcome.problems == []
    invoice = session.get(Invoice, outcome.invoice_id)
    assert invoice.vendor_id == vendor.id and invoice.status == "draft_valid" and invoice.kind == "parsed"
    assert invoice.vendor_invoice_number == sample.truth["invoice_number"]
    assert to_major_string(invoice.total_minor, invoice.currency) == sample.truth["total"]
    assert count_rows(session, InvoiceLine) == len(sample.lines)
    document = session.get(StoredDocument, invoice.document_id)
    assert document.content == sample.pdf


def test_an_unmatched_invoice_stays_draft_with_suggestions_until_resolved(session, finance, sample):
    name = sample.truth["vendor_name"]
    close = vendor_service.create_vendor(session, finance, vendor_input(vendor_code="C-1",
                                                                         name=name.rsplit(" ", 1)[0] + " Europe"))
    vendor_service.create_vendor(session, finance, vendor_input(vendor_code="X-1", name="Unrelated Widgets"))
    outcome = invoice_intake.receive_invoice(session, finance, sample.pdf, "rechnung.pdf")
    session.commit()
    invoice = session.get(Invoice, outcome.invoice_id)
    suggestions = invoice_intake.suggestions_for(session, finance, invoice.id)
    assert invoice.vendor_id is None and invoice.status == "draft"
    assert any("No vendor is matched" in p for p in outcome.problems)
    assert suggestions[0].vendor_id == close.id and suggestions[0].score >= 80
    invoice_intake.resolve_vendor(session, finance, invoice.id, suggestions[0].vendor_id)
    session.commit()
    assert session.get(Invoice, invoice.id).vendor_id == close.id
    assert session.get(Invoice, invoice.id).status == "draft_valid"


def test_the_same_file_twice_is_held_as_a_duplicate_not_created_again(session, finance, sample):
    vendor_service.create_vendor(session, finance, vendor_input(vat_id=sample.truth["vendor_tax_id"]))
    first = invoice_intake.receive_invoice(session, finance, sample.pdf, "a.pdf")
    second = invoice_intake.receive_invoice(session, finance, sample.pdf, "b.pdf", channel="mailbox")
    session.commit()
    assert second.status == "duplicate" and second.invoice_id == first.invoice_id
    assert count_rows(session, Invoice) == 1


def test_same_vendor_and_number_in_another_file_stays_draft_as_a_duplicate(session, finance):
    one = make_invoice(11, "en", "classic")
    vendor_service.create_vendor(session, finance, vendor_input(vendor_code="E-1", name=one.truth["vendor_name"]))
    first = invoice_intake.receive_invoice(session, finance, one.pdf, "one.pdf")
    xml_twin = one.pdf + b"\n%resent\n"  # the same invoice, other bytes
    second = invoice_intake.receive_invoice(session, finance, xml_twin, "one-again.pdf")
    session.commit()
    assert first.invoice_status == "draft_valid"
    assert second.invoice_status == "draft"
    assert any("Possible duplicate of" in p for p in second.problems)


def _encrypted() -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.cell(40, 10, "Invoice 1")
    pdf.set_encryption(owner_password="owner", user_password="secret")
    return bytes(pdf.output())


def _image_only() -> bytes:
    from PIL import Image
    picture = io.BytesIO()
    Image.new("RGB", (200, 100), "white").save(picture, format="PNG")
    pdf = FPDF()
    pdf.add_page()
    pdf.image(picture, x=10, y=10, w=100)
    return bytes(pdf.output())


def _pages(count: int) -> bytes:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    for number in range(count):
        pdf.add_page()
        pdf.cell(40, 10, f"Page {number}")
    return bytes(pdf.output())


BAD_FILES = [
    ("empty.pdf", lambda: b"", "empty"),
    ("photo.png", lambda: b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "not a PDF"),
    ("notes.txt", lambda: b"Please pay me 100 EUR", "not a PDF"),
    ("broken.pdf", lambda: make_invoice(3).pdf[:400], "damaged"),
    ("garbage.pdf", lambda: b"%PDF-1.7\n" + bytes(range(256)) * 8, "damaged"),
    ("locked.pdf", _encrypted, "encrypted"),
    ("scan.pdf", _image_only, "no text layer"),
    ("long.pdf", lambda: _pages(reader.MAX_PAGES + 1), "pages; the limit is"),
    ("bad.xml", lambda: b"<Invoice><ID>1</ID></Invoice>", "not a readable e-invoice"),
]


@pytest.mark.parametrize("filename, build, message", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_files_are_recorded_as_failed_intakes_and_change_nothing_else(session, finance, filename, build, message):
    outcome = invoice_intake.receive_invoice(session, finance, build(), filename)
    session.commit()
    assert outcome.status == "failed" and message in outcome.message
    intake = session.execute(select(Intake)).scalar_one()
    assert intake.status == "failed" and message in intake.reason
    assert count_rows(session, Invoice) == 0 and count_rows(session, StoredDocument) == 0


def test_an_oversized_file_is_refused(session, finance, monkeypatch):
    monkeypatch.setattr(invoice_intake, "parse_document",
                        lambda content, name: reader.parse_document(content, name, max_bytes=1024))
    outcome = invoice_intake.receive_invoice(session, finance, make_invoice(5).pdf, "big.pdf")
    assert outcome.status == "failed" and "the limit is" in outcome.message


def test_a_vendor_upload_is_always_its_own_and_deleting_the_draft_keeps_the_intake(session, finance, sample):
    own = vendor_service.create_vendor(session, finance, vendor_input(vendor_code="OWN-1", name="Own Vendor"))
    vendor_user = make_user(session, "vendor", email="v@own.example", vendor_id=own.id)
    outcome = invoice_intake.receive_invoice(session, vendor_user, sample.pdf, "mine.pdf", channel="portal",
                                             vendor_id=999)
    session.commit()
    assert session.get(Invoice, outcome.invoice_id).vendor_id == own.id
    invoices.delete_draft(session, finance, outcome.invoice_id)
    session.commit()
    assert session.execute(select(Intake)).scalar_one().invoice_id is None


def test_a_new_vendor_profile_prefilled_from_the_invoice(session, finance, sample):
    outcome = invoice_intake.receive_invoice(session, finance, sample.pdf, "new.pdf", sender="ap@copperline.example")
    prefill = invoice_intake.vendor_prefill(session, finance, outcome.invoice_id)
    assert prefill.name == sample.truth["vendor_name"] and prefill.vat_id == sample.truth["vendor_tax_id"]
    assert prefill.iban == sample.truth["iban"] and prefill.country == "DE" and prefill.email == "ap@copperline.example"
    invoice = invoice_intake.create_vendor_from_invoice(session, finance, outcome.invoice_id, prefill)
    session.commit()
    assert invoice.vendor_id is not None and invoice.status == "draft_valid"


def test_assigning_a_vendor_does_not_excuse_a_missing_number(session, finance):
    sample = make_invoice(13, "en", "classic")
    vendor = vendor_service.create_vendor(session, finance, vendor_input(vendor_code="N-1", name="Nobody Alike"))
    outcome = invoice_intake.receive_invoice(session, finance, sample.pdf, "x.pdf")
    invoice = session.get(Invoice, outcome.invoice_id)
    invoice.vendor_invoice_number = None  # as if the number could not be read
    session.flush()
    invoice_intake.resolve_vendor(session, finance, invoice.id, vendor.id)
    assert session.get(Invoice, invoice.id).status == "draft"
    assert "The invoice number is missing" in invoice_intake.extraction_of(session, finance, invoice.id)["problems"]


def test_an_unmatched_invoice_is_found_by_its_numbers(session, finance):
    from vrm_dashboard.services.invoices.queries import InvoiceQuery, list_invoices

    sample = make_invoice(17, "nl", "compact")
    outcome = invoice_intake.receive_invoice(session, finance, sample.pdf, "factuur.pdf")
    invoice = session.get(Invoice, outcome.invoice_id)
    assert invoice.vendor_id is None
    for term in (invoice.number, sample.truth["invoice_number"]):
        page = list_invoices(session, finance, InvoiceQuery(search=term))
        assert [row.id for row in page.rows] == [invoice.id]


def test_editing_a_parsed_invoice_can_supply_the_vendors_number(session, finance):
    from vrm_dashboard.services.invoices.records import edit_input_of

    sample = make_invoice(19, "de", "compact")
    vendor = vendor_service.create_vendor(session, finance, vendor_input(vat_id=sample.truth["vendor_tax_id"]))
    outcome = invoice_intake.receive_invoice(session, finance, sample.pdf, "y.pdf")
    invoice = session.get(Invoice, outcome.invoice_id)
    assert invoice.vendor_id == vendor.id
    invoice.vendor_invoice_number = None
    invoice_intake.revalidate(session, invoice)
    assert invoice.status == "draft"
    edit = edit_input_of(invoice)
    edit.vendor_invoice_number = "RE-2026-77"
    invoices.edit_invoice(session, finance, invoice.id, edit)
    session.commit()
    edited = session.get(Invoice, invoice.id)
    assert edited.vendor_invoice_number == "RE-2026-77" and edited.status == "draft_valid"

"""Vendor invoice files: read, matched, checked for duplicates, and refused clearly when bad."""
import io

import pytest
from fpdf import FPDF
from sqlmodel import Session, select

import vrm_dashboard.vrm_dashboard  # noqa: F401  (registers every state)
from tests.helpers import (
    call_handler,
    count_rows,
    finance_with_a_paid_per_click_vendor,
    make_user,
    ui_state,
    vendor_input,
)
from tests.invoice_corpus import make_invoice
from tests.write_lock import another_writer_commits
from vrm_dashboard.db.models import Intake, Invoice, InvoiceLine, JobRun, StoredDocument
from vrm_dashboard.domain.money import to_major_string
from vrm_dashboard.parsing import reader
from vrm_dashboard.services.identity import auth
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
    ("page.xml", lambda: b'<html xmlns="http://www.w3.org/1999/xhtml"><body/></html>', "not a readable e-invoice"),
]


@pytest.mark.parametrize("filename, build, message", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_files_are_recorded_as_failed_intakes_and_change_nothing_else(session, finance, filename, build, message):
    outcome = invoice_intake.receive_invoice(session, finance, build(), filename)
    session.commit()
    assert outcome.status == "failed" and message in outcome.message
    intake = session.execute(select(Intake)).scalar_one()
    assert intake.status == "failed" and message in intake.reason
    assert count_rows(session, Invoice) == 0 and count_rows(session, StoredDocument) == 0


UNREADABLE_INVOICES = [
    ("broken.pdf", lambda: make_invoice(3).pdf[:400], "damaged"),
    ("garbage.pdf", lambda: b"%PDF-1.7\n" + bytes(range(256)) * 8, "damaged"),
    ("locked.pdf", _encrypted, "encrypted with a password"),
    ("long.pdf", lambda: _pages(500), f"more than {reader.MAX_PAGES} pages"),
    ("bad.xml", lambda: b"<Invoice><ID>1</ID></Invoice>", "not a readable e-invoice"),
    ("other.xml", lambda: b'<inv:Invoice xmlns:inv="urn:example:unknown:invoice:9"><inv:ID>7</inv:ID></inv:Invoice>',
     "not a readable e-invoice"),
]


@pytest.mark.parametrize("filename, build, message", UNREADABLE_INVOICES, ids=[b[0] for b in UNREADABLE_INVOICES])
def test_an_invoice_that_cannot_be_read_is_a_draft_that_says_why(session, finance, filename, build, message):
    content = build()
    outcome = invoice_intake.receive_invoice(session, finance, content, filename)
    session.commit()
    assert outcome.status == "accepted" and message in outcome.message and "by hand" in outcome.message
    invoice = session.get(Invoice, outcome.invoice_id)
    assert invoice.status == "draft" and session.get(StoredDocument, invoice.document_id).content == content
    assert message in outcome.problems[0] and "The invoice number is missing" in outcome.problems
    shown = invoice_intake.extraction_of(session, finance, invoice.id)
    assert shown["method"] == invoice_intake.UNREAD and message in shown["problems"][0]
    # A person completes it by hand: the reason no longer holds it.
    from vrm_dashboard.services.invoices.records import edit_input_of

    vendor = vendor_service.create_vendor(session, finance, vendor_input(vendor_code="HAND-1", name="By Hand GmbH"))
    invoice_intake.resolve_vendor(session, finance, invoice.id, vendor.id)
    edit = edit_input_of(invoice)
    edit.vendor_invoice_number, edit.currency, edit.subtotal, edit.tax, edit.total = "RE-1", "EUR", "100.00", "19.00", "119.00"
    invoices.edit_invoice(session, finance, invoice.id, edit)
    session.commit()
    assert session.get(Invoice, invoice.id).status == "draft_valid"


def test_an_oversized_file_is_refused(session, finance, monkeypatch):
    monkeypatch.setattr(invoice_intake, "parse_document",
                        lambda content, name, **options: reader.parse_document(content, name, max_bytes=1024, **options))
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


# --- Issue 18: no write lock while a file is read; no more read than an invoice may be -----------------

def test_no_write_lock_is_held_while_a_file_is_read(db, session, finance, sample, monkeypatch):
    if db.dialect.name != "sqlite":
        pytest.skip("the write lock a SQLite unit of work takes when it begins")
    session.commit()
    # A hostile PDF keeps its reader busy for up to a minute: everyone else still writes meanwhile.
    others_could_write = []
    real = invoice_intake.parse_document

    def reading(content, name, **options):
        others_could_write.append(another_writer_commits(db, "written while a file is read"))
        return real(content, name, **options)

    monkeypatch.setattr(invoice_intake, "parse_document", reading)
    outcome = invoice_intake.receive_invoice(session, finance, sample.pdf, "slow.pdf")
    session.commit()
    assert others_could_write == [True] and outcome.status == "accepted"
    assert count_rows(session, JobRun) == 1


class _Upload:
    """A file uploaded to a screen: it holds `length` bytes and states `stated` as its size (or
    nothing); each read's requested size is noted."""

    def __init__(self, name: str, content: bytes = b"", length: int | None = None, stated: int | None = None):
        self.name, self.content, self.length, self.size = name, content, length, stated
        self.reads: list[int] = []

    async def read(self, size: int = -1) -> bytes:
        self.reads.append(size)
        if self.length is None:
            return self.content if size < 0 else self.content[:size]
        return b"%" * (self.length if size < 0 else min(size, self.length))


def _signed_in(db, role: str) -> tuple[str, str]:
    """A session token of a finance manager, or of an approved vendor's login."""
    with Session(db) as session:
        finance = make_user(session, "finance_manager", email="fm@test.example")
        email = "fm@test.example"
        if role == "vendor":
            vendor = vendor_service.create_vendor(session, finance, vendor_input(vendor_code="UP-1"))
            email = "ap@up.example"
            make_user(session, "vendor", email=email, vendor_id=vendor.id)
        token = auth.sign_in(session, email, "correct-horse-battery").token
        session.commit()
    return token, email


def _screen(db, role: str):
    from vrm_dashboard.ui.states.directory import PortalState
    from vrm_dashboard.ui.states.intake import IntakeState

    cls = PortalState if role == "vendor" else IntakeState
    token, _email = _signed_in(db, role)
    state = ui_state(cls, token)
    shown = (lambda: list(state.upload_results)) if role == "vendor" else (
        lambda: [f"{r.file}: {r.status}: {r.message}" for r in state.results])
    return cls, state, shown


@pytest.mark.parametrize("role", ["finance_manager", "vendor"])
def test_an_upload_screen_reads_each_invoice_with_no_write_lock_held(db, role, monkeypatch):
    if db.dialect.name != "sqlite":
        pytest.skip("the write lock a SQLite unit of work takes when it begins")
    cls, state, shown = _screen(db, role)
    others_could_write = []
    real = invoice_intake.parse_document

    def reading(content, name, **options):
        others_could_write.append(another_writer_commits(db, f"written while {name} is read"))
        return real(content, name, **options)

    monkeypatch.setattr(invoice_intake, "parse_document", reading)
    files = [_Upload("one.pdf", make_invoice(21, "en", "classic").pdf), _Upload("two.pdf", make_invoice(22).pdf)]
    call_handler(cls, state, "upload_invoices", files)
    assert others_could_write == [True, True]
    assert all("Received as PI-" in line for line in shown()), shown()
    with Session(db) as session:
        assert count_rows(session, Invoice) == 2 and count_rows(session, JobRun) == 2


@pytest.mark.parametrize("role", ["finance_manager", "vendor"])
def test_an_uploaded_invoice_larger_than_the_limit_is_refused_without_being_read_whole(db, role):
    cls, state, shown = _screen(db, role)
    limit = invoice_intake.MAX_FILE_BYTES
    stated = _Upload("stated.pdf", length=400 * 1_048_576, stated=400 * 1_048_576)
    unstated = _Upload("unstated.pdf", length=400 * 1_048_576)
    fits = _Upload("fits.pdf", make_invoice(23, "en", "classic").pdf)
    call_handler(cls, state, "upload_invoices", [stated, unstated, fits])
    # A size stated past the limit is refused before a byte is read; without one, no more is
    # read than shows the file is too large.
    assert stated.reads == [] and unstated.reads == [limit + 1]
    lines = shown()
    assert "The file is 400.0 MB; the limit is 20 MB" in lines[0]
    assert "The file is larger than the limit of 20 MB" in lines[1]
    assert "Received as PI-" in lines[2]
    with Session(db) as session:
        intakes = session.execute(select(Intake).order_by(Intake.id)).scalars().all()
        assert [(i.filename, i.status) for i in intakes] == [
            ("stated.pdf", "failed"), ("unstated.pdf", "failed"), ("fits.pdf", "accepted")]
        assert count_rows(session, StoredDocument) == 1


def test_an_activity_or_vendor_file_larger_than_the_import_reads_is_refused_unread(db, monkeypatch):
    from vrm_dashboard.ui.states import intake as intake_screen

    limit = 1_048_576  # the import's limit is 200 MB; 1 MB makes the same point with less memory
    monkeypatch.setattr(intake_screen, "MAX_TABLE_BYTES", limit)
    token, _email = _signed_in(db, "finance_manager")
    state = ui_state(intake_screen.IntakeState, token)
    for handler in ("upload_activity", "upload_vendors"):
        stated = _Upload("rows.csv", length=limit + 1, stated=limit + 1)
        unstated = _Upload("more.csv", length=50 * limit)
        call_handler(intake_screen.IntakeState, state, handler, [stated, unstated])
        assert stated.reads == [] and unstated.reads == [limit + 1]
        assert [(r.status, r.message) for r in state.results] == [("Refused", "The file is larger than 1 MB")] * 2


def _xlsx(*rows: list[object]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


SPREADSHEETS = {
    "upload_activity": lambda n: _xlsx(["vendor", "activity_type", "date", "quantity"],
                                       ["ACME-1", "clicks", f"2026-10-0{n}", n]),
    "upload_vendors": lambda n: _xlsx(["vendor_code", "name", "email", "country", "currency", "payment_method"],
                                      [f"NEW-{n}", f"New Vendor {n}", f"ap@new{n}.example", "DE", "EUR", "manual"]),
}


@pytest.mark.parametrize("handler", list(SPREADSHEETS))
def test_the_intake_screen_reads_each_spreadsheet_with_no_write_lock_held(db, handler, monkeypatch):
    if db.dialect.name != "sqlite":
        pytest.skip("the write lock a SQLite unit of work takes when it begins")
    from vrm_dashboard.services.platform import tabular_files
    from vrm_dashboard.ui.states.intake import IntakeState

    with Session(db) as session:
        finance_with_a_paid_per_click_vendor(session)
        token = auth.sign_in(session, "finance_manager@test.example", "correct-horse-battery").token
        session.commit()
    state = ui_state(IntakeState, token)
    # A spreadsheet keeps its worker busy for up to minutes: everyone else still writes meanwhile.
    others_could_write = []
    real_run_confined = tabular_files.run_confined

    def reading(*args, **kwargs):
        others_could_write.append(another_writer_commits(db, "written while a spreadsheet is read"))
        return real_run_confined(*args, **kwargs)

    monkeypatch.setattr(tabular_files, "run_confined", reading)
    make = SPREADSHEETS[handler]
    call_handler(IntakeState, state, handler, [_Upload("one.xlsx", make(1)), _Upload("two.xlsx", make(2))])
    assert [(r.file, r.status) for r in state.results] == [("one.xlsx", "Imported"), ("two.xlsx", "Imported")], \
        state.results
    assert others_could_write == [True, True]
    with Session(db) as session:
        assert count_rows(session, JobRun) == 2
        assert [i.status for i in session.execute(select(Intake)).scalars()] == ["accepted", "accepted"]

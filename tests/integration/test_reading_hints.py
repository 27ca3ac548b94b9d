"""Learning from corrections: a person's correction of a field teaches the reader where that
vendor prints it, and the vendor's next invoice is read there; no other vendor's reading changes."""
from __future__ import annotations

import json

import pytest
from sqlmodel import select

from tests.helpers import make_user, vendor_input
from tests.unusual_invoice import KIESEL, MOERTEL, unusual_invoice
from vrm_dashboard.db.models import Invoice, InvoiceExtraction, VendorReadingHint
from vrm_dashboard.services.intake import invoice_files as invoice_intake
from vrm_dashboard.services.invoices import records as invoices
from vrm_dashboard.services.invoices.records import edit_input_of
from vrm_dashboard.services.vendors import records as vendor_service


@pytest.fixture
def finance(session):
    return make_user(session, "finance_manager")


def _vendor(session, finance, code, sender):
    return vendor_service.create_vendor(session, finance, vendor_input(
        vendor_code=code, name=sender.name, vat_id=sender.vat_id, iban=sender.iban))


def _receive(session, finance, pdf, name="rechnung.pdf"):
    outcome = invoice_intake.receive_invoice(session, finance, pdf, name)
    assert outcome.status == "accepted", outcome.message
    return session.get(Invoice, outcome.invoice_id)


def _correct_number(session, finance, invoice, number):
    edit = edit_input_of(invoice)
    edit.vendor_invoice_number = number
    invoices.edit_invoice(session, finance, invoice.id, edit)
    session.commit()


def _evidence(session, invoice):
    return json.loads(session.get(InvoiceExtraction, invoice.id).fields).get("evidence", {})


def test_one_correction_teaches_the_vendors_next_invoice_and_no_other_vendors(session, finance):
    kiesel = _vendor(session, finance, "KIESEL", KIESEL)
    moertel = _vendor(session, finance, "MOERTEL", MOERTEL)
    first = _receive(session, finance, unusual_invoice("KB/25/0042"))
    assert first.vendor_id == kiesel.id and first.vendor_invoice_number is None  # the label is unknown
    _correct_number(session, finance, first, "KB/25/0042")
    hint = session.exec(select(VendorReadingHint)).one()
    assert (hint.vendor_id, hint.field, hint.label, hint.relation) == (kiesel.id, "invoice_number",
                                                                       "Vorgangskennung", "right")

    # The next invoice sits lower on its page: read by its label, with where it was learned.
    second = _receive(session, finance, unusual_invoice("KB/25/0043", shift=6))
    assert second.vendor_id == kiesel.id and second.vendor_invoice_number == "KB/25/0043"
    evidence = _evidence(session, second)["invoice_number"]
    assert evidence["learned_from"] == first.number and evidence["label"] == "Vorgangskennung"
    assert evidence["page"] == 1 and len(evidence["box"]) == 4

    # The same layout from another vendor is read as before the correction.
    other = _receive(session, finance, unusual_invoice("MH/25/0007", MOERTEL))
    assert other.vendor_id == moertel.id and other.vendor_invoice_number is None
    assert "invoice_number" not in _evidence(session, other)


def test_a_correction_made_before_the_vendor_is_known_teaches_it_when_assigned(session, finance):
    first = _receive(session, finance, unusual_invoice("KB/25/0042"))
    assert first.vendor_id is None
    _correct_number(session, finance, first, "KB/25/0042")
    assert session.exec(select(VendorReadingHint)).first() is None  # no vendor to learn for yet
    kiesel = _vendor(session, finance, "KIESEL", KIESEL)
    invoice_intake.resolve_vendor(session, finance, first.id, kiesel.id)
    session.commit()
    assert session.exec(select(VendorReadingHint.vendor_id)).all() == [kiesel.id]
    second = _receive(session, finance, unusual_invoice("KB/25/0050", shift=3))
    assert second.vendor_invoice_number == "KB/25/0050"


def test_a_corrected_date_teaches_its_order(session, finance):
    """A US-style date the reader took day first: corrected once, read month first after."""
    kiesel = _vendor(session, finance, "KIESEL", KIESEL)
    first = _receive(session, finance, unusual_invoice("KB/25/0042", label="Rechnungsnummer", issued="06/05/2025"))
    assert first.vendor_id == kiesel.id and first.issue_date.isoformat() == "2025-05-06"
    edit = edit_input_of(first)
    edit.issue_date = "2025-06-05"
    invoices.edit_invoice(session, finance, first.id, edit)
    session.commit()
    hint = session.exec(select(VendorReadingHint)).one()
    assert (hint.field, hint.format) == ("issue_date", "%m/%d/%Y")
    second = _receive(session, finance, unusual_invoice("KB/25/0043", label="Rechnungsnummer", issued="07/04/2025"))
    assert second.issue_date.isoformat() == "2025-07-04"


def test_the_invoice_screen_shows_each_fields_value_confidence_and_where_it_was_read(db, session, finance):
    import vrm_dashboard.vrm_dashboard  # noqa: F401  (registers every state)
    from tests.helpers import ui_state
    from vrm_dashboard.services.identity import auth
    from vrm_dashboard.ui.states.invoice_detail import InvoiceDetailState

    _vendor(session, finance, "KIESEL", KIESEL)
    first = _receive(session, finance, unusual_invoice("KB/25/0042"))
    _correct_number(session, finance, first, "KB/25/0042")
    second = _receive(session, finance, unusual_invoice("KB/25/0043", shift=6))
    token = auth.sign_in(session, "finance_manager@test.example", "correct-horse-battery").token
    session.commit()
    state = ui_state(InvoiceDetailState, token)
    state.invoice_id = second.id
    state._load_extraction()
    rows = {row.field: row for row in state.extracted}
    number = rows["Invoice number"]
    assert (number.value, number.confidence) == ("KB/25/0043", "98%")
    assert number.evidence == f"page 1, near 'Vorgangskennung'; learned from invoice {first.number}"
    assert rows["Total"].evidence == "page 1, near 'Gesamt'" and rows["Issue date"].evidence == "page 1, near 'Datum'"
    assert rows["Due date"].evidence == ""  # not found, nowhere

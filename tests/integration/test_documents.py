"""Original documents open for staff and for their own vendor only, byte for byte."""
import hashlib

from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.helpers import SYSTEM, make_invoice, make_user, vendor_input
from vrm_dashboard.api.app import build_api
from vrm_dashboard.db.models import StoredDocument
from vrm_dashboard.services.identity import auth
from vrm_dashboard.services.vendors import records as vendor_service

PDF = b"%PDF-1.4 original bytes"


def _invoice_with_original(session):
    vendor = vendor_service.create_vendor(session, SYSTEM, vendor_input())
    other = vendor_service.create_vendor(session, SYSTEM, vendor_input(vendor_code="OTHER", name="Other Media"))
    document = StoredDocument(sha256=hashlib.sha256(PDF).hexdigest(), filename="inv.pdf",
                              content_type="application/pdf", size_bytes=len(PDF), content=PDF)
    session.add(document)
    session.flush()
    invoice = make_invoice(session, vendor.id, "DOC-1", 1000)
    invoice.document_id = document.id
    session.commit()
    return invoice, vendor, other


def _cookie(session, role, email, vendor_id=None):
    make_user(session, role, email=email, vendor_id=vendor_id)
    token = auth.sign_in(session, email, "correct-horse-battery").token
    session.commit()
    return {"vrm_session": token}


def test_original_opens_for_staff_and_its_own_vendor_only(db):
    with Session(db) as session:
        invoice, vendor, other = _invoice_with_original(session)
        vendor_id, other_id = vendor.id, other.id
        viewer = _cookie(session, "viewer", "viewer@test.example")
        own = _cookie(session, "vendor", "own@test.example", vendor_id)
        stranger = _cookie(session, "vendor", "stranger@test.example", other_id)
        invoice_id = invoice.id
    client = TestClient(build_api())
    url = f"/api/v1/invoices/{invoice_id}/original"
    for cookies in (viewer, own):
        client.cookies.clear()
        client.cookies.update(cookies)
        response = client.get(url)
        assert response.status_code == 200 and response.content == PDF
    client.cookies.clear()
    client.cookies.update(stranger)
    # Another vendor's invoice answers as a missing one: a vendor learns nothing of its payer's others.
    assert client.get(url).status_code == 404
    client.cookies.clear()
    assert client.get(url).status_code == 401

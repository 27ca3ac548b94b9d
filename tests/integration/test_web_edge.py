"""The API's HTTP edge on the real routes: a stored document is never served as a live page of
our origin, a hostile file name never breaks a header, and a signed-in browser's cookie
changes nothing from another site's page."""
from __future__ import annotations

import hashlib
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

import vrm_dashboard.vrm_dashboard  # noqa: F401  (registers every state)
from tests.helpers import SYSTEM, count_rows, make_invoice, make_user, signed_in_token, ui_state, vendor_input
from tests.scripted_einvoice import scripted_cii
from vrm_dashboard.api.app import build_api
from vrm_dashboard.config import settings
from vrm_dashboard.db.models import Intake, StoredDocument, Vendor, VendorDocument
from vrm_dashboard.services.identity import auth
from vrm_dashboard.services.identity.api_keys import create_api_key
from vrm_dashboard.services.intake import invoice_files
from vrm_dashboard.services.platform import export_files
from vrm_dashboard.services.vendors import records as vendor_service
from vrm_dashboard.ui.states.invoice_detail import InvoiceDetailState
from vrm_dashboard.web.security_headers import security_headers

XML = scripted_cii("XSS-1")
HOSTILE_NAME = 'Rechnung "7"\r\nX-Injected: 1; filename=evil.html €請求書.xml'
FAKE_PDF = b"<html><script>window.__pwned = 1</script></html>"


def _store(session: Session, content: bytes, filename: str, content_type: str) -> StoredDocument:
    document = StoredDocument(sha256=hashlib.sha256(content).hexdigest(), filename=filename,
                              content_type=content_type, size_bytes=len(content), content=content)
    session.add(document)
    session.flush()
    return document


@pytest.fixture
def edge(db):
    """The API behind the security headers, an XML original with a script and a hostile name, a
    vendor document that is HTML named a PDF, and the people who open them."""
    with Session(db) as session:
        vendor = vendor_service.create_vendor(session, SYSTEM, vendor_input())
        invoice = make_invoice(session, vendor.id, "XSS-1", 23_800)
        invoice.document_id = _store(session, XML, HOSTILE_NAME, "application/xml").id
        # As the mailbox records it: the original is served under the name it arrived with.
        session.add(Intake(channel="mailbox", kind="invoice", filename=HOSTILE_NAME, sha256="", status="accepted",
                           invoice_id=invoice.id))
        fake = _store(session, FAKE_PDF, "bank-letter.pdf", "application/pdf")
        vendor_document = VendorDocument(vendor_id=vendor.id, document_id=fake.id, kind="bank")
        session.add(vendor_document)
        session.commit()
        finance = make_user(session, "finance_manager", email="finance@edge.example")
        make_user(session, "vendor", email="vendor@edge.example", vendor_id=vendor.id)
        key = create_api_key(session, SYSTEM, "tests", user_id=finance.user_id)
        cookies = {who: auth.sign_in(session, f"{who}@edge.example", "correct-horse-battery").token
                   for who in ("finance", "vendor")}
        session.commit()
        ids = {"invoice": invoice.id, "vendor_document": vendor_document.id, "finance": finance.user_id}
    return TestClient(security_headers(build_api())), ids, key, cookies


def _signed_in(client: TestClient, token: str) -> TestClient:
    client.cookies.clear()
    client.cookies.set("vrm_session", token)
    return client


def _sandboxed(response) -> None:
    """Never a live document: sandboxed, unsniffed, and either downloaded or of a type no
    browser runs script in."""
    assert response.headers["content-security-policy"].startswith("sandbox;")
    assert response.headers["x-content-type-options"] == "nosniff"
    if not response.headers["content-disposition"].startswith("attachment;"):
        assert response.headers["content-type"].split(";")[0] in ("text/plain", "application/pdf")


def test_an_xml_original_with_a_script_is_served_as_text_or_a_download_never_as_a_page(edge):
    client, ids, _key, cookies = edge
    _signed_in(client, cookies["finance"])
    url = f"/api/v1/invoices/{ids['invoice']}/original"
    shown = client.get(url)
    assert shown.status_code == 200 and shown.content == XML
    assert shown.headers["content-type"] == "text/plain; charset=utf-8"
    _sandboxed(shown)
    downloaded = client.get(url, params={"download": True})
    assert downloaded.status_code == 200 and downloaded.content == XML
    assert downloaded.headers["content-disposition"].startswith("attachment;")
    _sandboxed(downloaded)
    # The vendor it belongs to opens it in its portal: the same.
    _signed_in(client, cookies["vendor"])
    portal = client.get(f"/api/v1/portal/invoices/{ids['invoice']}/file")
    assert portal.status_code == 200 and portal.headers["content-type"] == "text/plain; charset=utf-8"
    _sandboxed(portal)
    printed = client.get(f"/api/v1/portal/invoices/{ids['invoice']}/print")
    # The print view is a page of ours with one script allowed by its hash, never the file's.
    assert printed.status_code == 200 and "'sha256-" in printed.headers["content-security-policy"]
    assert "pwned" not in printed.text


def test_a_hostile_file_name_cannot_break_or_extend_the_header(edge):
    client, ids, _key, cookies = edge
    _signed_in(client, cookies["finance"])
    response = client.get(f"/api/v1/invoices/{ids['invoice']}/original")
    assert response.status_code == 200 and "x-injected" not in response.headers
    header = response.headers["content-disposition"]
    assert header.count(";") == 2 and header.startswith('inline; filename="')
    exact = quote('Rechnung "7"X-Injected: 1; filename=evil.html €請求書.xml', safe="!#$&+-.^_`|~")
    assert header.endswith(f"; filename*=UTF-8''{exact}")


def test_a_vendor_document_that_only_claims_to_be_a_pdf_is_downloaded_not_shown(edge):
    client, ids, _key, cookies = edge
    _signed_in(client, cookies["vendor"])
    response = client.get(f"/api/v1/vendor-documents/{ids['vendor_document']}")
    assert response.status_code == 200 and response.content == FAKE_PDF
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"].startswith("attachment;")
    _sandboxed(response)


def test_an_export_is_downloaded_sandboxed_under_its_own_name(edge, monkeypatch, tmp_path):
    client, ids, _key, cookies = edge
    monkeypatch.setattr(export_files, "EXPORT_DIR", tmp_path)
    name = f"{ids['finance']}-{'x' * 22}.csv"
    (tmp_path / name).write_bytes(b"number,total\r\nXSS-1,238.00\r\n")
    _signed_in(client, cookies["finance"])
    response = client.get(f"/api/v1/exports/{name}")
    assert response.status_code == 200 and response.content.startswith(b"number,total")
    assert response.headers["content-disposition"] == 'attachment; filename="invoices.csv"'
    _sandboxed(response)


def test_the_invoice_page_shows_a_mailed_xml_original_as_text(db):
    """Through intake, as a mailed e-invoice arrives; the page's state holds the XML as text to
    show escaped (and no frame to load it into)."""
    with Session(db) as session:
        outcome = invoice_files.receive_invoice(session, SYSTEM, scripted_cii("XSS-2"), "XSS-2.xml",
                                                channel="mailbox", sender="ap@kestrel.example")
        session.commit()
    assert outcome.status == "accepted", outcome.message
    state = ui_state(InvoiceDetailState, signed_in_token(db, "finance_manager"))
    state.invoice_id = outcome.invoice_id
    state._refresh()
    state._load_original()
    assert state.has_original and state.original_view == "text"
    assert "<rsm:CrossIndustryInvoice" in state.original_text and "window.__pwned = 1" in state.original_text
    assert "\n  <h:script" in state.original_text  # indented for reading


NEW_VENDOR = dict(vendor_code="EDGE-2", name="Edge Media", email="ap@edge.example", country="DE",
                  currency="EUR", iban="DE89370400440532013000")


def _vendors(db) -> int:
    with Session(db) as session:
        return count_rows(session, Vendor)


def test_a_signed_in_browser_changes_nothing_from_another_sites_page(db, edge):
    client, _ids, key, cookies = edge
    _signed_in(client, cookies["finance"])
    before = _vendors(db)
    for claimed in ({"Origin": "https://evil.example"}, {"Origin": "null"},
                    {"Referer": "https://evil.example/page"}, {}):
        refused = client.post("/api/v1/vendors", json=NEW_VENDOR, headers=claimed)
        assert refused.status_code == 403, claimed
        assert "own pages" in refused.json()["detail"]
    assert _vendors(db) == before
    # Reading is not changing: a GET carries on as before.
    assert client.get("/api/v1/vendors", headers={"Origin": "https://evil.example"}).status_code == 200


@pytest.mark.parametrize(("header", "value"), [
    ("Origin", "http://testserver"),  # the host the request was addressed to
    ("Referer", "http://testserver/vendors?page=2"),
    ("Origin", "VRM_PUBLIC_URL"),  # where the app is published, whatever host the request names
])
def test_the_same_browser_from_our_own_pages_may(db, edge, header, value):
    client, _ids, _key, cookies = edge
    _signed_in(client, cookies["finance"])
    if value == "VRM_PUBLIC_URL":
        value = settings().public_url
    created = client.post("/api/v1/vendors", json=NEW_VENDOR, headers={header: value})
    assert created.status_code == 201, created.text


def test_an_api_key_caller_is_not_asked_where_it_comes_from(db, edge):
    client, _ids, key, _cookies = edge
    client.cookies.clear()
    created = client.post("/api/v1/vendors", json=NEW_VENDOR,
                          headers={"Authorization": f"Bearer {key}", "Origin": "https://evil.example"})
    assert created.status_code == 201, created.text

"""Distribution over HTTP and the Distribution screen's handlers: the e-mail's view and dispute
links, the sent PDF, the report export, and the server refusing what a role may not do."""
import io

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlmodel import Session, select

import vrm_dashboard.vrm_dashboard  # noqa: F401  (registers every state)
from tests.distribution_book import distribution_book
from tests.helpers import (
    SYSTEM,
    call_handler as _call,
    free_port,
    make_user,
    signed_in_token as _token,
    ui_state as _state,
)
from tests.smtp_server import pdf_of, smtp_server
from vrm_dashboard.api.app import build_api
from vrm_dashboard.db.models import EmailDelivery, Invoice, InvoiceDispute
from vrm_dashboard.services.distribution import dispatch as distribution
from vrm_dashboard.services.identity.api_keys import create_api_key
from vrm_dashboard.services.mail import outgoing as outgoing_mail
from vrm_dashboard.ui.states.distribution import DistributionState, ReissueLine


@pytest.fixture
def sent(db):
    with Session(db) as session:
        book = distribution_book(session)
        vendor = make_user(session, "vendor", "me@acme.example", vendor_id=book.vendor.id)
        stranger = make_user(session, "vendor", "other@else.example")
        viewer = make_user(session, "viewer")
        keys = {name: create_api_key(session, SYSTEM, "tests", user_id=actor.user_id)
                for name, actor in (("vendor", vendor), ("stranger", stranger), ("viewer", viewer))}
        distribution.distribute(session)
        session.commit()
        with smtp_server(free_port()) as inbox:
            outgoing_mail.send_queued(session)
        deliveries = {session.get(Invoice, d.invoice_id).number: d for d in session.exec(select(EmailDelivery)).all()}
    headers = {name: {"Authorization": f"Bearer {key}"} for name, key in keys.items()}
    return TestClient(build_api()), headers, deliveries, inbox, book


def test_the_e_mail_link_opens_the_pdf_as_sent_and_marks_it_viewed(db, sent):
    client, _headers, deliveries, inbox, _book = sent
    token = deliveries["AR-2026-0042"].token
    response = client.get(f"/api/v1/distribution/view/{token}")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert response.content == pdf_of(inbox.to("billing@globex.example")[0])
    assert client.get("/api/v1/distribution/view/not-a-token").status_code == 404
    with Session(db) as session:
        assert session.get(EmailDelivery, deliveries["AR-2026-0042"].id).viewed_at is not None


def test_a_recipient_reports_a_problem_through_the_e_mail_link(db, sent):
    client, _headers, deliveries, _inbox, _book = sent
    token = deliveries["AR-2026-0042"].token
    form = client.get(f"/api/v1/distribution/dispute/{token}")
    assert form.status_code == 200 and "AR-2026-0042" in form.text and "<form" in form.text
    empty = client.post(f"/api/v1/distribution/dispute/{token}", data={"reason": "  "})
    assert "Say what is wrong" in empty.text
    done = client.post(f"/api/v1/distribution/dispute/{token}", data={"reason": "We ordered 1, not 2"})
    assert done.status_code == 200 and "Thank you" in done.text
    with Session(db) as session:
        dispute = session.exec(select(InvoiceDispute)).one()
    assert (dispute.raised_by_email, dispute.reason) == ("billing@globex.example", "We ordered 1, not 2")


def test_the_sent_pdf_is_for_its_vendor_and_staff_only(db, sent):
    client, headers, deliveries, inbox, book = sent
    url = f"/api/v1/distribution/invoices/{book.paid.id}/pdf"
    own = client.get(url, headers=headers["vendor"])
    assert own.status_code == 200 and own.content == pdf_of(inbox.to("ap@acme.example")[0])
    assert client.get(url, headers=headers["viewer"]).status_code == 200
    assert client.get(url, headers=headers["stranger"]).status_code == 403
    assert client.get(url).status_code == 401


def test_the_report_exports_to_excel_for_viewers(db, sent):
    client, headers, _deliveries, _inbox, _book = sent
    report = client.get("/api/v1/distribution/report?period=week", headers=headers["viewer"]).json()
    assert [(r["sent"], r["delivered"], r["success_rate"]) for r in report["rows"]] == [(2, 2, 100.0)]
    export = client.get("/api/v1/distribution/report.xlsx?period=month", headers=headers["viewer"])
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(export.content)).active
    assert sheet["B2"].value == 2
    assert client.get("/api/v1/distribution/report.xlsx", headers=headers["stranger"]).status_code == 403


def test_the_screen_refuses_distribution_actions_a_role_may_not_take(db, sent):
    _client, _headers, deliveries, _inbox, _book = sent
    viewer = _state(DistributionState, _token(db, "viewer", "viewer2@test.example"))
    _call(DistributionState, viewer, "run_now")
    assert "does not allow" in viewer.result
    _call(DistributionState, viewer, "send_again", str(deliveries["AR-2026-0042"].id))
    assert "does not allow" in viewer.result
    with Session(db) as session:
        dispute = InvoiceDispute(invoice_id=deliveries["AR-2026-0042"].invoice_id, reason="Wrong", raised_by_email="x@y.z")
        session.add(dispute)
        session.commit()
        dispute_id = str(dispute.id)
    viewer.reissue_dispute, viewer.reissue_lines, viewer.reissue_tax = dispute_id, [
        ReissueLine(description="Fixed", quantity="1", unit_price="1.00")], "0"
    _call(DistributionState, viewer, "reissue")
    assert "does not allow" in viewer.reissue_error
    finance = _state(DistributionState, _token(db, "finance_manager"))
    _call(DistributionState, finance, "load")
    assert [d.number for d in finance.dispute_rows] == ["AR-2026-0042"]
    assert {r.number for r in finance.rows} == {"SB-2026-0001", "AR-2026-0042"}
    _call(DistributionState, finance, "open_reissue", dispute_id)
    assert finance.reissue_open and [l.description for l in finance.reissue_lines] == [
        "Sponsored post", "Banner campaign"]
    _call(DistributionState, finance, "set_line", 1, "description", "Banner campaign, corrected")
    _call(DistributionState, finance, "reissue")
    assert finance.reissue_error == "" and "AR-2026-0042-R1" in finance.result

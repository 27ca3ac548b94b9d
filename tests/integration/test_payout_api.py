"""Payouts over the API and the Smart Payouts screen's handlers: remittance advice, the
provider's signed callbacks, and the server refusing what a role may not do."""
import io
import json

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

import vrm_dashboard.vrm_dashboard  # noqa: F401  (registers every state)
from tests.helpers import DUE_DAY, SYSTEM, call_handler as _call, make_user, ui_state as _state
from tests.payout_book import approved_book, provider_of, use_payout_environment
from vrm_dashboard.api.app import build_api
from vrm_dashboard.db.models import PaymentTransaction, Payout
from vrm_dashboard.rails.sandbox_provider import SIGNATURE_HEADER, sign
from vrm_dashboard.services.identity import auth
from vrm_dashboard.services.identity.api_keys import create_api_key
from vrm_dashboard.services.payouts import execution as payout_execution
from vrm_dashboard.ui.states.payouts import PayoutsState

PAY_DAY = DUE_DAY


@pytest.fixture
def paid(monkeypatch, db, tmp_path):
    use_payout_environment(monkeypatch, tmp_path)
    with Session(db) as session:
        book = approved_book(session)
        payout_execution.execute_payouts(session, today=PAY_DAY, provider=provider_of(tmp_path))
        session.commit()
        vendor_user = make_user(session, "vendor", email="me@pay.example", vendor_id=book.vendors["provider"].id)
        other_vendor = make_user(session, "vendor", email="other@sepa.example", vendor_id=book.vendors["sepa"].id)
        keys = {name: create_api_key(session, SYSTEM, "tests", user_id=actor.user_id) for name, actor in
                (("finance", book.finance), ("vendor", vendor_user), ("other", other_vendor))}
        session.commit()
        transfer = session.exec(select(PaymentTransaction).where(PaymentTransaction.rail == "provider")).one()
    headers = {name: {"Authorization": f"Bearer {key}"} for name, key in keys.items()}
    return TestClient(build_api()), headers, transfer, book


def test_the_remittance_advice_is_a_pdf_for_staff_and_the_paid_vendor_only(db, paid):
    client, headers, transfer, _book = paid
    response = client.get(f"/api/v1/payouts/transactions/{transfer.id}/remittance", headers=headers["finance"])
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    import pdfplumber
    text = pdfplumber.open(io.BytesIO(response.content)).pages[0].extract_text()
    assert "Remittance advice" in text and transfer.reference in text
    assert "PROVIDER-0" in text and "PROVIDER-1" in text and "246.91 EUR" in text
    # The same document every time: stored on first request.
    again = client.get(f"/api/v1/payouts/transactions/{transfer.id}/remittance", headers=headers["vendor"])
    assert again.status_code == 200 and again.content == response.content
    # Another vendor's transfer answers as a missing one.
    other = client.get(f"/api/v1/payouts/transactions/{transfer.id}/remittance", headers=headers["other"])
    assert other.status_code == 404
    with Session(db) as session:
        from vrm_dashboard.services.identity.users import find_by_email
        from vrm_dashboard.services.platform.actors import load_actor
        from vrm_dashboard.services.vendors import portal
        vendor = load_actor(session, find_by_email(session, "me@pay.example").id)
        assert [t.id for t in portal.own_payments(session, vendor)] == [transfer.id]
        other_vendor = load_actor(session, find_by_email(session, "other@sepa.example").id)
        assert portal.own_payments(session, other_vendor) == []


def test_a_remittance_advice_exists_only_once_paid(db, paid):
    client, headers, _transfer, _book = paid
    with Session(db) as session:
        sepa = session.exec(select(PaymentTransaction).where(PaymentTransaction.rail == "sepa")).one()
    response = client.get(f"/api/v1/payouts/transactions/{sepa.id}/remittance", headers=headers["finance"])
    assert response.status_code == 409


def test_provider_callbacks_must_be_signed_and_settle_once(monkeypatch, db, tmp_path):
    use_payout_environment(monkeypatch, tmp_path, VRM_SANDBOX_SETTLE_SECONDS="3600")
    client = TestClient(build_api())
    with Session(db) as session:
        approved_book(session)
        payout_execution.execute_payouts(session, today=PAY_DAY, provider=provider_of(tmp_path, settle=3600))
        session.commit()
        transfer = session.exec(select(PaymentTransaction).where(PaymentTransaction.rail == "provider")).one()
        assert transfer.status == "processing"
    body = json.dumps({"idempotency_key": transfer.idempotency_key, "status": "paid",
                       "payment_id": "po_123", "failure_reason": None}).encode()
    forged = client.post("/api/v1/payouts/provider-callbacks", content=body,
                         headers={SIGNATURE_HEADER: "0" * 64, "Content-Type": "application/json"})
    assert forged.status_code == 401
    signed = {SIGNATURE_HEADER: sign(payout_execution.provider_callback_secret(), body), "Content-Type": "application/json"}
    first = client.post("/api/v1/payouts/provider-callbacks", content=body, headers=signed)
    assert first.json() == {"received": True, "changed": True}
    repeat = client.post("/api/v1/payouts/provider-callbacks", content=body, headers=signed)
    assert repeat.json() == {"received": True, "changed": False}
    with Session(db) as session:
        transfer = session.get(PaymentTransaction, transfer.id)
        assert (transfer.status, transfer.confirmation_reference) == ("paid", "po_123")


def test_the_payouts_api_lists_with_totals(db, paid):
    client, headers, _transfer, _book = paid
    body = client.get("/api/v1/payouts?rail=provider", headers=headers["finance"]).json()
    assert body["total"] == 2 and {p["status"] for p in body["payouts"]} == {"paid"}
    assert any(t["status"] == "paid" and t["amount_minor"] == 24_691 for t in body["totals"])
    assert client.get("/api/v1/payouts", headers=headers["vendor"]).status_code == 403


def _token(db, email):
    with Session(db) as session:
        token = auth.sign_in(session, email, "correct-horse-battery").token
        session.commit()
    return token


def test_the_screen_refuses_payout_actions_a_role_may_not_take(db, paid):
    _client, _headers, _transfer, _book = paid
    with Session(db) as session:
        make_user(session, "viewer")
        manual = session.exec(select(PaymentTransaction).where(PaymentTransaction.rail == "manual")).one()
        failed_ids = [str(p.id) for p in session.exec(select(Payout)).all()]
    viewer = _state(PayoutsState, _token(db, "viewer@test.example"))
    _call(PayoutsState, viewer, "load")
    assert viewer.rows and not viewer.can_manage
    viewer.totals, viewer.totals_at = [], ""
    _call(PayoutsState, viewer, "tick", "")
    assert [t.label for t in viewer.totals] == ["Awaiting", "Processing", "Paid", "Failed"]
    assert viewer.totals_at
    viewer.bank_references = {str(manual.id): "SNEAKY"}
    _call(PayoutsState, viewer, "mark_paid", str(manual.id))
    assert "does not allow" in viewer.result
    viewer.selected = failed_ids
    _call(PayoutsState, viewer, "retry_selected")
    assert "does not allow" in viewer.result
    _call(PayoutsState, viewer, "run_now")
    assert "does not allow" in viewer.result
    finance = _state(PayoutsState, _token(db, "finance_manager@test.example"))
    finance.bank_references = {str(manual.id): "BANK-77"}
    _call(PayoutsState, finance, "mark_paid", str(manual.id))
    assert "recorded as paid" in finance.result
    with Session(db) as session:
        assert session.get(PaymentTransaction, manual.id).status == "paid"


def test_the_remittance_advice_is_e_mailed_to_the_vendor(monkeypatch, db, tmp_path):
    """Through a real SMTP server (aiosmtpd) on 127.0.0.1."""
    import email
    import os

    from aiosmtpd.controller import Controller

    from tests.helpers import free_port
    from vrm_dashboard import config
    from vrm_dashboard.db.models import EmailDelivery
    from vrm_dashboard.services.mail import outgoing as outgoing_mail

    received = []

    class Inbox:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
            received.append(envelope)
            return "250 OK"

    port = free_port()
    controller = Controller(Inbox(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        use_payout_environment(monkeypatch, tmp_path, VRM_SMTP_HOST="127.0.0.1", VRM_SMTP_PORT=str(port), VRM_SMTP_TLS="false")
        with Session(db) as session:
            approved_book(session)
            payout_execution.execute_payouts(session, today=PAY_DAY, provider=provider_of(tmp_path))
            session.commit()
            result = outgoing_mail.send_queued(session)
            session.commit()
            again = outgoing_mail.send_queued(session)
            deliveries = session.exec(select(EmailDelivery)).all()
    finally:
        controller.stop()
        for name in ("VRM_SMTP_HOST", "VRM_SMTP_PORT", "VRM_SMTP_TLS"):
            os.environ.pop(name, None)
        config.settings.cache_clear()
    assert (result.rows, again.rows) == (1, 0)
    assert [(d.status, d.recipient) for d in deliveries] == [("sent", "ap@acme.example")]
    message = email.message_from_bytes(received[0].content)
    assert message["Subject"].startswith("Remittance advice VRM")
    attachment = next(part for part in message.walk() if part.get_content_type() == "application/pdf")
    assert attachment.get_payload(decode=True).startswith(b"%PDF")

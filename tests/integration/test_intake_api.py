"""Intake through the REST API: invoice files, activity files and activity rows."""
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from tests.helpers import SYSTEM, make_user, vendor_input
from tests.invoice_corpus import make_invoice
from vrm_dashboard.api.app import build_api
from vrm_dashboard.db.models import Invoice
from vrm_dashboard.services.identity.api_keys import create_api_key
from vrm_dashboard.services.vendors import rate_rules, records as vendor_service


@pytest.fixture
def setup(db):
    client = TestClient(build_api())
    with Session(db) as session:
        finance = make_user(session, "finance_manager")
        viewer = make_user(session, "viewer")
        vendor = vendor_service.create_vendor(session, finance, vendor_input())
        rate_rules.set_rate_card(session, finance, vendor.id, "EUR")
        rate_rules.set_rate_rule(session, finance, vendor.id, "clicks", per_unit_rate="0.02")
        keys = {name: create_api_key(session, SYSTEM, "tests", user_id=actor.user_id)
                for name, actor in (("finance", finance), ("viewer", viewer))}
        session.commit()
    return client, {name: {"Authorization": f"Bearer {key}"} for name, key in keys.items()}


def test_invoice_files_arrive_through_the_api(db, setup):
    client, headers = setup
    sample = make_invoice(41, "es", "classic")
    files = [("files", ("factura.pdf", sample.pdf, "application/pdf")), ("files", ("empty.pdf", b"", "application/pdf"))]
    response = client.post("/api/v1/invoices/intake", files=files, headers=headers["finance"])
    assert response.status_code == 200
    accepted, failed = response.json()
    assert accepted["status"] == "accepted" and accepted["invoice_status"] == "draft"
    assert failed["status"] == "failed" and failed["message"] == "The file is empty"
    refused = client.post("/api/v1/invoices/intake", files=files[:1], headers=headers["viewer"])
    assert refused.status_code == 403
    log = client.get("/api/v1/intakes", headers=headers["finance"]).json()
    assert log["total"] == 2 and log["items"][0]["status"] == "failed"


def test_activity_rows_and_files_through_the_api(db, setup):
    client, headers = setup
    rows = {"source": "tracker", "rows": [
        {"vendor": "ACME-1", "activity_type": "clicks", "date": "2026-10-01", "quantity": "500", "row_id": "e-1"},
        {"vendor": "ACME-1", "activity_type": "clicks", "date": "2026-10-02", "quantity": "250", "row_id": "e-2"}]}
    first = client.post("/api/v1/activity", json=rows, headers=headers["finance"])
    assert first.status_code == 200 and first.json()["new_rows"] == 2
    again = client.post("/api/v1/activity", json=rows, headers=headers["finance"])
    assert again.json()["new_rows"] == 0
    bad = client.post("/api/v1/activity/imports", headers=headers["finance"],
                      files={"file": ("bad.csv", b"vendor,activity_type,date,quantity\nGHOST,clicks,2026-10-01,1\n")})
    assert bad.status_code == 422 and bad.json()["problems"] == [{"row": 2, "reason": "unknown vendor GHOST"}]
    with Session(db) as session:
        invoice = session.execute(select(Invoice)).scalar_one()
        assert invoice.total_minor == 1500  # 750 clicks x 0.02

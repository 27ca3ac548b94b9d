"""What API fuzzing found, replayed exactly: each request here once answered 500 (or, for
`payment_terms_days: true`, quietly set one day). Now each gets a clear 4xx and changes nothing."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from tests.helpers import SYSTEM
from vrm_dashboard.api.app import build_api
from vrm_dashboard.db.models import Invoice, Organization, PaymentTransaction, Vendor, stored_id
from vrm_dashboard.services.identity.api_keys import create_api_key
from vrm_dashboard.services.identity.users import add_user

BEYOND_64_BITS = 2**64


@dataclass
class Api:
    client: TestClient
    admin: dict[str, str]
    customer_id: int


@pytest.fixture
def api(db) -> Api:
    """The API, an admin of a distributor with its API key, and one of the distributor's customers."""
    with Session(db) as session:
        distributor = Organization(name="Northwind", tier="distributor", country="DE")
        session.add(distributor)
        session.flush()
        customer = Organization(name="Customer 1", tier="direct_customer", parent_id=distributor.id, country="DE",
                                payment_terms_days=30)
        session.add(customer)
        admin = add_user(session, SYSTEM, "admin@fuzz.example", "Admin", "correct-horse-battery", ["admin"],
                         organization_id=distributor.id)
        session.flush()
        key = create_api_key(session, SYSTEM, "tests", user_id=admin.id)
        session.commit()
        customer_id = stored_id(customer)
    return Api(TestClient(build_api(), raise_server_exceptions=False), {"Authorization": f"Bearer {key}"}, customer_id)


def _refused(response, status: int, field: str | None = None) -> None:
    assert response.status_code == status, response.text
    if field:
        assert field in response.json()["errors"], response.text


def test_a_remittance_advice_waits_for_a_confirmed_payment_date(db, api):
    with Session(db) as session:
        vendor = Vendor(vendor_code="V1", name="Acme", legal_name="Acme GmbH", email="ap@acme.example", country="DE",
                        currency="EUR", payment_method="sepa", payment_source="manual", activity_status="active")
        session.add(vendor)
        session.flush()
        # As the demo data marks its transfers: paid, with no payment date.
        undated = PaymentTransaction(vendor_id=vendor.id, rail="sepa", status="paid", source_currency="EUR",
                                     source_amount_minor=100, target_currency="EUR", target_amount_minor=100,
                                     reference="VRM000000000001")
        session.add(undated)
        session.commit()
        transaction_id = stored_id(undated)
    answer = api.client.get(f"/api/v1/payouts/transactions/{transaction_id}/remittance", headers=api.admin)
    _refused(answer, 409)
    assert "confirmed paid" in answer.json()["detail"]


@pytest.mark.parametrize("method, path, body", [
    ("GET", "/api/v1/receivables/{id}/collection-attempts", None),
    ("PUT", "/api/v1/organizations/{id}/billing", {}),
    ("GET", "/api/v1/payouts/transactions/{id}/remittance", None),
    ("GET", "/api/v1/vendors/{id}", None),
    ("POST", "/api/v1/payouts/approve", {"payout_ids": [BEYOND_64_BITS]}),
    ("PUT", "/api/v1/organizations/payment-terms", {"organization_ids": [BEYOND_64_BITS], "payment_terms_days": 30}),
], ids=lambda v: v if isinstance(v, str) else "")
def test_ids_beyond_64_bits_name_nothing(api, method, path, body):
    answer = api.client.request(method, path.format(id=BEYOND_64_BITS), json=body, headers=api.admin)
    _refused(answer, 404)


def test_true_is_not_a_number_of_days(db, api):
    answer = api.client.put("/api/v1/organizations/payment-terms", headers=api.admin,
                            json={"organization_ids": [api.customer_id], "payment_terms_days": True})
    _refused(answer, 422)
    with Session(db) as session:
        assert session.get(Organization, api.customer_id).payment_terms_days == 30


@pytest.mark.parametrize("query, field", [
    ("days=739953", "days"), (f"days={BEYOND_64_BITS}", "days"), ("days=0", "days"), ("period=%1F", "period"),
])
@pytest.mark.parametrize("path", ["/api/v1/distribution/report", "/api/v1/distribution/report.xlsx"])
def test_the_distribution_report_spans_one_to_ten_years_by_day_week_or_month(api, path, query, field):
    _refused(api.client.get(f"{path}?{query}", headers=api.admin), 422, field)


def _receivable(api: Api, **overrides: object) -> dict:
    return {"organization_id": api.customer_id, "currency": "EUR", "issue_date": "2026-11-02",
            "lines": [{"description": "Licences", "quantity": "2", "unit_price_minor": 5000}], **overrides}


@pytest.mark.parametrize("overrides, field", [
    ({"issue_date": "9999-12-31"}, "issue_date"),
    ({"lines": [{"description": "Licences", "unit_price_minor": BEYOND_64_BITS}]}, "lines"),
    ({"lines": [{"description": "Licences", "quantity": "1E+30", "unit_price_minor": 5}]}, "lines"),
    ({"lines": [{"description": "Licences", "quantity": "9E+14", "unit_price_minor": 900}]}, "lines"),
    ({"tax_rate_percent": "1E+20"}, "tax_rate_percent"),
], ids=["issue-date", "price", "quantity", "total", "tax-rate"])
def test_a_customer_invoice_beyond_the_calendar_or_any_amount_is_refused(db, api, overrides, field):
    _refused(api.client.post("/api/v1/receivables", json=_receivable(api, **overrides), headers=api.admin), 422, field)
    with Session(db) as session:
        assert session.exec(select(Invoice)).first() is None
    assert api.client.post("/api/v1/receivables", json=_receivable(api), headers=api.admin).status_code == 201


def test_a_posting_date_beyond_the_calendar_is_refused(db, api):
    created = api.client.post("/api/v1/receivables", json=_receivable(api), headers=api.admin).json()
    answer = api.client.patch(f"/api/v1/invoices/{created['id']}/posting-date", json={"posting_date": "9999-12-31"},
                              headers=api.admin)
    _refused(answer, 422, "posting_date")
    with Session(db) as session:
        assert session.get(Invoice, created["id"]).due_date.isoformat() == created["due_date"]


@pytest.mark.parametrize("period", ["9999-12", "2026-11x", "2026-1", "٢٠٢٦-١١"])
def test_a_consolidation_period_is_exactly_a_month_of_the_calendar(api, period):
    _refused(api.client.post(f"/api/v1/organizations/{api.customer_id}/consolidate", params={"period": period},
                             headers=api.admin), 422, "period")


def test_only_the_database_refusing_a_number_answers_404():
    """An overflow in our own arithmetic stays a server error, to be fixed where it happens."""
    app = build_api()

    @app.get("/api/v1/overflowing-date")
    def overflowing_date() -> dict:
        raise OverflowError("date value out of range")

    assert TestClient(app, raise_server_exceptions=False).get("/api/v1/overflowing-date").status_code == 500

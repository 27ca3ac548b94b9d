"""The REST API: API keys, role scopes, validation errors and the OpenAPI document."""
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.helpers import SYSTEM, make_user
from vrm_dashboard.api.app import build_api
from vrm_dashboard.services.identity.api_keys import create_api_key

NEW_VENDOR = dict(vendor_code="API-1", name="Api Media", email="ap@api.example", country="DE",
                  currency="EUR", iban="DE89370400440532013000")


@pytest.fixture
def client(db):
    return TestClient(build_api())


def _key(db, role):
    with Session(db) as session:
        actor = make_user(session, role)
        key = create_api_key(session, SYSTEM, "tests", user_id=actor.user_id)
        session.commit()
    return {"Authorization": f"Bearer {key}"}


def test_requests_without_a_valid_key_are_refused(client):
    assert client.get("/api/v1/vendors").status_code == 401
    assert client.get("/api/v1/vendors", headers={"Authorization": "Bearer vrm_bad_key"}).status_code == 401


def test_create_list_get_and_update_a_vendor(db, client):
    headers = _key(db, "finance_manager")
    created = client.post("/api/v1/vendors", json=NEW_VENDOR, headers=headers)
    assert created.status_code == 201, created.text
    vendor_id = created.json()["id"]
    listed = client.get("/api/v1/vendors", params={"search": "api"}, headers=headers).json()
    assert listed["total"] == 1 and listed["items"][0]["vendor_code"] == "API-1"
    patched = client.patch(f"/api/v1/vendors/{vendor_id}", json={"name": "Api Media Group"}, headers=headers)
    assert patched.status_code == 200 and patched.json()["name"] == "Api Media Group"
    assert client.get(f"/api/v1/vendors/{vendor_id}", headers=headers).json()["currency"] == "EUR"
    assert client.get("/api/v1/vendors/9999", headers=headers).status_code == 404


def test_bad_input_is_a_422_with_a_message_per_field(db, client):
    headers = _key(db, "finance_manager")
    response = client.post("/api/v1/vendors", json={**NEW_VENDOR, "iban": "DE00", "currency": "ABC"},
                           headers=headers)
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"iban", "currency"}
    assert client.get("/api/v1/vendors", headers=headers).json()["total"] == 0


def test_keys_act_with_their_users_role(db, client):
    viewer = _key(db, "viewer")
    assert client.get("/api/v1/vendors", headers=viewer).status_code == 200
    assert client.post("/api/v1/vendors", json=NEW_VENDOR, headers=viewer).status_code == 403


def test_openapi_document_is_served(client):
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/vendors" in spec["paths"] and "/api/v1/vendors/{vendor_id}" in spec["paths"]

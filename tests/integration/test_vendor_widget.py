"""The embeddable widget: a vendor links only its own figures; the link opens them for
anyone until it expires, and nothing else; a tampered or expired link opens nothing."""
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.helpers import SYSTEM, make_invoice, make_user, vendor_input
from vrm_dashboard.api.app import build_api
from vrm_dashboard.services.identity.api_keys import create_api_key
from vrm_dashboard.services.invoices import rollup as invoice_rollup
from vrm_dashboard.services.platform import signed_tokens
from vrm_dashboard.services.platform.errors import PermissionDenied
from vrm_dashboard.services.vendors import records as vendors, widget as vendor_widget
from vrm_dashboard.web.security_headers import security_headers


def test_a_vendor_embeds_its_own_payout_status_and_nobody_elses(db):
    with Session(db) as session:
        mine = vendors.create_vendor(session, SYSTEM, vendor_input(vendor_code="A-1", name="Acme Media"))
        theirs = vendors.create_vendor(session, SYSTEM, vendor_input(vendor_code="B-1", name="Beta Studios"))
        make_invoice(session, mine.id, "A-INV-1", 12_345)
        invoice_rollup.refresh(session)
        vendor = make_user(session, "vendor", "me@acme.example", vendor_id=mine.id)
        viewer = make_user(session, "viewer")
        keys = {name: create_api_key(session, SYSTEM, "t", user_id=a.user_id) for name, a in
                (("vendor", vendor), ("viewer", viewer))}
        session.commit()
        mine_id, theirs_id = mine.id, theirs.id
    # Through the HTTP edge, which gives the widget its framing policy.
    client = TestClient(security_headers(build_api()))
    auth = lambda name: {"Authorization": f"Bearer {keys[name]}"}  # noqa: E731
    made = client.post(f"/api/v1/vendors/{mine_id}/widget-link", json={"hours": 48}, headers=auth("vendor"))
    assert made.status_code == 200 and "<iframe" in made.json()["iframe"]
    assert client.post(f"/api/v1/vendors/{theirs_id}/widget-link", json={}, headers=auth("vendor")).status_code == 403
    # Seeing vendors is not handing out their figures: widget links need vendor.widget.
    assert client.post(f"/api/v1/vendors/{theirs_id}/widget-link", json={}, headers=auth("viewer")).status_code == 403
    with Session(db) as session:
        unlinked = make_user(session, "vendor", "nobody@else.example")
        assert "not linked" in str(pytest.raises(PermissionDenied, vendor_widget.make_link, session, unlinked,
                                                 None).value)
    assert client.post(f"/api/v1/vendors/{mine_id}/widget-link", json={"hours": 0},
                       headers=auth("vendor")).status_code == 422

    path = made.json()["url"].split("/api/v1", 1)[1]
    page = client.get(f"/api/v1{path}")  # no key, no cookie: the link is the credential
    assert page.status_code == 200 and "Acme Media" in page.text and "€123.45" in page.text
    assert "Beta Studios" not in page.text
    policy = page.headers["content-security-policy"]
    # Any site may frame it, and nothing in it runs.
    assert "frame-ancestors *" in policy and "default-src 'none'" in policy and "script-src" not in policy
    assert client.get(f"/api/v1{path}.json").json()["vendor_code"] == "A-1"

    token = path.rsplit("/", 1)[1]
    forged = signed_tokens.make(vendor_widget.PURPOSE, [str(theirs_id)], timedelta(hours=1))[:-4] + "0000"
    assert client.get(f"/api/v1/widget/{forged}").status_code == 401
    retargeted = token.replace(token.split(".")[0], signed_tokens.make(vendor_widget.PURPOSE, [str(theirs_id)],
                                                                       timedelta(hours=1)).split(".")[0])
    assert client.get(f"/api/v1/widget/{retargeted}").status_code == 401
    expired = signed_tokens.make(vendor_widget.PURPOSE, [str(mine_id)], timedelta(hours=-1))
    answer = client.get(f"/api/v1/widget/{expired}")
    assert answer.status_code == 401 and "expired" in answer.text

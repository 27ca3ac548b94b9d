"""Widget links: their own permission (vendor.widget), listed for the vendor and for staff,
revocable (audited), and working only while the vendor and the account that made the link are
active; existing databases get the permission from the migration."""
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

import vrm_dashboard.vrm_dashboard  # noqa: F401  (registers every state)
from tests.helpers import SYSTEM, call_handler, make_user, signed_in_token, ui_state, vendor_input
from vrm_dashboard.api.app import build_api
from vrm_dashboard.db import migrations
from vrm_dashboard.db.models import AuditEntry, User, Vendor
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.identity import access_control, user_admin
from vrm_dashboard.services.identity.api_keys import create_api_key
from vrm_dashboard.services.vendors import records as vendors
from vrm_dashboard.ui.states.directory import PortalState


@pytest.fixture
def book(db):
    """Two active vendors, a vendor login for the first, staff of every role; their API keys."""
    with Session(db) as session:
        mine = vendors.create_vendor(session, SYSTEM, vendor_input(vendor_code="A-1", name="Acme Media"))
        theirs = vendors.create_vendor(session, SYSTEM, vendor_input(vendor_code="B-1", name="Beta Studios"))
        people = {"vendor": make_user(session, "vendor", "me@acme.example", vendor_id=mine.id)}
        for role in ("admin", "finance_manager", "approver", "viewer"):
            people[role] = make_user(session, role)
        keys = {role: create_api_key(session, SYSTEM, "t", user_id=actor.user_id) for role, actor in people.items()}
        session.commit()
        return {"mine": mine.id, "theirs": theirs.id, "keys": keys}


def _as(book, role: str) -> dict:  # type: ignore[no-untyped-def]
    return {"Authorization": f"Bearer {book['keys'][role]}"}


def _page(client: TestClient, url: str):  # type: ignore[no-untyped-def]
    return client.get("/api/v1" + url.split("/api/v1", 1)[1])


def test_widget_links_need_their_own_permission(db, book):
    client = TestClient(build_api())
    mine, theirs = book["mine"], book["theirs"]
    for role in ("viewer", "approver"):  # they may see vendors, but not hand out their figures
        assert client.post(f"/api/v1/vendors/{mine}/widget-link", json={}, headers=_as(book, role)).status_code == 403
        assert client.get(f"/api/v1/vendors/{mine}/widget-links", headers=_as(book, role)).status_code == 403
    for role in ("admin", "finance_manager"):
        assert client.post(f"/api/v1/vendors/{theirs}/widget-link", json={}, headers=_as(book, role)).status_code == 200
    assert client.post(f"/api/v1/vendors/{mine}/widget-link", json={}, headers=_as(book, "vendor")).status_code == 200
    for refused in (client.post(f"/api/v1/vendors/{theirs}/widget-link", json={}, headers=_as(book, "vendor")),
                    client.get(f"/api/v1/vendors/{theirs}/widget-links", headers=_as(book, "vendor"))):
        assert refused.status_code == 403 and "Beta" not in refused.text
    with Session(db) as session:
        admin = make_user(session, "platform_admin", "root@test.example")  # grants are the installation's
        access_control.set_grant(session, admin, "finance_manager", Action.VENDOR_WIDGET, False)
        session.commit()
    assert client.post(f"/api/v1/vendors/{mine}/widget-link", json={},
                       headers=_as(book, "finance_manager")).status_code == 403


def test_links_are_listed_and_a_revoked_link_opens_nothing(db, book):
    client = TestClient(build_api())
    mine = book["mine"]
    by_vendor = client.post(f"/api/v1/vendors/{mine}/widget-link", json={"hours": 48}, headers=_as(book, "vendor"))
    by_staff = client.post(f"/api/v1/vendors/{mine}/widget-link", json={}, headers=_as(book, "finance_manager"))
    assert _page(client, by_staff.json()["url"]).status_code == 200

    listed = client.get(f"/api/v1/vendors/{mine}/widget-links", headers=_as(book, "finance_manager")).json()
    assert [(link["id"], link["created_by"], link["state"]) for link in listed] == [
        (by_staff.json()["id"], "finance_manager@test.example", "active"),
        (by_vendor.json()["id"], "me@acme.example", "active")]
    assert "token" not in listed[0] and by_staff.json()["url"].rsplit("/", 1)[1] not in str(listed)
    own = client.get(f"/api/v1/vendors/{mine}/widget-links", headers=_as(book, "vendor")).json()
    assert [link["id"] for link in own] == [link["id"] for link in listed]

    staff_link = by_staff.json()["id"]
    assert client.post(f"/api/v1/vendors/{book['theirs']}/widget-links/{staff_link}/revoke",
                       headers=_as(book, "admin")).status_code == 404  # not that vendor's link
    revoked = client.post(f"/api/v1/vendors/{mine}/widget-links/{staff_link}/revoke", headers=_as(book, "vendor"))
    assert revoked.status_code == 200
    assert (revoked.json()["state"], revoked.json()["revoked_by"]) == ("revoked", "me@acme.example")
    url = by_staff.json()["url"]
    page = _page(client, url)
    assert page.status_code == 401 and "revoked" in page.text and "Acme" not in page.text
    assert client.get("/api/v1" + url.split("/api/v1", 1)[1] + ".json").status_code == 401
    assert _page(client, by_vendor.json()["url"]).status_code == 200  # the other link still works
    assert client.post(f"/api/v1/vendors/{mine}/widget-links/{staff_link}/revoke",
                       headers=_as(book, "vendor")).status_code == 409
    with Session(db) as session:
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "vendor.widget_link_revoke")).one()
        assert entry.object_id == str(mine) and entry.actor_label == "me@acme.example"


@pytest.mark.parametrize("status", ["inactive", "on_hold", "onboarding"])
def test_a_link_stops_while_its_vendor_is_not_active(db, book, status):
    client = TestClient(build_api())
    mine = book["mine"]
    url = client.post(f"/api/v1/vendors/{mine}/widget-link", json={}, headers=_as(book, "finance_manager")).json()["url"]

    def set_status(value: str) -> None:
        with Session(db) as session:
            vendor = session.get(Vendor, mine)
            vendor.activity_status = value
            session.add(vendor)
            session.commit()

    set_status(status)
    page = _page(client, url)
    assert page.status_code == 401 and "not available" in page.text and "Acme" not in page.text
    assert client.get("/api/v1" + url.split("/api/v1", 1)[1] + ".json").status_code == 401
    made = client.post(f"/api/v1/vendors/{mine}/widget-link", json={}, headers=_as(book, "finance_manager"))
    assert made.status_code == 409 and "only while it is active" in made.json()["detail"]
    set_status("active")
    assert _page(client, url).status_code == 200


def test_a_link_stops_while_the_account_that_made_it_is_deactivated(db, book):
    """A staff member who leaves, or a vendor user who is let go, takes their links along:
    the frame says only that it is unavailable, the list says suspended, and the links of
    others go on working."""
    client = TestClient(build_api())
    mine = book["mine"]
    made = {role: client.post(f"/api/v1/vendors/{mine}/widget-link", json={}, headers=_as(book, role)).json()
            for role in ("finance_manager", "vendor")}

    with Session(db) as session:
        root = make_user(session, "admin", "root@test.example")

    def set_active(email: str, active: bool) -> None:
        with Session(db) as session:
            user = session.exec(select(User).where(User.email == email)).one()
            user_admin.set_active(session, root, user.id, active)
            session.commit()

    def states() -> dict[int, str]:
        listed = client.get(f"/api/v1/vendors/{mine}/widget-links", headers=_as(book, "admin")).json()
        return {link["id"]: link["state"] for link in listed}

    set_active("finance_manager@test.example", False)
    page = _page(client, made["finance_manager"]["url"])
    assert page.status_code == 401 and "not available" in page.text and "Acme" not in page.text
    assert "finance" not in page.text
    assert _page(client, made["vendor"]["url"]).status_code == 200
    assert states() == {made["finance_manager"]["id"]: "suspended", made["vendor"]["id"]: "active"}
    set_active("me@acme.example", False)
    assert _page(client, made["vendor"]["url"]).status_code == 401
    assert client.get("/api/v1" + made["vendor"]["url"].split("/api/v1", 1)[1] + ".json").status_code == 401

    set_active("finance_manager@test.example", True)
    assert _page(client, made["finance_manager"]["url"]).status_code == 200
    assert states()[made["finance_manager"]["id"]] == "active"


def test_the_portal_makes_lists_and_revokes_the_vendors_own_links(db, book):
    with Session(db) as session:
        make_user(session, "vendor", "two@acme.example", vendor_id=book["mine"])
    from vrm_dashboard.services.identity import auth
    with Session(db) as session:
        token = auth.sign_in(session, "two@acme.example", "correct-horse-battery").token
        session.commit()
    state = ui_state(PortalState, token)
    call_handler(PortalState, state, "make_widget")
    assert "<iframe" in state.widget_iframe and state.widget_message == ""
    assert [(link.state, link.active) for link in state.widget_links] == [("Active", True)]
    call_handler(PortalState, state, "revoke_widget", state.widget_links[0].id)
    assert "no longer works" in state.widget_message
    assert [(link.state, link.active) for link in state.widget_links] == [("Revoked", False)]
    call_handler(PortalState, state, "revoke_widget", "../1")
    assert state.widget_message == "No such widget link"
    viewer = ui_state(PortalState, signed_in_token(db, "viewer", "v2@test.example"))
    call_handler(PortalState, viewer, "make_widget")
    assert viewer.widget_iframe == "" and "does not allow" in viewer.widget_message


def test_an_existing_database_gets_the_permission_from_the_migration(db):
    """The catalogue was installed before this release: upgrading grants vendor.widget to the
    roles that have it by default, and to no other."""
    url = db.url.render_as_string(hide_password=False)
    db.dispose()
    migrations.downgrade(url, "0007")
    with Session(db) as session:
        assert not any(p == Action.VENDOR_WIDGET.value for p, _d, *_ in access_control.permission_matrix(
            session, SYSTEM)[1])
    migrations.upgrade(url)
    with Session(db) as session:
        granted = {role for role in ("admin", "finance_manager", "approver", "viewer", "vendor")
                   if access_control.is_granted(session, role, Action.VENDOR_WIDGET)}
    assert granted == {"admin", "finance_manager", "vendor"}

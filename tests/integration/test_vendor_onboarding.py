"""Vendor self-onboarding: an invitation e-mailed with its signed link, the profile steps with
their checks, the reviewer seeing what is missing, approval; sign-up; and a vendor never
reaching another vendor's records through a service, a route or a Reflex handler."""
import hashlib
import socket
from datetime import date
from types import SimpleNamespace

import pytest
import reflex as rx
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

import vrm_dashboard.vrm_dashboard  # noqa: F401  (registers every state)
from tests.helpers import SYSTEM, call_handler, count_rows, make_invoice, make_user, ui_state, vendor_input
from tests.smtp_server import smtp_server
from vrm_dashboard.api.app import build_api
from vrm_dashboard.db.models import (
    AuditEntry,
    EmailDelivery,
    Intake,
    Notification,
    StoredDocument,
    User,
    Vendor,
    VendorContact,
    stored_id,
)
from vrm_dashboard.domain.tax_forms import TaxInput
from vrm_dashboard.services.identity import auth, user_admin
from vrm_dashboard.services.intake import invoice_files as invoice_intake
from vrm_dashboard.services.mail import outgoing as outgoing_mail
from vrm_dashboard.services.platform import settings as settings_cfg
from vrm_dashboard.services.platform.actors import load_actor
from vrm_dashboard.services.platform.errors import Conflict, FieldErrors, NotFound, PermissionDenied
from vrm_dashboard.services.vendors import (
    onboarding,
    own_invoices as vendor_invoices,
    records as vendors,
    widget as vendor_widget,
)
from vrm_dashboard.ui.states.directory import PortalState
from vrm_dashboard.ui.states.vendor_profile import VendorProfileState

PDF = b"%PDF-1.4\n% a registration extract\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _with_smtp(session, port: int):  # type: ignore[no-untyped-def]
    import os

    from vrm_dashboard import config
    os.environ.update(VRM_SMTP_HOST="127.0.0.1", VRM_SMTP_PORT=str(port), VRM_SMTP_TLS="false")
    config.settings.cache_clear()
    try:
        return outgoing_mail.send_queued(session, parallel=False)
    finally:
        for name in ("VRM_SMTP_HOST", "VRM_SMTP_PORT", "VRM_SMTP_TLS"):
            os.environ.pop(name)
        config.settings.cache_clear()


def _sign_in_by_link(session: Session, link: str, email: str):  # type: ignore[no-untyped-def]
    user_admin.choose_password(session, link.split("token=", 1)[1], "vendor-password-1")
    session.commit()
    return auth.sign_in(session, email, "vendor-password-1")


def _complete(session: Session, me) -> None:  # type: ignore[no-untyped-def]
    onboarding.save_profile(session, me, onboarding.ProfileInput(
        name="Muster Media", legal_name="Muster Media GmbH", country="DE", currency="EUR",
        email="billing@muster.example", address="Hauptstr. 1\n10115 Berlin", website="https://muster.example"))
    onboarding.add_contact(session, me, onboarding.ContactInput("Erika Muster", "erika@muster.example", "Accounts"))
    onboarding.save_payout_method(session, me, onboarding.PayoutInput("sepa", iban="DE89 3704 0044 0532 0130 00"))
    onboarding.save_tax_form(session, me, TaxInput(
        form="w8bene", name="Muster Media GmbH", classification="Corporation", country="DE",
        address="Hauptstr. 1, 10115 Berlin", foreign_tin="2893081508152", chapter4_status="Active NFFE",
        signer_name="Erika Muster", certified=True), vat_id="DE136695976")
    onboarding.add_document(session, me, PDF, "register.pdf", "application/pdf", "identity")
    onboarding.add_document(session, me, PDF + b"bank", "bank-letter.pdf", "application/pdf", "bank")
    session.commit()


def test_an_invited_vendor_onboards_and_is_approved_once_nothing_is_missing(db):
    with Session(db) as session:
        finance = make_user(session, "finance_manager")
        sent = onboarding.invite_vendor(session, finance, "Muster Media", "erika@muster.example", "DE", "EUR",
                                        "Erika Muster")
        session.commit()
        vendor_id = sent.vendor.id
        assert sent.vendor.activity_status == "onboarding" and sent.vendor.payment_method == "manual"
        with smtp_server(port := free_port()) as inbox:
            assert _with_smtp(session, port).rows == 1
        mail = inbox.to("erika@muster.example")[0]
        assert "invites you" in mail["Subject"] and sent.link in mail.get_content()

        me = _sign_in_by_link(session, sent.link, "erika@muster.example").actor
        assert me.vendor_id == vendor_id and me.roles == {"vendor"}
        # Not approved yet: no invoices, no widget.
        with pytest.raises(PermissionDenied, match="not approved"):
            invoice_intake.receive_invoice(session, me, PDF, "inv.pdf", channel="portal")
        view = onboarding.own_profile(session, me)
        assert {m.step.value for m in view.missing} == {"profile", "contacts", "payout", "tax", "documents"}
        with pytest.raises(Conflict, match="Still missing"):
            onboarding.submit(session, me)

        # Each step checks what it is given and keeps nothing that is wrong.
        with pytest.raises(FieldErrors) as bad:
            onboarding.save_payout_method(session, me, onboarding.PayoutInput("sepa", iban="DE89 3704 0044 0532 0130 01"))
        assert "IBAN" in bad.value.errors["iban"]
        with pytest.raises(FieldErrors) as bad:
            onboarding.save_payout_method(session, me, onboarding.PayoutInput("ach", routing_number="123456789",
                                                                              account_number="12345678"))
        assert "Routing number" in bad.value.errors["routing_number"]
        with pytest.raises(FieldErrors) as bad:
            onboarding.save_tax_form(session, me, TaxInput(form="w8bene", name="X", country="DE"), vat_id="DE123")
        assert {"vat_id", "certified", "classification", "chapter4_status"} <= set(bad.value.errors)
        with pytest.raises(FieldErrors, match="PDF, PNG or JPEG"):
            onboarding.add_document(session, me, b"MZ", "tool.exe", "application/x-msdownload", "identity")
        session.rollback()
        assert session.get(Vendor, vendor_id).iban is None

        _complete(session, me)
        vendor = session.get(Vendor, vendor_id)
        assert vendor.iban == "DE89370400440532013000" and vendor.vat_id == "DE136695976"
        assert vendor.tax_id == "2893081508152" and vendor.address.startswith("Hauptstr. 1")
        assert onboarding.own_profile(session, me).missing == []
        onboarding.submit(session, me)
        session.commit()

        reviewer = make_user(session, "approver", "approver@test.example")
        with pytest.raises(PermissionDenied):
            onboarding.review_queue(session, reviewer)
        queue = onboarding.review_queue(session, finance)
        assert [(r.vendor_id, r.state, r.source) for r in queue][0] == (vendor_id, "submitted", "invite")
        onboarding.request_changes(session, finance, vendor_id, "Please send a clearer bank letter")
        session.commit()
        assert onboarding.own_profile(session, me).onboarding.review_note == "Please send a clearer bank letter"
        onboarding.approve(session, finance, vendor_id)
        session.commit()
        assert session.get(Vendor, vendor_id).activity_status == "active"
        notes = session.exec(select(Notification.subject).where(Notification.vendor_id == vendor_id)).all()
        assert "Your vendor profile is approved" in notes
        with pytest.raises(Conflict, match="approved already"):
            onboarding.approve(session, finance, vendor_id)
        actions = set(session.exec(select(AuditEntry.action).where(AuditEntry.object_id == str(vendor_id))).all())
        assert {"vendor.create", "vendor.update", "vendor.tax_form", "vendor.document_add",
                "vendor.onboarding_submit", "vendor.onboarding_changes_requested",
                "vendor.onboarding_approve"} <= actions
        tax_audit = session.exec(select(AuditEntry).where(AuditEntry.action == "vendor.tax_form")).first()
        assert "2893081508152" not in str(tax_audit.after)  # the full taxpayer number is never logged
        # Approved: the vendor may now send invoices.
        assert invoice_intake.receive_invoice(session, me, PDF, "inv.pdf", channel="portal") is not None


def test_a_reviewer_cannot_approve_a_vendor_with_gaps_and_sees_them(session):
    finance = make_user(session, "finance_manager")
    sent = onboarding.invite_vendor(session, finance, "Gap Ltd", "ap@gap.example", "GB", "GBP", "Gail")
    session.commit()
    with pytest.raises(Conflict, match="missing: Address"):
        onboarding.approve(session, finance, sent.vendor.id)
    view = onboarding.profile_for_review(session, finance, sent.vendor.id)
    assert "A signed tax form (W-9, W-8BEN or W-8BEN-E)" in [m.what for m in view.missing]
    with pytest.raises(FieldErrors, match="already has an account"):
        onboarding.invite_vendor(session, finance, "Gap Two", "AP@gap.example", "GB", "GBP", "Gail")
    viewer = make_user(session, "viewer")
    with pytest.raises(PermissionDenied):
        onboarding.invite_vendor(session, viewer, "Nope", "n@nope.example", "DE", "EUR", "N")


def test_anyone_may_sign_up_and_the_form_does_not_reveal_who_has_an_account(session):
    vendor = onboarding.sign_up(session, "Fresh Studio", "Frida", "frida@fresh.example", "SE", "SEK")
    session.commit()
    assert vendor.activity_status == "onboarding"
    user = session.exec(select(User).where(User.email == "frida@fresh.example")).one()
    assert user.vendor_id == vendor.id
    mails = session.exec(select(EmailDelivery).where(EmailDelivery.recipient == "frida@fresh.example")).all()
    assert len(mails) == 1 and "Confirm your" in mails[0].subject and "/welcome?token=" in mails[0].body
    assert onboarding.sign_up(session, "Copycat", "Eve", "Frida@Fresh.example", "SE", "SEK") is None
    session.commit()
    assert session.exec(select(Vendor).where(Vendor.name == "Copycat")).first() is None
    warned = session.exec(select(EmailDelivery).where(EmailDelivery.subject.like("You already have%"))).one()
    assert warned.recipient == "frida@fresh.example"
    with pytest.raises(FieldErrors) as bad:
        onboarding.sign_up(session, "", "", "not-an-address", "XX", "EURO")
    assert set(bad.value.errors) == {"contact_name", "name", "email", "country", "currency"}
    queue = onboarding.review_queue(session, make_user(session, "admin"))
    assert [r.source for r in queue] == ["signup"]


def _two_vendors(session: Session):  # type: ignore[no-untyped-def]
    a = vendors.create_vendor(session, SYSTEM, vendor_input(vendor_code="A-1", name="Acme Media"))
    b = vendors.create_vendor(session, SYSTEM, vendor_input(vendor_code="B-1", name="Beta Studios",
                                                            email="ap@beta.example"))
    a_inv = make_invoice(session, a.id, "A-INV-1", 10_000, status="paid")
    make_invoice(session, a.id, "A-INV-2", 20_000, status="pending").issue_date = date(2026, 10, 5)
    b_inv = make_invoice(session, b.id, "B-INV-1", 30_000, status="approved")
    session.add(VendorContact(vendor_id=b.id, name="Bea", email="bea@beta.example"))
    session.commit()
    va = make_user(session, "vendor", "a@acme.example", vendor_id=a.id)
    vb = make_user(session, "vendor", "b@beta.example", vendor_id=b.id)
    b_doc = onboarding.add_document(session, vb, PDF, "b-register.pdf", "application/pdf", "identity")
    session.commit()
    b_contact = session.exec(select(VendorContact).where(VendorContact.vendor_id == b.id)).one()
    return a, b, a_inv, b_inv, va, vb, b_doc, b_contact


def test_a_vendor_finds_filters_views_and_downloads_only_its_own_invoices(db):
    with Session(db) as session:
        a, b, a_inv, b_inv, va, vb, b_doc, b_contact = _two_vendors(session)
        page = vendor_invoices.own_invoices(session, va, vendor_invoices.VendorInvoiceQuery())
        assert [i.number for i in page.rows] == ["A-INV-1", "A-INV-2"] and page.total == 2  # newest first
        only = lambda **q: [i.number for i in vendor_invoices.own_invoices(  # noqa: E731
            session, va, vendor_invoices.VendorInvoiceQuery(**q)).rows]
        assert only(number="inv-2") == ["A-INV-2"]
        assert only(payment_status="paid") == ["A-INV-1"]
        assert only(payment_status="in_review") == ["A-INV-2"]
        assert only(issued_from=date(2026, 10, 1), issued_to=date(2026, 10, 31)) == ["A-INV-2"]
        assert only(number="B-INV") == []
        with pytest.raises(FieldErrors):
            only(payment_status="stolen")
        pdf = vendor_invoices.own_invoice_file(session, va, a_inv.id)
        assert pdf.content.startswith(b"%PDF") and pdf.filename.endswith(".pdf")
        with pytest.raises(NotFound):
            vendor_invoices.own_invoice_file(session, va, b_inv.id)
        keys = {}
        from vrm_dashboard.services.identity.api_keys import create_api_key
        for name, actor in (("a", va), ("b", vb)):
            keys[name] = create_api_key(session, SYSTEM, "t", user_id=actor.user_id)
        session.commit()
        ids = dict(a_inv=a_inv.id, b_inv=b_inv.id, b_doc=b_doc.id, b=b.id)
    client = TestClient(build_api())
    auth_a = {"Authorization": f"Bearer {keys['a']}"}
    listed = client.get("/api/v1/portal/invoices", params={"payment_status": "paid"}, headers=auth_a).json()
    assert [i["number"] for i in listed["items"]] == ["A-INV-1"] and listed["items"][0]["payment_status_label"] == "Paid"
    download = client.get(f"/api/v1/portal/invoices/{ids['a_inv']}/file", params={"download": True}, headers=auth_a)
    assert download.status_code == 200 and download.headers["content-disposition"].startswith("attachment")
    view = client.get(f"/api/v1/portal/invoices/{ids['a_inv']}/file", headers=auth_a)
    assert view.headers["content-disposition"].startswith("inline") and view.content.startswith(b"%PDF")
    printed = client.get(f"/api/v1/portal/invoices/{ids['a_inv']}/print", headers=auth_a)
    assert printed.status_code == 200 and "print()" in printed.text
    # Vendor A asks for vendor B's records by id: every route refuses and shows nothing of B.
    for path in (f"/api/v1/portal/invoices/{ids['b_inv']}/file", f"/api/v1/portal/invoices/{ids['b_inv']}/print",
                 f"/api/v1/vendor-documents/{ids['b_doc']}", f"/api/v1/invoices/{ids['b_inv']}/original",
                 f"/api/v1/distribution/invoices/{ids['b_inv']}/pdf", f"/api/v1/vendors/{ids['b']}/onboarding",
                 f"/api/v1/vendors/{ids['b']}"):
        answer = client.get(path, headers=auth_a)
        assert answer.status_code in (403, 404), path
        assert "Beta" not in answer.text and b"%PDF" not in answer.content
    for path in (f"/api/v1/vendors/{ids['b']}/onboarding/approve", f"/api/v1/vendors/{ids['b']}/widget-link"):
        assert client.post(path, json={}, headers=auth_a).status_code in (403, 404), path


def _state(cls, token: str):  # type: ignore[no-untyped-def]
    root = rx.State(_reflex_internal_init=True)
    state = root.get_substate(cls.get_full_name().split(".")[1:])
    state.token = token
    return state


def test_vendor_a_cannot_touch_vendor_b_through_crafted_reflex_events(db):
    with Session(db) as session:
        a, b, a_inv, b_inv, va, vb, b_doc, b_contact = _two_vendors(session)
        token = auth.sign_in(session, "a@acme.example", "correct-horse-battery").token
        session.commit()
        a_id, b_id, b_inv_id, b_doc_id, b_contact_id = a.id, b.id, b_inv.id, b_doc.id, b_contact.id
    profile = _state(VendorProfileState, token)
    VendorProfileState.event_handlers["remove_contact"].fn(profile, str(b_contact_id))
    assert "No such contact of yours" in profile.message
    VendorProfileState.event_handlers["remove_document"].fn(profile, str(b_doc_id))
    assert "No such document of yours" in profile.message
    portal = _state(PortalState, token)
    PortalState.event_handlers["load"].fn(portal)
    assert {i.number for i in portal.invoices} == {"A-INV-1", "A-INV-2"}
    portal.dispute_invoice, portal.dispute_reason = str(b_inv_id), "I want to see B's invoice"
    PortalState.event_handlers["submit_dispute"].fn(portal)
    assert portal.dispute_message
    with Session(db) as session:
        assert session.get(VendorContact, b_contact_id) is not None
        assert onboarding.own_profile(session, load_actor(session, vb.user_id)).documents
        # A's profile save changes A only, whatever the form says.
        me = load_actor(session, va.user_id)
        onboarding.save_profile(session, me, onboarding.ProfileInput(
            name="Acme Media", legal_name="Acme Media GmbH", country="DE", currency="EUR",
            email="ap@acme.example", address="Somewhere 1"))
        session.commit()
        assert session.get(Vendor, b_id).address is None and session.get(Vendor, a_id).address == "Somewhere 1"


def _joining(session: Session, name: str, email: str):  # type: ignore[no-untyped-def]
    """A vendor invited and still onboarding, and its own account."""
    sent = onboarding.invite_vendor(session, make_user(session, "finance_manager", f"fm-{email}"), name, email,
                                    "DE", "EUR", "Erika")
    session.commit()
    return load_actor(session, sent.user.id)


def _stored(session: Session, content: bytes) -> StoredDocument | None:
    digest = hashlib.sha256(content).hexdigest()
    return session.exec(select(StoredDocument).where(StoredDocument.sha256 == digest)).first()


def test_a_vendor_keeps_a_bounded_number_and_size_of_documents(session, monkeypatch):
    """Anyone may sign up, so what one vendor may upload is bounded in all, not only per file:
    past the bound an upload is refused with what to do, and nothing of it is kept."""
    me = _joining(session, "Muster Media", "erika@muster.example")
    kept = [onboarding.add_document(session, me, PDF + b"%d" % n, f"doc-{n}.pdf", "application/pdf", "identity")
            for n in range(onboarding.MAX_DOCUMENTS)]
    session.commit()
    with pytest.raises(Conflict) as full:
        onboarding.add_document(session, me, PDF + b"one more", "more.pdf", "application/pdf", "bank")
    assert str(full.value) == ("more.pdf was not added. A vendor keeps at most 20 documents, 50 MB in all: "
                               "remove one you no longer need first")
    session.rollback()
    assert _stored(session, PDF + b"one more") is None
    onboarding.remove_document(session, me, kept[0].id)
    onboarding.add_document(session, me, PDF + b"one more", "more.pdf", "application/pdf", "bank")
    session.commit()

    # The bytes count across the vendor's documents: room for a small file, not a large one.
    used = sum(d.size_bytes for d in onboarding.own_profile(session, me).documents)
    monkeypatch.setattr(onboarding, "MAX_DOCUMENTS", 30)
    monkeypatch.setattr(onboarding, "MAX_DOCUMENTS_BYTES", used + 100)
    with pytest.raises(Conflict, match="MB in all"):
        onboarding.add_document(session, me, PDF + b"x" * 100, "big.pdf", "application/pdf", "bank")
    session.rollback()
    onboarding.add_document(session, me, PDF + b"x" * 50, "small.pdf", "application/pdf", "bank")
    session.commit()

    # An approved vendor cannot remove documents, so it is told to ask, not to remove one.
    approved = vendors.create_vendor(session, SYSTEM, vendor_input(vendor_code="B-1", name="Beta Studios"))
    them = make_user(session, "vendor", "b@beta.example", vendor_id=approved.id)
    monkeypatch.setattr(onboarding, "MAX_DOCUMENTS", 1)
    onboarding.add_document(session, them, PDF + b"beta", "b.pdf", "application/pdf", "identity")
    with pytest.raises(Conflict, match="please ask our team to make room"):
        onboarding.add_document(session, them, PDF + b"beta 2", "b2.pdf", "application/pdf", "identity")


def test_a_removed_document_leaves_no_file_behind_unless_its_bytes_serve_elsewhere(session):
    """Stored files are shared by content: removing a document deletes its file only when no
    other vendor's document, invoice original or the branding logo holds the same bytes."""
    me = _joining(session, "Muster Media", "erika@muster.example")
    other = _joining(session, "Beta Studios", "bea@beta.example")
    private, shared, invoiced, logo = (PDF + tag for tag in (b"private", b"shared", b"invoiced", b"logo"))
    mine = {content: onboarding.add_document(session, me, content, "f.pdf", "application/pdf", "identity").id
            for content in (private, shared, invoiced, logo)}
    theirs = onboarding.add_document(session, other, shared, "g.pdf", "application/pdf", "identity").id
    invoice = make_invoice(session, stored_id(session.get(Vendor, me.vendor_id)), "M-1", 1_000)
    invoice.document_id = _stored(session, invoiced).id
    session.add(invoice)
    settings_cfg.put(session, SYSTEM, settings_cfg.BRAND_LOGO, _stored(session, logo).id)
    session.commit()

    for content in (private, shared, invoiced, logo):
        onboarding.remove_document(session, me, mine[content])
    session.commit()
    assert _stored(session, private) is None
    assert all(_stored(session, content) is not None for content in (shared, invoiced, logo))
    assert onboarding.document_file(session, other, theirs).content == shared
    assert onboarding.own_profile(session, me).documents == []
    onboarding.remove_document(session, other, theirs)
    session.commit()
    assert _stored(session, shared) is None
    assert session.exec(select(func.count()).select_from(AuditEntry)
                        .where(AuditEntry.action == "vendor.document_remove")).one() == 5


@pytest.mark.parametrize("status, said", [("on_hold", "on hold"), ("inactive", "inactive")])
def test_a_vendor_on_hold_or_inactive_sends_no_invoices_and_makes_no_widget_links(session, status, said):
    """Refused wherever an onboarding vendor is; its own data it still reads, and a link it
    made it may still take back."""
    vendor = vendors.create_vendor(session, SYSTEM, vendor_input())
    me = make_user(session, "vendor", "me@acme.example", vendor_id=vendor.id)
    link = vendor_widget.make_link(session, me, vendor.id)
    vendor.activity_status = status
    session.add(vendor)
    session.commit()
    with pytest.raises(PermissionDenied, match=f"Your vendor account is {said}"):
        invoice_intake.receive_invoice(session, me, PDF, "inv.pdf", channel="portal")
    with pytest.raises(PermissionDenied, match=f"Your vendor account is {said}"):
        vendor_widget.make_link(session, me, vendor.id)
    session.rollback()
    assert count_rows(session, Intake) == 0 and len(vendor_widget.list_links(session, me, vendor.id)) == 1
    assert vendor_widget.revoke_link(session, me, vendor.id, link.id).state == "revoked"
    assert onboarding.own_profile(session, me).vendor.id == vendor.id
    # The portal's upload is asked the same before it reads a file.
    portal = ui_state(PortalState, auth.sign_in(session, "me@acme.example", "correct-horse-battery").token)
    session.commit()
    call_handler(PortalState, portal, "upload_invoices", [SimpleNamespace(name="inv.pdf")])  # never read
    assert portal.upload_results == [f"inv.pdf: {onboarding._NOT_ACTIVE[status]}"]
    vendor.activity_status = "active"
    session.add(vendor)
    session.commit()
    assert invoice_intake.may_receive(session, me) == vendor.id


def test_an_inactive_vendor_changes_nothing_on_its_profile_but_one_on_hold_may_correct_it(session):
    vendor = vendors.create_vendor(session, SYSTEM, vendor_input())
    me = make_user(session, "vendor", "me@acme.example", vendor_id=vendor.id)
    new_account = onboarding.PayoutInput("sepa", iban="DE02 1203 0000 0000 2020 51")
    vendor.activity_status = "inactive"
    session.add(vendor)
    session.commit()
    with pytest.raises(PermissionDenied, match="inactive: ask our team to reactivate it"):
        onboarding.save_payout_method(session, me, new_account)
    with pytest.raises(PermissionDenied, match="inactive"):
        onboarding.add_document(session, me, PDF, "register.pdf", "application/pdf", "identity")
    session.rollback()
    session.expire_all()
    assert session.get(Vendor, vendor.id).iban == "DE89370400440532013000"
    vendor = session.get(Vendor, vendor.id)
    vendor.activity_status = "on_hold"
    session.add(vendor)
    session.commit()
    assert onboarding.save_payout_method(session, me, new_account).iban == "DE02120300000000202051"

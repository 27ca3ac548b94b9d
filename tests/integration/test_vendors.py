"""Vendors through the service layer: validation, permissions, audit, paging and totals."""
import json

import pytest
from sqlmodel import select

from tests.helpers import count_rows, make_invoice, make_user, vendor_input
from vrm_dashboard.db.models import AuditEntry, Invoice, Vendor
from vrm_dashboard.domain.invoice_status import IllegalTransition
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.identity import access_control
from vrm_dashboard.services.invoices import records as invoices, rollup as invoice_rollup
from vrm_dashboard.services.platform.actors import load_actor
from vrm_dashboard.services.platform.errors import FieldErrors, PermissionDenied
from vrm_dashboard.services.vendors import records as svc


def test_adding_a_vendor_is_audited_with_who_and_what(session):
    finance = make_user(session, "finance_manager")
    vendor = svc.create_vendor(session, finance, vendor_input())
    session.commit()
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "vendor.create")).one()
    assert entry.actor_label == "finance_manager@test.example"
    assert json.loads(entry.after)["vendor_code"] == "ACME-1" and entry.object_id == str(vendor.id)


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"iban": "DE00 1234"}, "iban"),
        ({"currency": "XYZ"}, "currency"),
        ({"name": "N" * 200}, "name"),
        ({"vendor_code": "ACME-1"}, "vendor_code"),  # duplicate of the first vendor
    ],
)
def test_bad_input_gets_a_message_and_changes_nothing(session, overrides, field):
    finance = make_user(session, "finance_manager")
    svc.create_vendor(session, finance, vendor_input())
    session.commit()
    before = (count_rows(session, Vendor), count_rows(session, AuditEntry))
    with pytest.raises(FieldErrors) as caught:
        svc.create_vendor(session, finance, vendor_input(**overrides))
    session.rollback()
    assert field in caught.value.errors
    assert (count_rows(session, Vendor), count_rows(session, AuditEntry)) == before


def test_edit_records_before_and_after_and_stamps_bank_changes(session):
    finance = make_user(session, "finance_manager")
    vendor = svc.create_vendor(session, finance, vendor_input())
    session.commit()
    svc.update_vendor(session, finance, vendor.id, vendor_input(name="Acme Renamed",
                                                               iban="GB29NWBK60161331926819"))
    session.commit()
    entry = session.exec(select(AuditEntry).where(AuditEntry.action == "vendor.update")).one()
    assert json.loads(entry.before)["name"] == "Acme Media"
    assert json.loads(entry.after)["name"] == "Acme Renamed"
    assert session.get(Vendor, vendor.id).bank_details_changed_at is not None


def test_roles_decide_who_may_change_vendors(session):
    viewer = make_user(session, "viewer")
    vendor_user = make_user(session, "vendor", email="v@test.example")
    with pytest.raises(PermissionDenied):
        svc.create_vendor(session, viewer, vendor_input())
    with pytest.raises(PermissionDenied):
        svc.list_vendors(session, vendor_user, svc.VendorQuery())


def test_a_revoked_permission_is_refused_at_once(session):
    finance = make_user(session, "finance_manager")
    admin = make_user(session, "platform_admin")  # grants are the installation's
    access_control.set_grant(session, admin, "finance_manager", Action.VENDOR_CREATE, False)
    session.commit()
    fresh = load_actor(session, finance.user_id)
    with pytest.raises(PermissionDenied):
        svc.create_vendor(session, fresh, vendor_input())


def test_payment_details_are_masked_for_roles_without_the_permission(session):
    finance = make_user(session, "finance_manager")
    viewer = make_user(session, "viewer")
    vendor = svc.create_vendor(session, finance, vendor_input())
    session.commit()
    assert svc.vendor_card(session, finance, vendor.id).payment_details["iban"] == "DE89370400440532013000"
    assert svc.vendor_card(session, viewer, vendor.id).payment_details["iban"].endswith("••3000")


def test_list_pages_searches_filters_and_sorts_on_the_server(session):
    finance = make_user(session, "finance_manager")
    for n in range(30):
        svc.create_vendor(session, finance, vendor_input(
            vendor_code=f"V{n:03d}", name=f"Vendor {n:03d}",
            payment_method="paypal" if n % 3 == 0 else "sepa", paypal_email="pp@x.example"))
    session.commit()
    page = svc.list_vendors(session, finance, svc.VendorQuery(page=2, page_size=10))
    assert page.total_rows == 30 and page.page_count == 3
    assert [r.name for r in page.rows][:2] == ["Vendor 010", "Vendor 011"]
    found = svc.list_vendors(session, finance, svc.VendorQuery(search="vendor 02"))
    assert {r.vendor_code for r in found.rows} == {f"V02{d}" for d in range(10)}
    paypal = svc.list_vendors(session, finance, svc.VendorQuery(payment_method="paypal"))
    assert paypal.total_rows == 10
    newest_first = svc.list_vendors(session, finance, svc.VendorQuery(sort="vendor_code", descending=True))
    assert newest_first.rows[0].vendor_code == "V029"


def test_totals_by_payment_method_equal_the_invoices(session):
    finance = make_user(session, "finance_manager")
    sepa = svc.create_vendor(session, finance, vendor_input())
    paypal = svc.create_vendor(session, finance, vendor_input(
        vendor_code="PP", currency="USD", payment_method="paypal", paypal_email="p@x.example"))
    make_invoice(session, sepa.id, "A-1", 10_001, "paid")
    make_invoice(session, sepa.id, "A-2", 20_002, "pending")
    make_invoice(session, sepa.id, "A-3", 99_999, "rejected")
    make_invoice(session, paypal.id, "B-1", 5_000, "approved", currency="USD")
    invoice_rollup.refresh(session, [sepa.id, paypal.id])
    session.commit()
    totals = {(t.payment_method, t.currency): t for t in
              svc.list_vendors(session, finance, svc.VendorQuery()).totals}
    assert (totals["sepa", "EUR"].invoiced_minor, totals["sepa", "EUR"].paid_minor,
            totals["sepa", "EUR"].open_minor, totals["sepa", "EUR"].invoice_count) == (30_003, 10_001, 20_002, 2)
    assert totals["paypal", "USD"].open_minor == 5_000


def test_an_illegal_invoice_move_is_refused_and_changes_nothing(session):
    finance = make_user(session, "finance_manager")
    vendor = svc.create_vendor(session, finance, vendor_input())
    invoice = make_invoice(session, vendor.id, "A-1", 10_000, "draft")
    session.commit()
    with pytest.raises(IllegalTransition, match="Draft cannot move to Paid"):
        invoices.move_invoice(session, finance, invoice.id, "paid")
    session.rollback()
    assert session.get(Invoice, invoice.id).status == "draft"
    invoices.move_invoice(session, finance, invoice.id, "draft_valid")
    session.commit()
    assert session.exec(select(AuditEntry).where(AuditEntry.action == "invoice.draft_valid")).one()


def test_deactivating_keeps_the_vendor_and_its_history(session):
    finance = make_user(session, "finance_manager")
    vendor = svc.create_vendor(session, finance, vendor_input())
    svc.deactivate_vendor(session, finance, vendor.id)
    session.commit()
    card = svc.vendor_card(session, finance, vendor.id)
    assert card.vendor.activity_status == "inactive"
    assert [h.action for h in card.history] == ["vendor.deactivate", "vendor.create"]

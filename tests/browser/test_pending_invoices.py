"""Pending Invoices as finance people use it: filter, choose columns, edit, reject, approve
one or many, and the controls (two approvers, no self-approval), and export."""
import io
import itertools

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect
from sqlmodel import Session

from tests.helpers import make_invoice, sign_in, vendor_input
from vrm_dashboard.db.models import Invoice
from vrm_dashboard.demo.seeder import DEMO_LOGINS
from vrm_dashboard.services.identity.users import find_by_email
from vrm_dashboard.services.invoices import rollup as invoice_rollup
from vrm_dashboard.services.platform.actors import Actor
from vrm_dashboard.services.vendors import records as vendor_service

pytestmark = pytest.mark.browser
LOGINS = {login.role: login for login in DEMO_LOGINS}
_codes = itertools.count(1)


def _book(engine, invoices, submitted_by=None):
    """A fresh vendor with these (number suffix, total minor, status) invoices; returns its code."""
    code = f"BRW{next(_codes):03d}"
    with Session(engine) as session:
        vendor = vendor_service.create_vendor(session, Actor.system("tests"), vendor_input(vendor_code=code, name=f"Browser Vendor {code}"))
        submitter = find_by_email(session, submitted_by).id if submitted_by else None
        for suffix, total, status in invoices:
            invoice = make_invoice(session, vendor.id, f"{code}-{suffix}", total, status)
            invoice.submitted_by_id = submitter
        invoice_rollup.refresh(session, [vendor.id])
        session.commit()
    return code


def _as(page, role):
    sign_in(page, LOGINS[role].email, LOGINS[role].password)
    expect(page.get_by_test_id("user-name")).to_be_visible()


def _open_invoice(page, number):
    page.goto(f"/invoices?search={number}")
    page.get_by_role("link", name=number).click()
    expect(page.get_by_test_id("detail-number")).to_have_text(number)


def test_filtering_and_the_column_chooser_saved_per_user(page, app_engine):
    code = _book(app_engine, [("1", 10_000, "pending"), ("2", 20_000, "pending"), ("3", 30_000, "approved")])
    _as(page, "approver")
    page.goto(f"/invoices?vendor={code}")
    expect(page.get_by_test_id("invoice-row")).to_have_count(3)
    page.get_by_test_id("filter-status").click()
    page.get_by_role("option", name="Pending", exact=True).click()
    expect(page.get_by_test_id("invoice-row")).to_have_count(2)
    expect(page.get_by_test_id("invoice-count")).to_contain_text("2 invoices")
    page.get_by_test_id("filter-amount_min").fill("150")
    expect(page.get_by_test_id("invoice-row")).to_have_count(1)
    expect(page.get_by_test_id("cell-vendor_code").first).to_be_visible()
    page.get_by_test_id("column-chooser").click()
    page.get_by_test_id("column-vendor_code").click()
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("cell-vendor_code")).to_have_count(0)
    page.reload()
    expect(page.get_by_test_id("invoice-row").first).to_be_visible()
    expect(page.get_by_test_id("cell-vendor_code")).to_have_count(0)
    page.get_by_test_id("column-chooser").click()
    page.get_by_test_id("column-vendor_code").click()


def test_whoever_submitted_an_invoice_cannot_approve_it(page, app_engine):
    code = _book(app_engine, [("1", 10_000, "pending")], submitted_by=LOGINS["finance_manager"].email)
    _as(page, "finance_manager")
    _open_invoice(page, f"{code}-1")
    page.get_by_test_id("approve-invoice").click()
    expect(page.get_by_test_id("detail-message")).to_contain_text("You submitted it (segregation of duties)")
    expect(page.get_by_test_id("detail-status")).to_have_text("Pending")


def test_above_the_threshold_a_second_approver_is_needed(page, app_engine):
    code = _book(app_engine, [("1", 2_500_000, "pending")])   # EUR 25,000 > EUR 10,000
    _as(page, "approver")
    _open_invoice(page, f"{code}-1")
    page.get_by_test_id("approve-invoice").click()
    expect(page.get_by_test_id("detail-message")).to_contain_text("needs a second approver")
    expect(page.get_by_test_id("detail-status")).to_have_text("Pending")
    page.get_by_test_id("approve-invoice").click()
    expect(page.get_by_test_id("detail-message")).to_contain_text("You already approved it")
    page.get_by_test_id("sign-out").click()
    _as(page, "admin")
    _open_invoice(page, f"{code}-1")
    page.get_by_test_id("approve-invoice").click()
    expect(page.get_by_test_id("detail-status")).to_have_text("Approved")
    expect(page.get_by_test_id("detail-approvals")).to_contain_text("approver@vrm.example")
    expect(page.get_by_test_id("detail-approvals")).to_contain_text("admin@vrm.example")


def test_approving_one_invoice_and_rejecting_another_with_a_reason(page, app_engine):
    code = _book(app_engine, [("1", 10_000, "pending"), ("2", 10_000, "pending")])
    _as(page, "approver")
    _open_invoice(page, f"{code}-1")
    page.get_by_test_id("approve-invoice").click()
    expect(page.get_by_test_id("detail-status")).to_have_text("Approved")
    expect(page.get_by_test_id("detail-history")).to_contain_text("invoice.approved")
    _open_invoice(page, f"{code}-2")
    page.get_by_test_id("reject-invoice").click()
    page.get_by_test_id("confirm-reject").click()
    expect(page.get_by_test_id("reject-error")).to_contain_text("reason")
    page.get_by_test_id("reject-reason").fill("The VAT rate is wrong")
    page.get_by_test_id("confirm-reject").click()
    expect(page.get_by_test_id("detail-status")).to_have_text("Rejected")
    expect(page.get_by_test_id("detail-rejection_reason")).to_have_text("The VAT rate is wrong")


def test_bulk_approval_of_selected_rows_and_of_the_whole_filter(page, app_engine):
    code = _book(app_engine, [("1", 10_000, "pending"), ("2", 11_000, "pending"), ("3", 12_000, "pending"),
                              ("4", 13_000, "draft")])
    _as(page, "approver")
    page.goto(f"/invoices?vendor={code}")
    expect(page.get_by_test_id("invoice-row")).to_have_count(4)
    rows = page.get_by_test_id("invoice-row")
    rows.filter(has_text=f"{code}-1").get_by_test_id("select-row").click()
    rows.filter(has_text=f"{code}-2").get_by_test_id("select-row").click()
    page.get_by_test_id("approve-selected").click()
    expect(page.get_by_test_id("bulk-result")).to_contain_text("2 approved")
    page.get_by_test_id("approve-filter").click()
    expect(page.get_by_test_id("bulk-result")).to_contain_text("1 approved")
    expect(page.get_by_test_id("bulk-result")).to_contain_text("3 could not move")
    expect(page.get_by_test_id("refused-row").first).to_be_visible()
    with Session(app_engine) as session:
        statuses = sorted(session.get(Invoice, i).status for i in _ids(session, code))
    assert statuses == ["approved", "approved", "approved", "draft"]


def _ids(session, code):
    from sqlmodel import select

    return session.exec(select(Invoice.id).where(Invoice.number.like(f"{code}-%"))).all()


def test_editing_runs_validation_again(page, app_engine):
    code = _book(app_engine, [("1", 11_900, "pending")])
    _as(page, "finance_manager")
    _open_invoice(page, f"{code}-1")
    page.get_by_test_id("edit-invoice").click()
    page.get_by_test_id("edit-subtotal").fill("100.00")
    page.get_by_test_id("edit-tax").fill("19.00")
    page.get_by_test_id("edit-total").fill("120.00")
    page.get_by_test_id("save-invoice").click()
    expect(page.get_by_test_id("edit-error-total")).to_contain_text("must match")
    page.get_by_test_id("edit-total").fill("119.00")
    page.get_by_test_id("save-invoice").click()
    expect(page.get_by_test_id("detail-status")).to_have_text("Draft Valid")
    expect(page.get_by_test_id("detail-tax")).to_have_text("€19.00")
    page.get_by_test_id("submit-invoice").click()
    expect(page.get_by_test_id("detail-status")).to_have_text("Pending")
    page.get_by_test_id("approve-invoice").click()
    expect(page.get_by_test_id("detail-message")).to_contain_text("You last edited it")


def test_exporting_the_filtered_view_to_excel(page, app_engine):
    code = _book(app_engine, [("1", 10_000, "pending"), ("2", 20_050, "approved"), ("3", 1, "rejected")])
    _as(page, "viewer")
    page.goto(f"/invoices?vendor={code}")
    expect(page.get_by_test_id("invoice-row")).to_have_count(3)
    page.get_by_test_id("export-menu").click()
    with page.expect_download() as download:
        page.get_by_test_id("export-xlsx-view").click()
    content = open(download.value.path(), "rb").read()
    rows = list(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))
    assert sorted(r[0] for r in rows[1:]) == [f"{code}-1", f"{code}-2", f"{code}-3"]
    assert sorted(r[4] for r in rows[1:]) == [0.01, 100, 200.5]
    expect(page.get_by_test_id("export-message")).to_contain_text("Exported 3 invoices")


def test_bulk_rejection_of_selected_rows_with_a_reason(page, app_engine):
    code = _book(app_engine, [("1", 10_000, "pending"), ("2", 11_000, "pending")])
    _as(page, "approver")
    page.goto(f"/invoices?vendor={code}")
    expect(page.get_by_test_id("invoice-row")).to_have_count(2)
    page.get_by_test_id("invoice-row").filter(has_text=f"{code}-2").get_by_test_id("select-row").click()
    page.get_by_test_id("reject-selected").click()
    page.get_by_test_id("reject-reason").fill("Duplicate of an earlier invoice")
    page.get_by_test_id("confirm-reject").click()
    expect(page.get_by_test_id("bulk-result")).to_contain_text("1 rejected")
    expect(page.get_by_test_id("invoice-row").filter(has_text=f"{code}-2")).to_contain_text("Rejected")
    expect(page.get_by_test_id("invoice-row").filter(has_text=f"{code}-1")).to_contain_text("Pending")

"""Smart Payouts in the browser: a payout waiting for payout approval is approved, paid by
a payout run, and its remittance advice downloaded."""
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlmodel import Session

from tests.helpers import make_invoice, sign_in, vendor_input
from vrm_dashboard.demo.seeder import DEMO_LOGINS
from vrm_dashboard.services.identity.users import find_by_email
from vrm_dashboard.services.invoices import approvals, rollup as invoice_rollup
from vrm_dashboard.services.invoices.approvals import Selection
from vrm_dashboard.services.platform import settings as app_settings
from vrm_dashboard.services.platform.actors import Actor, load_actor
from vrm_dashboard.services.vendors import records as vendor_service

pytestmark = pytest.mark.browser
LOGINS = {login.role: login for login in DEMO_LOGINS}
SYSTEM = Actor.system("tests")


def _payout_waiting_for_approval(engine) -> str:
    """A provider-paid vendor with one invoice approved by the demo approver; the payout
    approval flow holds its payout for a second person."""
    with Session(engine) as session:
        app_settings.put(session, SYSTEM, app_settings.PAYOUT_APPROVAL_ENABLED, True)
        vendor = vendor_service.create_vendor(session, SYSTEM, vendor_input(
            vendor_code="PAYBRW1", name="Browser Payee", payment_method="paypal", iban="",
            paypal_email="payee@browser.example"))
        invoice = make_invoice(session, vendor.id, "PAYBRW1-1", 43_210)
        invoice.due_date = date.today() - timedelta(days=1)
        invoice_rollup.refresh(session, [vendor.id])
        session.commit()
        approver = load_actor(session, find_by_email(session, LOGINS["approver"].email).id)
        approvals.approve(session, approver, Selection([invoice.id]))
        app_settings.put(session, SYSTEM, app_settings.PAYOUT_APPROVAL_ENABLED, False)
        session.commit()
    return "PAYBRW1"


def test_a_payout_is_approved_paid_and_its_confirmation_downloaded(page, app_engine):
    code = _payout_waiting_for_approval(app_engine)
    sign_in(page, LOGINS["finance_manager"].email, LOGINS["finance_manager"].password)
    expect(page.get_by_test_id("user-name")).to_be_visible()
    page.goto(f"/payouts?vendor={code}")
    row = page.get_by_test_id("payout-row")
    expect(row).to_have_count(1)
    expect(row.get_by_test_id("payout-status")).to_have_text("Payout Approval")
    row.get_by_test_id("payout-select").click()
    page.get_by_test_id("approve-payouts").click()
    expect(page.get_by_test_id("payout-result")).to_contain_text("1 payouts approved")
    expect(row.get_by_test_id("payout-status")).to_have_text("Awaiting Payout")
    page.get_by_test_id("run-payouts").click()
    expect(page.get_by_test_id("payout-result")).to_contain_text("Payout run")
    expect(row.get_by_test_id("payout-status")).to_have_text("Paid")
    link = row.get_by_test_id("remittance-link")
    expect(link).to_be_visible()
    response = page.request.get(link.get_attribute("href"))
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")


def test_an_approver_sees_payouts_but_cannot_run_them(page, app_engine):
    sign_in(page, LOGINS["approver"].email, LOGINS["approver"].password)
    expect(page.get_by_test_id("user-name")).to_be_visible()
    page.goto("/payouts")
    expect(page.get_by_test_id("payout-total")).to_have_count(4)
    expect(page.get_by_test_id("approve-payouts")).to_be_visible()
    expect(page.get_by_test_id("run-payouts")).to_have_count(0)

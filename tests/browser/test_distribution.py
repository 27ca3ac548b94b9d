"""Distribution in the browser: a payment is confirmed, the self-billing invoice is e-mailed to
the vendor with its PDF (aiosmtpd on 127.0.0.1), shows in the report and in the vendor's
portal, the vendor disputes it, and the team re-issues it corrected."""
import time
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import update
from sqlmodel import Session

from tests.distribution_book import add_invoice
from tests.helpers import sign_in
from tests.smtp_server import pdf_of
from vrm_dashboard.db.models import Vendor
from vrm_dashboard.demo.seeder import DEMO_LOGINS
from vrm_dashboard.parsing.reader import parse_document
from vrm_dashboard.services.identity.users import find_by_email
from vrm_dashboard.services.invoices import approvals, rollup as invoice_rollup
from vrm_dashboard.services.invoices.approvals import Selection
from vrm_dashboard.services.platform.actors import load_actor

pytestmark = pytest.mark.browser
LOGINS = {login.role: login for login in DEMO_LOGINS}
NUMBER = "SB-BRW-0001"


def _approved_self_billing_invoice(engine) -> str:
    """The demo vendor's self-billing invoice, approved and due; the vendor is paid by wire,
    so a person confirms the payment."""
    with Session(engine) as session:
        vendor_id = find_by_email(session, LOGINS["vendor"].email).vendor_id
        session.execute(update(Vendor).where(Vendor.id == vendor_id).values(payment_method="wire",
                                                                             email="ap@demo-vendor.example"))
        invoice = add_invoice(session, NUMBER, "pending", vendor_id=vendor_id)
        invoice.due_date = date.today() - timedelta(days=1)
        invoice_rollup.refresh(session, [vendor_id])
        session.commit()
        approver = load_actor(session, find_by_email(session, LOGINS["approver"].email).id)
        approvals.approve(session, approver, Selection([invoice.id]))
        session.commit()
        return session.get(Vendor, vendor_id).vendor_code


def _wait_for(condition, seconds: float = 20):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_a_confirmed_payment_mails_the_invoice_which_is_disputed_and_reissued(page, browser, app_url, app_engine,
                                                                               mail_inbox):
    vendor_code = _approved_self_billing_invoice(app_engine)
    finance = LOGINS["finance_manager"]
    sign_in(page, finance.email, finance.password)
    expect(page.get_by_test_id("user-name")).to_be_visible()

    # The payment is confirmed: a payout run makes the wire transfer, finance records it paid.
    page.goto(f"/payouts?vendor={vendor_code}")
    page.get_by_test_id("run-payouts").click()
    expect(page.get_by_test_id("payout-result")).to_contain_text("Payout run")
    row = page.get_by_test_id("payout-row").filter(has_text=NUMBER)
    expect(row.get_by_test_id("payout-status")).to_have_text("Processing")
    row.get_by_test_id("bank-reference").fill("BANK-REF-991")
    row.get_by_test_id("mark-paid").click()
    expect(row.get_by_test_id("payout-status")).to_have_text("Paid")

    # Distribution sends the invoice with its PDF to the local SMTP server.
    page.goto("/distribution")
    page.get_by_test_id("run-distribution").click()
    expect(page.get_by_test_id("distribution-result")).to_contain_text("sent")
    message = _wait_for(lambda: next((m for m in mail_inbox.to("ap@demo-vendor.example")
                                      if m["Subject"].endswith(f"invoice {NUMBER}")), None))
    extraction = parse_document(pdf_of(message))
    assert extraction.fields["invoice_number"].value == NUMBER
    assert str(extraction.fields["total"].value) == "297.50"
    delivery = page.get_by_test_id("delivery-row").filter(has_text=NUMBER)
    expect(delivery.get_by_test_id("delivery-status")).to_have_text("Sent")
    expect(page.get_by_test_id("distribution-report")).to_contain_text(date.today().isoformat())

    # The vendor finds it in the portal, opens it, and reports a problem.
    vendor_context = browser.new_context(base_url=app_url, viewport={"width": 1400, "height": 1000})
    vendor_context.set_default_timeout(20_000)
    vendor_page = vendor_context.new_page()
    sign_in(vendor_page, LOGINS["vendor"].email, LOGINS["vendor"].password)
    expect(vendor_page.get_by_test_id("user-name")).to_be_visible()
    vendor_page.goto("/portal")
    sent = vendor_page.get_by_test_id("portal-sent-row").filter(has_text=NUMBER)
    expect(sent).to_have_count(1)
    pdf = vendor_page.request.get(sent.get_by_test_id("portal-open-invoice").get_attribute("href"))
    assert pdf.status == 200 and pdf.body() == pdf_of(message)
    sent.get_by_test_id("portal-dispute").click()
    vendor_page.get_by_test_id("portal-dispute-reason").fill("The banner ran in October, not September")
    vendor_page.get_by_test_id("portal-dispute-send").click()
    expect(sent).to_contain_text("Reported")
    vendor_context.close()

    # The team re-issues it corrected: a credit note and revision R1 go out at once.
    page.goto("/distribution")
    dispute = page.get_by_test_id("dispute-row").filter(has_text=NUMBER)
    expect(dispute).to_contain_text("October, not September")
    dispute.get_by_test_id("open-reissue").click()
    page.get_by_test_id("reissue-description").nth(1).fill("Banner campaign, October")
    page.get_by_test_id("confirm-reissue").click()
    expect(page.get_by_test_id("distribution-result")).to_contain_text(f"{NUMBER}-R1")
    page.get_by_test_id("run-distribution").click()
    expect(page.get_by_test_id("distribution-result")).to_contain_text("sent")
    _wait_for(lambda: any(m["Subject"].endswith(f"credit note CN-{NUMBER}")
                          for m in mail_inbox.to("ap@demo-vendor.example")))
    revision = next(m for m in mail_inbox.to("ap@demo-vendor.example") if m["Subject"].endswith(f"{NUMBER}-R1"))
    assert parse_document(pdf_of(revision)).lines[1].description == "Banner campaign, October"

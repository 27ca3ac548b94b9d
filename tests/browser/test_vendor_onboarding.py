"""A vendor onboards from an invite link to a reviewed profile and downloads an invoice: the
finance manager invites it, the e-mailed link sets its password, it completes every step
(a wrong IBAN is refused on the way), submits, the reviewer sees its documents and approves,
and the vendor finds, filters and downloads its invoice in its portal."""
import os
import re
import time
from datetime import date

import pytest
from playwright.sync_api import expect
from sqlmodel import Session, select

from tests.helpers import sign_in
from vrm_dashboard import config
from vrm_dashboard.db.models import Invoice, InvoiceLine, Vendor
from vrm_dashboard.demo.seeder import DEMO_LOGINS
from vrm_dashboard.services.mail import outgoing as outgoing_mail

pytestmark = pytest.mark.browser
FINANCE = next(login for login in DEMO_LOGINS if login.role == "finance_manager")
EMAIL = "erika@muster-media.example"


def _send_queued_mail(app_engine, mail_inbox) -> None:  # type: ignore[no-untyped-def]
    """What the scheduler's mail job does, against the app's database and the suite's server."""
    names = {"VRM_SMTP_HOST": "127.0.0.1", "VRM_SMTP_PORT": str(mail_inbox.port), "VRM_SMTP_TLS": "false"}
    os.environ.update(names)
    config.settings.cache_clear()
    try:
        with Session(app_engine) as session:
            outgoing_mail.send_queued(session, parallel=False)
    finally:
        for name in names:
            os.environ.pop(name)
        config.settings.cache_clear()


def _mailed_link(mail_inbox) -> str:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for message in mail_inbox.to(EMAIL):
            found = re.search(r"(/welcome\?token=\S+)", message.get_content())
            if found:
                return found.group(1)
        time.sleep(0.2)
    raise AssertionError("no invitation e-mail")


def _choose(page, testid: str, option: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_test_id(testid).click()
    page.get_by_role("option", name=option, exact=True).click()


def _self_billing_invoice(app_engine, vendor_name: str) -> str:  # type: ignore[no-untyped-def]
    with Session(app_engine) as session:
        vendor = session.exec(select(Vendor).where(Vendor.name == vendor_name)).one()
        invoice = Invoice(number="SB-MUSTER-2026-11", kind="self_generated", vendor_id=vendor.id, currency="EUR",
                          subtotal_minor=125_000, tax_minor=0, total_minor=125_000, issue_date=date(2026, 11, 30),
                          due_date=date(2026, 12, 30), status="approved", billing_period="2026-11")
        session.add(invoice)
        session.flush()
        session.add(InvoiceLine(invoice_id=invoice.id, position=1, description="Clicks November", quantity=1,
                                unit_price_minor=125_000, amount_minor=125_000))
        session.commit()
    return "SB-MUSTER-2026-11"


def test_a_vendor_onboards_from_an_invite_link_and_downloads_its_invoice(page, browser, app_url, app_engine,
                                                                         mail_inbox, tmp_path):
    sign_in(page, FINANCE.email, FINANCE.password)
    expect(page.get_by_test_id("user-name")).to_be_visible()
    page.goto("/vendors")
    page.get_by_test_id("invite-vendor").click()
    for name, value in (("name", "Muster Media"), ("contact_name", "Erika Muster"), ("email", EMAIL),
                        ("country", "DE"), ("currency", "EUR")):
        page.get_by_test_id(f"vendor-invite-{name}").fill(value)
    page.get_by_test_id("vendor-invite-send").click()
    expect(page.get_by_test_id("vendor-invite-message")).to_contain_text("Invited Muster Media")
    _send_queued_mail(app_engine, mail_inbox)
    link = _mailed_link(mail_inbox)

    vendor = browser.new_context(base_url=app_url, viewport={"width": 1400, "height": 1000}).new_page()
    vendor.context.set_default_timeout(20_000)
    vendor.goto(link)
    expect(vendor.get_by_test_id("welcome-email")).to_contain_text(EMAIL)
    vendor.get_by_test_id("welcome-password").fill("muster-media-2026")
    vendor.get_by_test_id("welcome-again").fill("muster-media-2026")
    vendor.get_by_test_id("welcome-submit").click()
    expect(vendor.get_by_test_id("welcome-sign-in")).to_be_visible()
    sign_in(vendor, EMAIL, "muster-media-2026")
    expect(vendor.get_by_test_id("portal-onboarding")).to_be_visible()
    vendor.get_by_test_id("portal-open-profile").click()
    expect(vendor.get_by_test_id("review-state")).to_have_text("Filling in")
    expect(vendor.get_by_test_id("missing-item")).to_have_count(5)

    # 1. Company
    vendor.get_by_test_id("legal-name").fill("Muster Media GmbH")
    vendor.get_by_test_id("registered-address").fill("Hauptstr. 1\n10115 Berlin")
    vendor.get_by_test_id("save-profile").click()
    expect(vendor.get_by_test_id("profile-message")).to_have_text("Company profile saved.")
    # 2. Contacts
    vendor.get_by_test_id("step-contacts").click()
    vendor.get_by_test_id("contact-name").fill("Erika Muster")
    vendor.get_by_test_id("contact-e-mail").fill("ap@muster-media.example")
    vendor.get_by_test_id("add-contact").click()
    expect(vendor.get_by_test_id("contact-row")).to_have_count(1)
    # 3. Payout method: a mistyped IBAN is refused and nothing is kept.
    vendor.get_by_test_id("step-payout").click()
    _choose(vendor, "payout-method", "SEPA transfer")
    vendor.get_by_test_id("iban").fill("DE89 3704 0044 0532 0130 01")
    vendor.get_by_test_id("save-payout").click()
    expect(vendor.get_by_test_id("profile-message")).to_contain_text("IBAN is not valid")
    vendor.get_by_test_id("iban").fill("DE89 3704 0044 0532 0130 00")
    vendor.get_by_test_id("save-payout").click()
    expect(vendor.get_by_test_id("profile-message")).to_have_text("Payout method saved.")
    # 4. Tax: the W-8BEN-E of a German company, with its VAT ID.
    vendor.get_by_test_id("step-tax").click()
    _choose(vendor, "tax-form", "W-8BEN-E (foreign entity)")
    vendor.get_by_test_id("name-on-the-form").fill("Muster Media GmbH")
    _choose(vendor, "entity-type", "Corporation")
    _choose(vendor, "fatca-status", "Active NFFE")
    vendor.get_by_test_id("foreign-tax-number").fill("2893081508152")
    vendor.get_by_test_id("vat-id").fill("DE 136 695 976")
    vendor.get_by_test_id("permanent-address").fill("Hauptstr. 1, 10115 Berlin")
    vendor.get_by_test_id("signed-by").fill("Erika Muster")
    vendor.get_by_test_id("tax-certify").click()
    vendor.get_by_test_id("save-tax").click()
    expect(vendor.get_by_test_id("profile-message")).to_have_text("Tax form signed and saved.")
    expect(vendor.get_by_test_id("tax-signed")).to_contain_text("W-8BEN-E")
    # 5. Documents: the company register and the bank's letter.
    vendor.get_by_test_id("step-documents").click()
    register, letter = tmp_path / "register.pdf", tmp_path / "bank-letter.pdf"
    register.write_bytes(b"%PDF-1.4\n% Handelsregister\n")
    letter.write_bytes(b"%PDF-1.4\n% Bankbestaetigung\n")
    vendor.locator("#vendor-documents input[type=file]").set_input_files(str(register))
    vendor.get_by_test_id("upload-documents").click()
    expect(vendor.get_by_test_id("profile-message")).to_have_text("Received register.pdf.")
    _choose(vendor, "document-kind", "Bank account confirmation")
    vendor.locator("#vendor-documents input[type=file]").set_input_files(str(letter))
    vendor.get_by_test_id("upload-documents").click()
    expect(vendor.get_by_test_id("profile-message")).to_have_text("Received bank-letter.pdf.")
    expect(vendor.get_by_test_id("missing")).to_have_count(0)
    vendor.get_by_test_id("submit-profile").click()
    expect(vendor.get_by_test_id("review-state")).to_have_text("Waiting for review")

    # The reviewer finds it first in the queue, opens its documents, and approves.
    page.goto("/vendors")
    row = page.get_by_test_id("onboarding-row").filter(has_text="Muster Media")
    expect(row).to_contain_text("Waiting for review")
    row.locator("a").first.click()
    expect(page.get_by_test_id("card-review-state")).to_have_text("Waiting for review")
    expect(page.get_by_test_id("card-missing-item")).to_have_count(0)
    expect(page.get_by_test_id("card-tax")).to_contain_text("Active NFFE")
    expect(page.get_by_test_id("card-tax")).not_to_contain_text("2893081508152")  # masked
    expect(page.get_by_test_id("card-document")).to_have_count(2)
    opened = page.request.get(page.get_by_test_id("card-document").first.get_attribute("href"))
    assert opened.ok and opened.body().startswith(b"%PDF")
    page.get_by_test_id("approve-vendor").click()
    expect(page.get_by_test_id("card-review-state")).to_have_text("Approved")
    expect(page.get_by_text("Active", exact=True).first).to_be_visible()

    # Approved, the vendor's portal lists its invoice; it filters, and downloads it.
    number = _self_billing_invoice(app_engine, "Muster Media")
    vendor.goto("/portal")
    expect(vendor.get_by_test_id("portal-onboarding")).to_have_count(0)
    expect(vendor.get_by_test_id("portal-invoice-row")).to_have_count(1)
    _choose(vendor, "portal-filter-payment_status", "Paid")
    expect(vendor.get_by_test_id("portal-invoice-row")).to_have_count(0)
    _choose(vendor, "portal-filter-payment_status", "Approved, to be paid")
    row = vendor.get_by_test_id("portal-invoice-row").filter(has_text=number)
    expect(row).to_contain_text("€1,250.00")
    with vendor.expect_download() as download:
        row.get_by_test_id("portal-invoice-download").click()
    saved = tmp_path / "downloaded.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF") and download.value.suggested_filename.endswith(".pdf")
    vendor.context.close()

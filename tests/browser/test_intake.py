"""Intake as finance people use it: upload activity and vendor invoices, see both kinds in
Pending Invoices, and settle an unmatched vendor from the suggestions."""
import itertools

import pytest
from playwright.sync_api import expect
from sqlmodel import Session

from tests.helpers import sign_in, vendor_input
from tests.invoice_corpus import make_invoice
from vrm_dashboard.demo.seeder import DEMO_LOGINS
from vrm_dashboard.services.platform.actors import Actor
from vrm_dashboard.services.vendors import rate_rules, records as vendor_service

pytestmark = pytest.mark.browser
FINANCE = next(login for login in DEMO_LOGINS if login.role == "finance_manager")
_seeds = itertools.count(501)


def _rated_vendor(engine, code, name):
    with Session(engine) as session:
        system = Actor.system("tests")
        vendor = vendor_service.create_vendor(session, system, vendor_input(vendor_code=code, name=name))
        rate_rules.set_rate_card(session, system, vendor.id, "EUR")
        rate_rules.set_rate_rule(session, system, vendor.id, "clicks", per_unit_rate="0.05")
        session.commit()


def test_upload_activity_and_a_vendor_pdf_then_resolve_the_vendor(page, app_engine, tmp_path):
    _rated_vendor(app_engine, "INT-ACT", "Intake Activity Media")
    sample = make_invoice(next(_seeds), "de", "classic")
    # The sender is on file under a slightly different name: a suggestion, not a certain match.
    close_name = sample.truth["vendor_name"].rsplit(" ", 1)[0] + " Europe"
    _rated_vendor(app_engine, "INT-PDF", close_name)
    activity = tmp_path / "clicks.csv"
    activity.write_text("vendor,activity_type,date,quantity\nINT-ACT,clicks,2026-10-01,1000\nINT-ACT,clicks,2026-10-02,500\n")
    pdf = tmp_path / "rechnung.pdf"
    pdf.write_bytes(sample.pdf)

    sign_in(page, FINANCE.email, FINANCE.password)
    expect(page.get_by_test_id("user-name")).to_be_visible()
    page.goto("/intake")
    page.locator("#activity input[type=file]").set_input_files(str(activity))
    page.get_by_test_id("upload-activity").click()
    expect(page.get_by_test_id("upload-result")).to_contain_text("Imported 2 new rows")
    page.locator("#invoices input[type=file]").set_input_files(str(pdf))
    page.get_by_test_id("upload-invoices").click()
    expect(page.get_by_test_id("upload-result")).to_contain_text("Received as PI-")
    expect(page.get_by_test_id("intake-row").first).to_contain_text("rechnung.pdf")

    # The self-generated invoice is in Pending Invoices with its computed amount.
    page.goto("/invoices?vendor=INT-ACT")
    expect(page.get_by_test_id("invoice-row")).to_have_count(1)
    expect(page.get_by_test_id("invoice-row")).to_contain_text("SG-INT-ACT-2026-10")
    expect(page.get_by_test_id("invoice-row")).to_contain_text("75.00")

    # The parsed one: the original beside what was read, and the vendor settled from the suggestions.
    page.goto("/intake")
    page.get_by_test_id("intake-row").first.get_by_role("link").click()
    expect(page.get_by_test_id("detail-status")).to_have_text("Draft")
    expect(page.get_by_title("Original document")).to_be_visible()
    expect(page.get_by_test_id("extracted-fields")).to_contain_text(sample.truth["invoice_number"])
    expect(page.get_by_test_id("draft-problem").first).to_contain_text("No vendor is matched")
    suggestion = page.get_by_test_id("vendor-suggestion").filter(has_text="INT-PDF")
    suggestion.get_by_test_id("use-vendor").click()
    expect(page.get_by_test_id("detail-status")).to_have_text("Draft Valid")
    expect(page.get_by_test_id("detail-vendor")).to_contain_text("INT-PDF")
    page.goto("/invoices?vendor=INT-PDF")
    expect(page.get_by_test_id("invoice-row")).to_have_count(1)
    expect(page.get_by_test_id("invoice-row")).to_contain_text("Parsed")

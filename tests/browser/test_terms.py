"""Payment terms and collection in the browser: terms edited in place (valid and refused),
in bulk, exported both ways; a seller's admin kept to its own end customers; and a bulk
Collect Payment with its summary."""
import io

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect
from sqlmodel import Session, select

from tests.helpers import sign_in
from vrm_dashboard.db.models import CollectionAttempt, Organization, PaymentTermsChange
from vrm_dashboard.demo.seeder import DEMO_LOGINS, SELLER_LOGIN

pytestmark = pytest.mark.browser
FINANCE = next(login for login in DEMO_LOGINS if login.role == "finance_manager")


def _row(page, name: str):  # type: ignore[no-untyped-def]
    return page.get_by_test_id("terms-row").filter(has=page.get_by_text(name, exact=True))


def _exported_names(download) -> list[str]:  # type: ignore[no-untyped-def]
    sheet = load_workbook(io.BytesIO(open(download.path(), "rb").read())).active
    return [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]


def test_terms_are_edited_in_place_in_bulk_and_exported(page, app_engine):
    sign_in(page, FINANCE.email, FINANCE.password)
    expect(page.get_by_test_id("user-name")).to_be_visible()
    page.goto("/terms")
    expect(page.get_by_test_id("terms-count")).to_contain_text("8 organizations")
    cell = _row(page, "Direct Customer 1").get_by_test_id("terms-input")
    expect(cell).to_have_value("30")

    cell.fill("45")
    cell.press("Enter")
    expect(page.get_by_test_id("terms-message")).to_contain_text("Direct Customer 1: 45 days for invoices generated from")
    expect(_row(page, "Direct Customer 1").get_by_test_id("terms-default")).to_have_text("No")

    cell.fill("-5")
    cell.press("Enter")
    expect(page.get_by_test_id("terms-error")).to_contain_text("whole number of days, 0 or more")
    expect(cell).to_have_value("45")
    cell.fill("net 30")
    cell.press("Enter")
    expect(page.get_by_test_id("terms-error")).to_contain_text("whole number of days")
    with Session(app_engine) as session:
        org = session.exec(select(Organization).where(Organization.name == "Direct Customer 1")).one()
        assert org.payment_terms_days == 45
        assert len(session.exec(select(PaymentTermsChange).where(PaymentTermsChange.organization_id == org.id)).all()) == 1

    page.get_by_test_id("terms-filter-tier").click()
    page.get_by_role("option", name="Direct Customer").click()
    expect(page.get_by_test_id("terms-count")).to_contain_text("5 organizations")
    page.get_by_test_id("terms-select-page").click()
    page.get_by_test_id("terms-bulk-value").fill("60")
    page.get_by_test_id("terms-bulk-apply").click()
    expect(page.get_by_test_id("terms-message")).to_contain_text("5 organizations: 60 days")
    expect(page.get_by_test_id("terms-input")).to_have_count(5)
    for value in page.get_by_test_id("terms-input").all():
        expect(value).to_have_value("60")
    with Session(app_engine) as session:
        terms = session.exec(select(Organization.payment_terms_days).where(Organization.tier == "direct_customer")).all()
        assert terms == [60] * 5

    with page.expect_download() as view:
        page.get_by_test_id("terms-export-view").click()
    assert sorted(_exported_names(view.value)) == [f"Direct Customer {i}" for i in range(1, 6)]
    expect(page.get_by_test_id("terms-message")).to_contain_text("Exported 5 organizations")
    with page.expect_download() as everything:
        page.get_by_test_id("terms-export-all").click()
    names = _exported_names(everything.value)
    assert len(names) == 8 and "Seller 1" in names and "End Customer 1" not in names

    _row(page, "Direct Customer 1").get_by_test_id("terms-history-link").click()
    expect(page.get_by_test_id("terms-history")).to_contain_text("60 days")


def test_a_seller_admin_cannot_change_a_distributors_direct_customer(page, app_engine, app_url):
    sign_in(page, SELLER_LOGIN.email, SELLER_LOGIN.password)
    expect(page.get_by_test_id("user-name")).to_be_visible()
    page.goto("/terms")
    expect(page.get_by_test_id("terms-count")).to_contain_text("2 organizations")
    expect(page.get_by_test_id("terms-table")).not_to_contain_text("Direct Customer")
    with Session(app_engine) as session:
        target = session.exec(select(Organization).where(Organization.name == "Direct Customer 2")).one()
        before = target.payment_terms_days
    # A crafted call with the seller admin's own signed-in session, from our own origin, is
    # refused by the server's scope check: as for an organization that does not exist, and
    # without naming it.
    answer = page.request.put("/api/v1/organizations/payment-terms", headers={"Origin": app_url},
                              data={"organization_ids": [target.id], "payment_terms_days": 5})
    assert answer.status == 404 and "Direct Customer 2" not in answer.text()
    with Session(app_engine) as session:
        assert session.get(Organization, target.id).payment_terms_days == before
    # Its own end customers it may change.
    cell = _row(page, "End Customer 1").get_by_test_id("terms-input")
    cell.fill("14")
    cell.press("Enter")
    expect(page.get_by_test_id("terms-message")).to_contain_text("End Customer 1: 14 days")


def test_a_bulk_collection_charges_what_is_due_and_summarises_it(page, app_engine):
    sign_in(page, FINANCE.email, FINANCE.password)
    expect(page.get_by_test_id("user-name")).to_be_visible()
    page.goto("/receivables")
    expect(page.get_by_test_id("receivables-row").first).to_be_visible()
    page.get_by_test_id("receivables-overdue").click()
    expect(page.get_by_test_id("receivables-count")).not_to_contain_text(" 0 invoices")
    page.get_by_test_id("collect-open").click()
    page.get_by_text("By Due Date").click()
    page.get_by_test_id("collect-confirm").click()
    summary = page.get_by_test_id("collect-summary")
    expect(summary.first).to_contain_text("Collected")
    expect(summary.nth(1)).to_contain_text("Failed")
    with Session(app_engine) as session:
        attempts = session.exec(select(CollectionAttempt)).all()
    collected = [a for a in attempts if a.outcome == "collected"]
    assert collected and all(a.method in ("credit_card", "ach") for a in collected)
    # Customers without a card or mandate pay by transfer: their invoices fail with that reason.
    assert any(a.method == "wire" and a.outcome == "failed" for a in attempts)
    expect(summary.first).to_contain_text(f"Collected {len(collected)} invoice")

"""Two organizations pay vendors in one installation: Northwind (the distributor) and Seller 1.
Each finance manager sees only their own organization's vendors, invoices, payouts and audit
entries, with totals that match them, and never the other's drafts."""
import itertools

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select
from sqlmodel import Session

from tests.helpers import make_invoice, sign_in, vendor_input
from vrm_dashboard.db.models import Invoice, Payout, Vendor
from vrm_dashboard.demo.seeder import DEMO_LOGINS, SELLER_1, SELLER_LOGIN
from vrm_dashboard.services.invoices import rollup as invoice_rollup
from vrm_dashboard.services.platform.actors import Actor
from vrm_dashboard.services.vendors import records as vendor_service

pytestmark = pytest.mark.browser
NORTHWIND_FINANCE = next(login for login in DEMO_LOGINS if login.role == "finance_manager")
NORTHWIND = 1
_codes = itertools.count(1)


def _vendor_with_a_draft(engine, payer: int, label: str) -> tuple[str, str]:
    """A vendor paid by `payer` with one draft invoice: (vendor name, invoice number)."""
    code = f"TEN{next(_codes):03d}"
    name, number = f"{label} Vendor {code}", f"{label}-DRAFT-{code}"
    with Session(engine) as session:
        vendor = vendor_service.create_vendor(session, Actor.system("tests"),
                                              vendor_input(vendor_code=code, name=name))
        vendor.owner_id = payer  # the system may place a record in any organization
        session.add(vendor)
        session.flush()
        make_invoice(session, vendor.id, number, 12_345, "draft")  # its payer's, as the vendor's
        invoice_rollup.refresh(session, [vendor.id])
        session.commit()
    return name, number


def _counts(engine, payer: int) -> tuple[int, int, int]:
    """What the payer's own screens should count: vendors, payable invoices and payouts."""
    with Session(engine) as session:
        vendors = session.execute(select(func.count()).select_from(Vendor).where(Vendor.owner_id == payer)).scalar_one()
        invoices = session.execute(select(func.count()).select_from(Invoice).join(Vendor, Vendor.id == Invoice.vendor_id)
                                   .where(Vendor.owner_id == payer)).scalar_one()
        payouts = session.execute(select(func.count()).select_from(Payout).join(Vendor, Vendor.id == Payout.vendor_id)
                                  .where(Vendor.owner_id == payer)).scalar_one()
    return vendors, invoices, payouts


def _search_invoices(page, number: str) -> None:
    page.goto(f"/invoices?search={number}")
    expect(page.get_by_test_id("invoice-count")).to_be_visible()


def test_each_finance_manager_sees_only_their_organizations_book(page, app_engine):
    seller_vendor, seller_draft = _vendor_with_a_draft(app_engine, SELLER_1, "SELLERONE")
    northwind_vendor, northwind_draft = _vendor_with_a_draft(app_engine, NORTHWIND, "NORTHWIND")
    vendors, invoices, _payouts = _counts(app_engine, SELLER_1)
    assert vendors > 1 and invoices > 1  # the demo gives Seller 1 a book of its own

    sign_in(page, SELLER_LOGIN.email, SELLER_LOGIN.password)
    expect(page.get_by_test_id("user-name")).to_be_visible()
    page.goto("/vendors")
    expect(page.get_by_test_id("vendor-count")).to_contain_text(f" {vendors} vendors")
    page.goto("/invoices")
    expect(page.get_by_test_id("invoice-count")).to_contain_text(f" {invoices} invoices")
    _search_invoices(page, seller_draft)
    expect(page.get_by_role("link", name=seller_draft)).to_be_visible()
    _search_invoices(page, northwind_draft)
    expect(page.get_by_test_id("invoice-count")).to_contain_text(" 0 invoices")
    expect(page.get_by_text(northwind_vendor)).to_have_count(0)
    page.goto("/audit")
    expect(page.get_by_test_id("audit-count")).to_be_visible()
    expect(page.get_by_text(northwind_draft)).to_have_count(0)

    page.context.clear_cookies()
    sign_in(page, NORTHWIND_FINANCE.email, NORTHWIND_FINANCE.password)
    expect(page.get_by_test_id("user-name")).to_be_visible()
    _search_invoices(page, seller_draft)
    expect(page.get_by_test_id("invoice-count")).to_contain_text(" 0 invoices")
    expect(page.get_by_text(seller_vendor)).to_have_count(0)
    _search_invoices(page, northwind_draft)
    expect(page.get_by_role("link", name=northwind_draft)).to_be_visible()

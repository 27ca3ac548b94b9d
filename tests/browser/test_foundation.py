"""A person using the product: sign in per role, the right navigation, add and find a vendor."""
import re

import pytest
from playwright.sync_api import expect

from tests.helpers import sign_in
from vrm_dashboard.demo.seeder import DEMO_LOGINS
from vrm_dashboard.domain.permissions import DEFAULT_GRANTS, RoleName
from vrm_dashboard.ui import routes  # noqa: F401 - installs the navigation
from vrm_dashboard.ui.screen_access import screens_for

pytestmark = pytest.mark.browser

LOGINS = {login.role: login for login in DEMO_LOGINS}


@pytest.mark.parametrize("role", [r.value for r in RoleName])
def test_each_role_signs_in_and_sees_its_navigation(page, role):
    login = LOGINS[role]
    sign_in(page, login.email, login.password)
    expected = [s.label for s in screens_for(frozenset(a.value for a in DEFAULT_GRANTS[RoleName(role)]))]
    nav = page.get_by_test_id("nav-link")
    expect(nav).to_have_count(len(expected))
    expect(nav).to_have_text(expected)
    expect(page.get_by_test_id("user-name")).to_contain_text("Demo")


def test_finance_adds_a_vendor_and_finds_it_in_the_list(page):
    sign_in(page, LOGINS["finance_manager"].email, LOGINS["finance_manager"].password)
    expect(page).to_have_url(re.compile(r"/vendors$"))
    expect(page.get_by_test_id("vendor-row").first).to_be_visible()
    page.get_by_test_id("add-vendor").click()
    fields = {"vendor_code": "BROWSER-1", "name": "Browser Test Media", "email": "ap@browser.example",
              "country": "DE", "currency": "EUR", "iban": "DE89 3704 0044 0532 0130 00"}
    for name, value in fields.items():
        page.get_by_test_id(f"field-{name}").fill(value)
    page.get_by_test_id("save-vendor").click()
    expect(page.get_by_test_id("vendor-message")).to_contain_text("Saved vendor Browser Test Media")
    page.get_by_test_id("vendor-search").fill("browser test")
    expect(page.get_by_test_id("vendor-row")).to_have_count(1)
    expect(page.get_by_test_id("vendor-row")).to_contain_text("BROWSER-1")
    page.get_by_role("link", name="Browser Test Media").click()
    expect(page.get_by_test_id("card-name")).to_have_text("Browser Test Media")
    expect(page.get_by_test_id("card-history")).to_contain_text("vendor.create")


def test_finance_edits_and_deactivates_a_vendor_after_confirming(page):
    sign_in(page, LOGINS["finance_manager"].email, LOGINS["finance_manager"].password)
    expect(page.get_by_test_id("vendor-row").first).to_be_visible()  # the page has loaded
    page.get_by_test_id("vendor-search").fill("V00002")
    expect(page.get_by_test_id("vendor-row")).to_have_count(1)
    page.get_by_role("button", name="Edit").click()
    page.get_by_test_id("field-name").fill("Renamed In Browser")
    page.get_by_test_id("save-vendor").click()
    expect(page.get_by_test_id("vendor-row")).to_contain_text("Renamed In Browser")
    page.get_by_test_id("deactivate-vendor").click()
    page.get_by_test_id("confirm-deactivate").click()
    expect(page.get_by_test_id("vendor-row")).to_contain_text("Inactive")
    page.get_by_role("link", name="Renamed In Browser").click()
    expect(page.get_by_test_id("card-history")).to_contain_text("vendor.deactivate")
    expect(page.get_by_test_id("card-history")).to_contain_text("Renamed In Browser")


def test_bad_input_shows_a_message_per_field_and_adds_nothing(page):
    sign_in(page, LOGINS["finance_manager"].email, LOGINS["finance_manager"].password)
    expect(page.get_by_test_id("vendor-row").first).to_be_visible()  # the page has loaded
    page.get_by_test_id("add-vendor").click()
    for name, value in {"vendor_code": "BAD-1", "name": "Bad Iban Ltd", "email": "ap@bad.example",
                        "country": "DE", "currency": "EUX", "iban": "DE00 0000"}.items():
        page.get_by_test_id(f"field-{name}").fill(value)
    page.get_by_test_id("save-vendor").click()
    expect(page.get_by_test_id("error-iban")).to_contain_text("IBAN is not valid")
    expect(page.get_by_test_id("error-currency")).to_contain_text("Unknown currency")
    page.get_by_test_id("cancel-vendor").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    page.get_by_test_id("vendor-search").fill("BAD-1")
    expect(page.get_by_test_id("vendor-count")).to_contain_text("0 vendors")


def test_a_vendor_cannot_open_the_admin_pages(page):
    sign_in(page, LOGINS["vendor"].email, LOGINS["vendor"].password)
    expect(page).to_have_url(re.compile(r"/portal$"))
    expect(page.get_by_test_id("portal-vendor")).not_to_be_empty()
    for route in ("/settings", "/vendors"):
        page.goto(route)
        expect(page.get_by_test_id("access-denied")).to_be_visible()
    expect(page.get_by_test_id("users-table")).to_have_count(0)


def test_signing_out_ends_the_session(page):
    sign_in(page, LOGINS["viewer"].email, LOGINS["viewer"].password)
    expect(page.get_by_test_id("sign-out")).to_be_visible()
    page.get_by_test_id("sign-out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    page.goto("/vendors")
    expect(page).to_have_url(re.compile(r"/login$"))


def test_a_wrong_password_is_refused(page):
    sign_in(page, LOGINS["viewer"].email, "not-the-password")
    expect(page.get_by_test_id("login-error")).to_have_text("Wrong e-mail or password, or the account cannot sign in now")

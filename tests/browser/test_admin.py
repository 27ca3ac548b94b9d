"""Admins in the browser: invite a user who chooses a password from the link and signs in;
the platform admin takes a permission from a role, after which the affected user can no
longer do it, neither on the screen nor through a crafted API call; the audit log shows both."""
import re

import pytest
from playwright.sync_api import expect

from tests.helpers import sign_in
from vrm_dashboard.demo.seeder import DEMO_LOGINS

pytestmark = pytest.mark.browser
ADMIN = next(login for login in DEMO_LOGINS if login.role == "admin")
# Role grants are the installation's: the platform admin changes them.
PLATFORM = next(login for login in DEMO_LOGINS if login.role == "platform_admin")
FINANCE = next(login for login in DEMO_LOGINS if login.role == "finance_manager")


def _grant_box(page, action: str, role: str):  # type: ignore[no-untyped-def]
    matrix = page.get_by_test_id("permission-matrix")
    expect(matrix.locator("thead")).to_contain_text(role)
    headers = [h.strip() for h in matrix.locator("thead th").all_inner_texts()]
    row = matrix.locator("tbody tr").filter(has=page.get_by_text(action, exact=True))
    return row.locator("td").nth(headers.index(role)).get_by_role("checkbox")


def test_an_invited_user_sets_a_password_and_signs_in(page, browser, app_url):
    sign_in(page, ADMIN.email, ADMIN.password)
    expect(page.get_by_test_id("user-name")).to_be_visible()
    page.goto("/settings")
    page.get_by_test_id("invite-email").fill("new.approver@example.com")
    page.get_by_test_id("invite-name").fill("New Approver")
    page.get_by_test_id("invite-send").click()
    message = page.get_by_test_id("user-message")
    expect(message).to_contain_text("Invited new.approver@example.com")
    link = re.search(r"(/welcome\?token=\S+)", message.inner_text()).group(1)

    guest = browser.new_context(base_url=app_url).new_page()
    guest.goto(link)
    expect(guest.get_by_test_id("welcome-email")).to_contain_text("new.approver@example.com")
    guest.get_by_test_id("welcome-password").fill("a-good-password")
    guest.get_by_test_id("welcome-again").fill("a-good-password")
    guest.get_by_test_id("welcome-submit").click()
    expect(guest.get_by_test_id("welcome-sign-in")).to_be_visible()
    sign_in(guest, "new.approver@example.com", "a-good-password")
    expect(guest.get_by_test_id("user-name")).to_have_text("New Approver")
    # The link worked once.
    guest.goto(link)
    expect(guest.get_by_test_id("welcome-error")).to_contain_text("used already")
    guest.context.close()


def test_a_platform_admin_tests_the_connections(page):
    # The mail servers are the installation's: a platform admin's to see and test.
    sign_in(page, PLATFORM.email, PLATFORM.password)
    expect(page.get_by_test_id("user-name")).to_be_visible()
    page.goto("/settings")
    page.get_by_test_id("test-connections").click()
    checks = page.get_by_test_id("connection-checks")
    # The app under test sends its mail to the suite's SMTP server; no mailbox is configured.
    expect(checks.locator("tr").filter(has_text="Outgoing mail (SMTP)")).to_contain_text("OK")
    expect(checks.locator("tr").filter(has_text="Invoice mailbox (IMAP)")).to_contain_text("Not configured")


def test_a_permission_taken_from_a_role_is_refused_on_screen_and_through_the_api(page, browser, app_url):
    sign_in(page, PLATFORM.email, PLATFORM.password)
    expect(page.get_by_test_id("user-name")).to_be_visible()
    page.goto("/settings")
    box = _grant_box(page, "terms.edit", "finance_manager")
    expect(box).to_be_checked()

    finance = browser.new_context(base_url=app_url).new_page()
    sign_in(finance, FINANCE.email, FINANCE.password)
    expect(finance.get_by_test_id("user-name")).to_be_visible()
    finance.goto("/terms")
    expect(finance.get_by_test_id("terms-input").first).to_be_visible()

    box.click()
    expect(box).not_to_be_checked()
    try:
        finance.reload()
        expect(finance.get_by_test_id("terms-row").first).to_be_visible()
        expect(finance.get_by_test_id("terms-input")).to_have_count(0)
        # As if from the app's own pages (Origin ours), so the permission is what refuses it.
        crafted = finance.request.put("/api/v1/organizations/payment-terms", headers={"Origin": app_url},
                                      data={"organization_ids": [2], "payment_terms_days": 9})
        assert crafted.status == 403 and "terms.edit" in crafted.text()
        page.goto("/audit")
        page.get_by_test_id("audit-action").fill("role.")
        expect(page.get_by_test_id("audit-table")).to_contain_text("role.revoke")
        expect(page.get_by_test_id("audit-table")).to_contain_text("finance_manager")
    finally:
        page.goto("/settings")
        box = _grant_box(page, "terms.edit", "finance_manager")
        box.click()
        expect(box).to_be_checked()
    finance.context.close()

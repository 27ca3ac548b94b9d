"""A vendor makes an embed code in its portal; the framed page shows its own payout status to
anyone holding the link, without signing in."""
import re

import pytest
from playwright.sync_api import expect

from tests.helpers import sign_in
from vrm_dashboard.demo.seeder import DEMO_LOGINS

pytestmark = pytest.mark.browser
VENDOR = next(login for login in DEMO_LOGINS if login.role == "vendor")


def test_a_vendor_embeds_its_payout_status(page, browser, app_url):
    sign_in(page, VENDOR.email, VENDOR.password)
    expect(page.get_by_test_id("portal-vendor")).to_be_visible()
    name = page.get_by_test_id("portal-vendor").inner_text()
    page.get_by_test_id("portal-widget").click()
    code = page.get_by_test_id("portal-widget-code")
    expect(code).to_contain_text("<iframe")
    url = re.search(r'src="([^"]+)"', code.inner_text()).group(1)
    partner = browser.new_context().new_page()  # a partner site's visitor: no session at all
    # The partner's page is served here from the app's host: Chromium keeps a page from the
    # public internet from framing 127.0.0.1 (private network access), which a real partner
    # framing a public VRM_PUBLIC_URL does not meet.
    partner.route(f"{app_url}/partner-page", lambda route: route.fulfill(
        content_type="text/html", body=f'<iframe id="w" src="{url}" width="360" height="300"></iframe>'))
    partner.goto(f"{app_url}/partner-page")
    frame = partner.frame_locator("#w")
    expect(frame.locator("h1")).to_contain_text(name)
    expect(frame.get_by_test_id("widget-payouts")).to_be_visible()
    partner.context.close()

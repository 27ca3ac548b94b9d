"""The live overview in the browser: two managers watch the figures change by themselves when
the scheduler's settlement pays a payout, without reloading."""
import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from sqlmodel import Session

from tests.helpers import sign_in
from vrm_dashboard.db.models import PaymentTransaction, Payout
from vrm_dashboard.demo.seeder import DEMO_LOGINS
from vrm_dashboard.services.payouts.settlement import settle_paid
from vrm_dashboard.services.platform.actors import Actor

pytestmark = pytest.mark.browser
FINANCE = next(login for login in DEMO_LOGINS if login.role == "finance_manager")
ADMIN = next(login for login in DEMO_LOGINS if login.role == "admin")


def _paid_this_month(page) -> int:  # type: ignore[no-untyped-def]
    return int(page.get_by_test_id("overview-card-paid_month").get_by_test_id("overview-count").inner_text().replace(",", ""))


def test_managers_see_a_payout_paid_by_the_scheduler_without_reloading(page, browser, app_url, app_engine):
    other = browser.new_context(base_url=app_url).new_page()
    for viewer, login in ((page, FINANCE), (other, ADMIN)):
        sign_in(viewer, login.email, login.password)
        expect(viewer.get_by_test_id("user-name")).to_be_visible()
        viewer.goto("/overview")
        expect(viewer.get_by_test_id("overview-card-paid_month")).to_be_visible()
    before = _paid_this_month(page)
    assert _paid_this_month(other) == before
    with Session(app_engine) as session:
        transfer = session.execute(select(PaymentTransaction.id).where(PaymentTransaction.status == "processing")
                                   .order_by(PaymentTransaction.id).limit(1)).scalar_one()
        payouts = len(session.execute(select(Payout.id).where(Payout.transaction_id == transfer)).all())
        # What the payout job does when the bank or provider confirms a transfer.
        settle_paid(session, Actor.system("execute_payouts"), [transfer], confirmation="BROWSER-TEST")
        session.commit()
    for viewer in (page, other):
        expect(viewer.get_by_test_id("overview-card-paid_month").get_by_test_id("overview-count")).to_have_text(
            f"{before + payouts:,}", timeout=5000)
    other.context.close()

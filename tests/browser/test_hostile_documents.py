"""A finance manager opens invoices whose originals came by mail: an e-invoice that carries a
script is shown as text and nothing in it runs; a PDF still shows in its frame; and the app's
own policy (only our scripts) blocks nothing the page needs."""
import itertools

import pytest
from playwright.sync_api import expect
from sqlmodel import Session

from tests.helpers import sign_in
from tests.invoice_corpus import make_invoice
from tests.scripted_einvoice import scripted_cii
from vrm_dashboard.demo.seeder import DEMO_LOGINS
from vrm_dashboard.services.intake import invoice_files
from vrm_dashboard.services.platform.actors import Actor

pytestmark = pytest.mark.browser
FINANCE = next(login for login in DEMO_LOGINS if login.role == "finance_manager")
_numbers = itertools.count(1)


def _mailed(engine, content: bytes, filename: str) -> int:
    """An invoice received as the mailbox receives one; its id."""
    with Session(engine) as session:
        outcome = invoice_files.receive_invoice(session, Actor.system("tests"), content, filename,
                                                channel="mailbox", sender="ap@kestrel.example")
        session.commit()
    assert outcome.invoice_id is not None, outcome.message
    return outcome.invoice_id


def _watch(page) -> tuple[list[str], list[str]]:
    """Dialogs the page opens (each dismissed) and the policy violations its console reports."""
    dialogs: list[str] = []
    violations: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)
    return dialogs, violations


def test_a_script_inside_an_e_invoice_never_runs(page, app_engine):
    number = f"XSS-{next(_numbers)}"
    invoice_id = _mailed(app_engine, scripted_cii(number), f"{number}.xml")
    dialogs, violations = _watch(page)
    sign_in(page, FINANCE.email, FINANCE.password)
    expect(page.get_by_test_id("user-name")).to_be_visible()
    page.goto(f"/invoice?id={invoice_id}")
    expect(page.get_by_test_id("detail-status")).to_be_visible()

    # The XML is there to read, as text.
    original = page.get_by_test_id("original-text")
    expect(original).to_contain_text("rsm:CrossIndustryInvoice")
    expect(original).to_contain_text(number)
    expect(original).to_contain_text("window.__pwned = 1")
    expect(page.get_by_test_id("original-download")).to_be_visible()
    assert page.locator("iframe").count() == 0
    page.wait_for_timeout(1500)  # time for a script to have run, had it been let
    assert page.evaluate("window.__pwned") is None
    assert dialogs == []

    # Opened on its own (a link passed around, the portal's View): plain text, still inert.
    page.goto(f"/api/v1/invoices/{invoice_id}/original")
    expect(page.locator("body")).to_contain_text("window.__pwned = 1")
    page.wait_for_timeout(500)
    assert page.evaluate("window.__pwned") is None
    assert dialogs == []
    assert violations == []  # the app's policy refused nothing the page itself needed


def test_a_pdf_original_still_shows_in_its_frame(page, app_engine):
    invoice_id = _mailed(app_engine, make_invoice(next(_numbers) + 700, "en", "classic").pdf, "invoice.pdf")
    dialogs, violations = _watch(page)
    sign_in(page, FINANCE.email, FINANCE.password)
    expect(page.get_by_test_id("user-name")).to_be_visible()
    page.goto(f"/invoice?id={invoice_id}")
    expect(page.get_by_title("Original document")).to_be_visible()
    # Chromium's PDF viewer loads in the frame (a sandboxed frame would show "blocked" instead).
    for _ in range(40):
        if any(frame.url.startswith("chrome-extension://") for frame in page.frames):
            break
        page.wait_for_timeout(250)
    assert any(frame.url.startswith("chrome-extension://") for frame in page.frames), [f.url for f in page.frames]
    assert dialogs == [] and violations == []


_OPEN_EVENT_SOCKET = """async (url) => await new Promise((resolve) => {
    const socket = new WebSocket(url);
    socket.onmessage = (message) => { socket.close(); resolve("open: " + String(message.data).slice(0, 1)); };
    socket.onerror = () => resolve("refused");
    setTimeout(() => resolve("no answer"), 5000);
})"""


def test_another_sites_page_cannot_open_the_event_socket(page, app_url):
    """The websocket carries every screen's events: only our own pages may open it (Reflex lets
    every origin in by default)."""
    events = app_url.replace("http://", "ws://") + "/_event/?EIO=4&transport=websocket"
    page.goto("/login")
    assert page.evaluate(_OPEN_EVENT_SOCKET, events) == "open: 0"  # Engine.IO's "open" packet
    page.goto("data:text/html,<title>another site</title>")  # a page of no origin of ours
    assert page.evaluate(_OPEN_EVENT_SOCKET, events) == "refused"

"""One built app for every browser test: `reflex run --env prod --single-port` on a free port,
over its own demo database, driven by Playwright in Debian's Chromium."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

from tests.helpers import free_port
from tests.smtp_server import Inbox

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"]
BUILD_TIMEOUT_S = 900


def _wait_for(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + BUILD_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited early:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    raise RuntimeError(f"the app did not answer within {BUILD_TIMEOUT_S}s:\n{log.read_text()[-4000:]}")


@pytest.fixture(scope="session")
def mail_inbox() -> Iterator[Inbox]:
    """The SMTP server (aiosmtpd on 127.0.0.1) the app sends its e-mail to."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    inbox.port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def app_url(tmp_path_factory, mail_inbox) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("app")
    port = free_port()
    bin_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        "PORT": str(port),
        "VRM_DATABASE_URL": f"sqlite:///{workdir / 'vrm.db'}",
        "REFLEX_USE_SYSTEM_BUN": "1",
        # The sandbox payout provider answers at once and always pays, so a test sees "Paid".
        "VRM_SANDBOX_SETTLE_SECONDS": "0", "VRM_SANDBOX_FAILURE_PERCENT": "0", "VRM_SANDBOX_TIMEOUT_PERCENT": "0",
        "VRM_SMTP_HOST": "127.0.0.1", "VRM_SMTP_PORT": str(mail_inbox.port), "VRM_SMTP_TLS": "false",
        "VRM_SMTP_RATE": "0", "VRM_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "PATH": f"{ROOT / '.tools/node_modules/.bin'}:{bin_dir}:{os.environ.get('PATH', '')}",
    }
    os.environ["VRM_BROWSER_DB_URL"] = env["VRM_DATABASE_URL"]
    subprocess.run([str(bin_dir / "vrm"), "bootstrap", "--vendors", "40", "--invoices", "400"],
                   cwd=ROOT, env=env, check=True, capture_output=True)
    log = workdir / "app.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [str(bin_dir / "reflex"), "run", "--env", "prod", "--single-port",
             "--frontend-port", str(port), "--backend-port", str(port)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        _wait_for(f"http://127.0.0.1:{port}/login", process, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, app_url):
    context = browser.new_context(base_url=app_url, viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(20_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def app_engine(app_url):
    """The app's own database, for arranging exactly the invoices a test needs."""
    from vrm_dashboard.db.engine import make_engine

    engine = make_engine(os.environ["VRM_BROWSER_DB_URL"])
    yield engine
    engine.dispose()

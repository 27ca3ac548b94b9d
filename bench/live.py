"""The live overview with many managers watching.

Builds and starts the app (`reflex run --env prod --single-port`) over a demo database,
opens N signed-in overview pages in Chromium, then commits a change from outside the app
(a transfer confirmed paid, as the payout job does) and measures, per page, the time from
the commit to the new figure in the page (a MutationObserver in each page stamps the
moment). Also prints the backend's memory before and after the pages opened, how many
times the figures were computed (one per change, however many pages), and how soon the
pages' listeners end once the browser is gone."""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bench.common import OUT, metric

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
WATCH = """(() => {
  const card = document.querySelector('[data-testid="overview-card-paid_month"] [data-testid="overview-count"]');
  window.__before = card.textContent; window.__changedAt = null;
  new MutationObserver(() => { if (card.textContent !== window.__before && !window.__changedAt)
      window.__changedAt = Date.now(); }).observe(card, {childList: true, characterData: true, subtree: true});
})()"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss_mib(root_pid: int) -> float:
    """Resident memory of the app's Python processes (the backend), in MiB."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getpgid(int(entry.name)) != root_pid:
                continue
            if "python" not in (entry / "comm").read_text() and "reflex" not in (entry / "cmdline").read_text():
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except (OSError, ProcessLookupError):
            continue
    return total / 1024


def _live(port: int, token: str) -> dict:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/overview",
                                     headers={"Cookie": f"vrm_session={token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["live"]


def _start_app(database_url: str, port: int, log: Path) -> subprocess.Popen:
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PORT": str(port), "VRM_DATABASE_URL": database_url, "REFLEX_USE_SYSTEM_BUN": "1",
           "PATH": f"{ROOT / '.tools/node_modules/.bin'}:{bin_dir}:{os.environ.get('PATH', '')}"}
    subprocess.run([str(bin_dir / "vrm"), "bootstrap", "--vendors", "200", "--invoices", "5000"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    out = open(log, "w")
    process = subprocess.Popen([str(bin_dir / "reflex"), "run", "--env", "prod", "--single-port",
                                "--frontend-port", str(port), "--backend-port", str(port)],
                               cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(log.read_text()[-3000:])
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2):
                return process
        except OSError:
            time.sleep(1)
    raise RuntimeError("the app did not start")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench live", description=__doc__)
    parser.add_argument("--sessions", type=int, default=50)
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright
    from sqlalchemy import select
    from sqlmodel import Session

    from vrm_dashboard.db.engine import make_engine
    from vrm_dashboard.db.models import PaymentTransaction
    from vrm_dashboard.demo.seeder import DEMO_LOGINS
    from vrm_dashboard.services.identity import auth
    from vrm_dashboard.services.payouts.settlement import settle_paid
    from vrm_dashboard.services.platform.actors import Actor

    OUT.mkdir(exist_ok=True)
    db_path = OUT / "live.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    url, port = f"sqlite:///{db_path}", _free_port()
    app = _start_app(url, port, OUT / "live-app.log")
    engine = make_engine(url)
    finance = next(login for login in DEMO_LOGINS if login.role == "finance_manager")
    try:
        metric("backend_rss_idle_mib", _rss_mib(app.pid), "MiB")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                                        args=CHROMIUM_ARGS)
            pages = []
            started = time.perf_counter()
            for _ in range(args.sessions):
                with Session(engine) as session:
                    token = auth.sign_in(session, finance.email, finance.password).token
                    session.commit()
                context = browser.new_context(base_url=f"http://127.0.0.1:{port}")
                context.add_cookies([{"name": "vrm_session", "value": token, "url": f"http://127.0.0.1:{port}"}])
                page = context.new_page()
                page.goto("/overview")
                page.get_by_test_id("overview-card-paid_month").wait_for(timeout=60_000)
                pages.append(page)
            metric("sessions", len(pages), "open overview pages")
            metric("open_seconds", time.perf_counter() - started, "s")
            time.sleep(3)
            metric("backend_rss_with_sessions_mib", _rss_mib(app.pid), "MiB")
            latencies = []
            for round_ in range(3):
                for page in pages:
                    page.evaluate(WATCH)
                with Session(engine) as session:
                    transfer = session.execute(select(PaymentTransaction.id).where(
                        PaymentTransaction.status == "processing").order_by(PaymentTransaction.id)
                        .offset(round_).limit(1)).scalar_one()
                    committed_ms = time.time() * 1000
                    settle_paid(session, Actor.system("execute_payouts"), [transfer], confirmation=f"BENCH-{round_}")
                    session.commit()
                    committed_ms = (committed_ms + time.time() * 1000) / 2
                for page in pages:
                    page.wait_for_function("window.__changedAt !== null", timeout=30_000)
                latencies += [page.evaluate("window.__changedAt") - committed_ms for page in pages]
            metric("change_to_screen_median_ms", statistics.median(latencies), "ms")
            metric("change_to_screen_p95_ms", sorted(latencies)[int(len(latencies) * 0.95) - 1], "ms")
            metric("change_to_screen_max_ms", max(latencies), "ms (target < 2000)")
            metric("backend_rss_after_changes_mib", _rss_mib(app.pid), "MiB")
            live = _live(port, token)
            metric("listeners_open", live["listeners"], "listening pages")
            metric("computations", live["computations"], "figure computations (one per committed change, the sign-ins included; not one per page)")
            browser.close()
            closed = time.perf_counter()
            while _live(port, token)["listeners"] and time.perf_counter() - closed < 30:
                time.sleep(0.5)
            metric("listeners_after_close", _live(port, token)["listeners"], "listening pages")
            metric("listeners_stop_seconds", time.perf_counter() - closed, "s")
    finally:
        os.killpg(app.pid, signal.SIGTERM)
        try:
            app.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(app.pid, signal.SIGKILL)
    return 0

"""Exactly once under kill -9: the payout run is killed at many random points (its own
crash points, and at random moments from outside), restarted, sometimes beside a second
run, until everything is paid; then nothing may have been paid twice.

What was paid is read from where money leaves: the sandbox provider's own ledger and the
payment files in the bank outbox, not from our database.
"""
from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import Session, select

from tests.helpers import DUE_DAY, use_database
from tests.payout_book import approved_book, references_in_payment_files, use_payout_environment
from vrm_dashboard.config import PROJECT_ROOT
from vrm_dashboard.db.models import PaymentTransaction, Payout
from vrm_dashboard.rails.sandbox_provider import SandboxProvider

PAY_DAY = DUE_DAY.isoformat()
MIN_KILLS = 50
# Roughly how many crash points a run passes on this book; drawing a little beyond it
# lets some runs finish.
CRASH_POINTS = 18


class Runner:
    """The forking run starter (tests/payout_crash_runner.py), one for the whole test."""

    def __init__(self, env: dict) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "tests.payout_crash_runner"], cwd=PROJECT_ROOT,
                                        env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def _ask(self, line: str) -> int:
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        return int(self.process.stdout.readline())

    def start(self, crash_at: int | None, root: Path) -> int:
        return self._ask(f"start {crash_at or '-'} {root}")

    def wait(self, pid: int) -> int:
        return self._ask(f"wait {pid}")

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


def _settled(url: str) -> bool:
    engine = create_engine(url)
    with engine.connect() as conn:
        waiting = conn.execute(text(
            "SELECT COUNT(*) FROM payout WHERE status IN ('awaiting_payout', 'payout_approval')")).scalar()
        open_ = conn.execute(text(
            "SELECT COUNT(*) FROM payment_transaction WHERE status = 'new' OR "
            "(status = 'processing' AND (submitted_at IS NULL OR rail = 'provider'))")).scalar()
        undelivered = conn.execute(text("SELECT COUNT(*) FROM payment_file WHERE delivered_at IS NULL")).scalar()
        # Time passes between runs: retries that were waiting for their backoff are due.
        conn.execute(text("UPDATE payment_transaction SET next_attempt_at = NULL"))
        conn.commit()
    engine.dispose()
    return waiting == 0 and open_ == 0 and undelivered == 0


def _check_paid_exactly_once(url: str, root: Path) -> dict:
    engine = create_engine(url)
    with Session(engine) as session:
        transactions = {t.id: t for t in session.exec(select(PaymentTransaction)).all()}
        payouts = session.exec(select(Payout)).all()
    engine.dispose()
    by_key = {t.idempotency_key: t for t in transactions.values()}
    ledger = SandboxProvider(root / "provider.db").payments()
    # Every payment the provider made belongs to exactly one of our transactions, for its amount.
    for payment in ledger:
        assert payment.idempotency_key in by_key, f"provider paid an unknown key {payment.idempotency_key}"
        assert payment.amount_minor == by_key[payment.idempotency_key].target_amount_minor
    file_refs = references_in_payment_files(root / "outbox")
    assert len(file_refs) == len(set(file_refs)), "a transfer appears in two payment files"
    paid_by_transaction: dict[int, int] = {}
    for payment in ledger:
        paid_by_transaction[by_key[payment.idempotency_key].id] = 1
    ref_to_id = {t.reference: t.id for t in transactions.values()}
    for ref in file_refs:
        paid_by_transaction[ref_to_id[ref]] = paid_by_transaction.get(ref_to_id[ref], 0) + 1
    outcomes = {"paid": 0, "failed": 0, "in_review": 0, "processing": 0}
    for payout in payouts:
        assert payout.status in outcomes, f"payout {payout.id} left in {payout.status}"
        outcomes[payout.status] += 1
        sent = paid_by_transaction.get(payout.transaction_id, 0)
        assert sent <= 1, f"payout {payout.id} was sent {sent} times"
        transaction = transactions[payout.transaction_id]
        if transaction.rail in ("sepa", "ach"):
            assert sent == 1, f"payout {payout.id} is in no payment file"
        if payout.status == "paid":
            assert sent == 1 or transaction.rail == "manual"
    for t in transactions.values():
        covered = sum(p.amount_minor for p in payouts if p.transaction_id == t.id)
        assert covered == t.source_amount_minor, f"transaction {t.id} lost or gained payouts"
    return outcomes


def test_kill_9_at_random_points_never_pays_twice(monkeypatch, sqlite_template, tmp_path):
    from vrm_dashboard.services.identity.access_control import install_catalogue

    start = tmp_path / "start.db"
    shutil.copy(sqlite_template, start)
    engine = use_database(f"sqlite:///{start}")
    use_payout_environment(monkeypatch, tmp_path / "unused")
    with Session(engine) as session:
        install_catalogue(session)
        session.commit()
        approved_book(session, per_vendor=3)
    engine.dispose()

    rng = random.Random(20261122)
    kills = outside_kills = scenarios = 0
    crash_log = tmp_path / "crash-points.log"
    runner = Runner({**os.environ, "VRM_CRASH_LOG": str(crash_log), "VRM_PAYOUT_CLAIM_LEASE_SECONDS": "0",
                     "VRM_SANDBOX_SETTLE_SECONDS": "0", "VRM_SANDBOX_FAILURE_PERCENT": "10",
                     "VRM_SANDBOX_TIMEOUT_PERCENT": "20"})
    try:
        while kills < MIN_KILLS:
            scenarios += 1
            root = tmp_path / f"scenario-{scenarios}"
            root.mkdir()
            shutil.copy(start, root / "vrm.db")
            url = f"sqlite:///{root / 'vrm.db'}"
            for _round in range(60):
                # A scenario's first run dies at each of the first points in turn, so every step
                # of a fresh run is covered; later runs die at random points or from outside.
                from_outside = _round > 0 and rng.random() < 0.25
                if _round == 0:
                    crash_at = (scenarios - 1) % CRASH_POINTS + 1
                else:
                    crash_at = None if from_outside else rng.randint(1, 8)
                pids = [runner.start(crash_at, root)]
                if rng.random() < 0.25:
                    pids.append(runner.start(None, root))  # a second scheduler at the same time
                if from_outside:
                    time.sleep(rng.uniform(0.0, 0.4))
                    try:
                        os.kill(pids[0], signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                codes = [runner.wait(pid) for pid in pids]
                assert all(code in (0, -9) for code in codes), codes
                killed = codes[0] == -9
                kills += killed
                outside_kills += killed and from_outside
                if not killed and all(c == 0 for c in codes) and _settled(url):
                    break
            else:
                pytest.fail(f"scenario {scenarios} did not settle")
            _check_paid_exactly_once(url, root)
    finally:
        runner.close()
    points = set(crash_log.read_text().split()) if crash_log.exists() else set()
    print(f"{kills} kills ({outside_kills} from outside) over {scenarios} scenarios at points {sorted(points)}")
    assert kills >= MIN_KILLS
    assert {"batched", "provider_claimed", "provider_called", "file_written"} <= points

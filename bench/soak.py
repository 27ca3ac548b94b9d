"""The money path's model-based test (tests/money_model.py) for many more examples than
`make test` runs: random sequences of invoice, payout, provider, statement and vendor steps on
a scratch SQLite database, with every invariant checked after every step. Prints how many
examples and steps were checked and how long it took; a broken invariant stops it with the
shrunk sequence of steps that breaks it."""
from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from bench.common import fresh_sqlite, metric


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench soak")
    parser.add_argument("--examples", type=int, default=300, help="random sequences to run (default 300)")
    parser.add_argument("--steps", type=int, default=40, help="at most this many steps each (default 40)")
    args = parser.parse_args(argv)

    scratch = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    os.environ.setdefault("VRM_SECRET_KEY", "bench-secret-key-that-is-long-enough-0123456789")
    # The payout run's outbox and lease as the tests set them (tests/payout_book.py); the
    # provider's ledger is each example's own.
    os.environ.update({"VRM_PAYMENT_OUTBOX": str(scratch / "outbox"), "VRM_PAYOUT_CLAIM_LEASE_SECONDS": "0",
                       "VRM_SANDBOX_PROVIDER_DB": str(scratch / "provider.db")})
    _url, template = fresh_sqlite("soak-template")
    from hypothesis import HealthCheck, settings
    from hypothesis.stateful import run_state_machine_as_test

    from tests.money_model import bound, sqlite_reset
    from vrm_dashboard.db.engine import engine

    engine().dispose()
    machine = bound(sqlite_reset(f"sqlite:///{scratch / 'soak.db'}", template), scratch / "examples")
    run = settings(max_examples=args.examples, stateful_step_count=args.steps, deadline=None, database=None,
                   suppress_health_check=list(HealthCheck))
    started = time.perf_counter()
    try:
        run_state_machine_as_test(machine, settings=run)
    finally:
        elapsed = time.perf_counter() - started
        metric("soak_examples", machine.examples, "examples")
        metric("soak_steps_checked", machine.steps, "steps")
        metric("soak_elapsed", elapsed, "s")
        metric("soak_steps_per_second", machine.steps / elapsed if elapsed else 0.0, "steps/s")
        shutil.rmtree(scratch, ignore_errors=True)
    return 0

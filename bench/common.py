"""Helpers the benchmarks share: a scratch database and metric lines."""
from __future__ import annotations

import os
import statistics
import time
from pathlib import Path
from typing import Callable

OUT = Path(__file__).resolve().parent / "out"


def metric(name: str, value: float, unit: str) -> None:
    print(f"{name}={value:.3f} {unit}" if isinstance(value, float) else f"{name}={value} {unit}", flush=True)


def fresh_sqlite(name: str) -> tuple[str, Path]:
    """A new migrated SQLite database under bench/out, and point the process at it."""
    from vrm_dashboard import config
    from vrm_dashboard.db import engine as engine_module, migrations

    OUT.mkdir(exist_ok=True)
    path = OUT / f"{name}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    os.environ["VRM_DATABASE_URL"] = url
    config.settings.cache_clear()
    engine_module.engine.cache_clear()
    migrations.upgrade(url)
    return url, path


def median_ms(fn: Callable[[], None], runs: int) -> float:
    """Median wall time of `fn` in milliseconds, after one warm-up call (as a page reloaded)."""
    fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)

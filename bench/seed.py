"""Seeding speed: 10,000 vendors and 1,000,000 invoices (with lines, payouts, transactions).

Floor: the same rows written by a raw sqlite3 executemany into a fresh migrated database
whose secondary indexes are dropped and not rebuilt, with no generation and no SQLAlchemy:
what SQLite costs to take the rows at all.
"""
from __future__ import annotations

import argparse
import sqlite3
import time

from bench.common import OUT, fresh_sqlite, metric


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench seed")
    parser.add_argument("--vendors", type=int, default=10_000)
    parser.add_argument("--invoices", type=int, default=1_000_000)
    args = parser.parse_args(argv)

    from vrm_dashboard.db import bulk
    from vrm_dashboard.db.engine import engine
    from vrm_dashboard.demo import seeder as demo_data

    # Keep a reference to every batch written, to replay the identical rows for the floor.
    captured: list[tuple[str, list[str], list[tuple]]] = []
    original = bulk.insert_rows

    def recording(conn, table, columns, rows, batch=50_000, convert=True):  # type: ignore[no-untyped-def]
        rows = list(rows)
        captured.append((table, list(columns), rows if not convert else [
            tuple(bulk._sqlite_value(v) for v in row) for row in rows]))
        return original(conn, table, columns, rows, batch=batch, convert=convert)

    demo_data.insert_rows = recording  # type: ignore[assignment]
    fresh_sqlite("seed")
    started = time.perf_counter()
    report = demo_data.seed(engine(), vendors=args.vendors, invoices=args.invoices, seed=1)
    seconds = time.perf_counter() - started
    # Rows the seed derives in SQL are read back so the floor writes every row the seed wrote.
    with engine().connect() as conn:
        for table in ("invoice_line", "payout", "payment_transaction", "invoice_rollup", "invoice_flag"):
            result = conn.exec_driver_sql(f'SELECT * FROM "{table}"')
            captured.append((table, list(result.keys()), [tuple(r) for r in result]))
    engine().dispose()
    demo_data.insert_rows = original  # type: ignore[assignment]

    _url, floor_path = fresh_sqlite("seed_floor")
    conn = sqlite3.connect(floor_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(f"PRAGMA cache_size=-{bulk.BULK_CACHE_KIB}")
    conn.execute("PRAGMA foreign_keys=OFF")
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL").fetchall():
        conn.execute(f'DROP INDEX "{name}"')
    floor_started = time.perf_counter()
    conn.execute("BEGIN")
    for table, columns, rows in captured:
        marks = ", ".join("?" * len(columns))
        conn.executemany(f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({marks})', rows)
    conn.execute("COMMIT")
    floor = time.perf_counter() - floor_started
    conn.close()

    rows = report.vendors + report.invoices + report.invoice_lines + report.payouts + report.transactions
    metric("seed_vendors", report.vendors, "rows")
    metric("seed_invoices", report.invoices, "rows")
    metric("seed_rows_total", rows, "rows")
    metric("seed_seconds", seconds, "s")
    metric("seed_rows_per_second", rows / seconds, "rows/s")
    metric("floor_raw_executemany_seconds", floor, "s")
    metric("seed_to_floor_ratio", seconds / floor, "x")
    print(f"# database kept at {OUT / 'seed.db'} for `python -m bench vendors`")
    return 0

"""Pending Invoices at 1,000,000 invoices (the database `python -m bench seed` leaves):

- the first page with its totals, against a raw indexed query for the same page;
- bulk approval of every pending invoice through the service (about 120,000: the figure is
  also given per 100,000), against one raw UPDATE of the same rows' status;
- an Excel export of 100,000 rows, against openpyxl writing the same values with no
  database and no formats; with the export's peak memory growth.
"""
from __future__ import annotations

import argparse
import io
import os
import shutil
import sqlite3
import time

from bench.common import OUT, median_ms, metric


def _copy(name: str):  # type: ignore[no-untyped-def]
    source = OUT / "seed.db"
    if not source.exists():
        from bench import seed as seed_bench

        seed_bench.main([])
    target = OUT / f"{name}.db"
    with sqlite3.connect(source) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for suffix in ("-wal", "-shm"):
        (OUT / f"{name}.db{suffix}").unlink(missing_ok=True)
    shutil.copyfile(source, target)
    return target


def _peak_rss_kib() -> int:
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def _reset_peak_rss() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        pass


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench approvals")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--export-rows", type=int, default=100_000)
    parser.add_argument("--pages-only", action="store_true", help="the page and search figures, no approval or export")
    args = parser.parse_args(argv)
    path = _copy("approvals")
    from vrm_dashboard.db import migrations

    migrations.upgrade(f"sqlite:///{path}")  # a seed.db left by an older release

    from vrm_dashboard import config
    from vrm_dashboard.db import engine as engine_module

    os.environ["VRM_DATABASE_URL"] = f"sqlite:///{path}"
    config.settings.cache_clear()
    engine_module.engine.cache_clear()

    from sqlmodel import Session

    from vrm_dashboard.services.identity.users import find_by_email
    from vrm_dashboard.services.invoices import (
        approvals,
        export as invoice_export,
        queries as invoice_queries,
    )
    from vrm_dashboard.services.platform.actors import act_as, load_actor

    engine = engine_module.engine()
    with Session(engine) as session:
        approver = load_actor(session, find_by_email(session, "approver@vrm.example").id)
    assert approver is not None

    # Each page is read as the app reads it: the session scoped to the approver's organization.
    def first_page() -> None:
        with Session(engine) as session:
            page = invoice_queries.list_invoices(session, act_as(session, approver), invoice_queries.InvoiceQuery())
            assert page.rows and page.totals

    raw = sqlite3.connect(path)

    def page_floor() -> None:
        raw.execute("SELECT id, number, total_minor, currency, issue_date, status FROM invoice "
                    "ORDER BY issue_date DESC, id DESC LIMIT 25").fetchall()

    page_ms, floor_ms = median_ms(first_page, args.runs), median_ms(page_floor, args.runs)
    metric("first_page_with_totals_ms", page_ms, "ms")
    metric("floor_raw_indexed_page_ms", floor_ms, "ms")
    metric("first_page_to_floor_ratio", page_ms / floor_ms, "x")
    number, vendor_name = raw.execute("SELECT invoice.number, vendor.name FROM invoice JOIN vendor "
                                      "ON vendor.id = invoice.vendor_id LIMIT 1 OFFSET 5000").fetchone()
    raw.close()
    for label, term in (("number", number), ("number_prefix", number[:-1]), ("vendor_name", vendor_name.split()[0])):
        def search(term: str = term) -> None:
            with Session(engine) as session:
                invoice_queries.list_invoices(session, act_as(session, approver), invoice_queries.InvoiceQuery(search=term))
        metric(f"search_{label}_ms", median_ms(search, max(3, args.runs // 3)), "ms")
    if args.pages_only:
        return 0

    # Bulk approval of every pending invoice, through the service with all its controls.
    with Session(engine) as session:
        started = time.perf_counter()
        outcome = approvals.approve(session, approver, approvals.Selection(
            query=invoice_queries.InvoiceQuery(statuses=["pending"])))
        session.commit()
        approve_s = time.perf_counter() - started
    handled = outcome.moved + outcome.awaiting_second_approval
    floor_path = _copy("approvals_floor")
    floor = sqlite3.connect(floor_path, isolation_level=None)
    # The same page cache and in-memory sorting the app's connections have.
    floor.execute(f"PRAGMA cache_size=-{engine_module.SQLITE_CACHE_KIB}")
    floor.execute("PRAGMA temp_store=MEMORY")
    started = time.perf_counter()
    floor.execute("BEGIN")
    floor.execute("UPDATE invoice SET status = 'approved' WHERE status = 'pending'")
    floor.execute("COMMIT")
    approve_floor_s = time.perf_counter() - started
    floor.close()
    metric("bulk_approve_invoices", handled, "rows")
    metric("bulk_approve_moved_to_approved", outcome.moved, "rows")
    metric("bulk_approve_refused", outcome.refused_count, "rows")
    metric("bulk_approve_seconds", approve_s, "s")
    metric("bulk_approve_per_100k_seconds", approve_s * 100_000 / max(handled, 1), "s")
    metric("floor_raw_update_seconds", approve_floor_s, "s")
    metric("bulk_approve_to_floor_ratio", approve_s / approve_floor_s, "x")

    # Excel export of the first 100,000 rows of the default view.
    view = invoice_queries.InvoiceQuery()
    _reset_peak_rss()
    before = _peak_rss_kib()
    with Session(engine) as session:
        out = io.BytesIO()
        started = time.perf_counter()
        rows = invoice_export.export_invoices(session, approver, view, "xlsx", out, limit=args.export_rows)
        export_s = time.perf_counter() - started
    peak_growth_mib = (_peak_rss_kib() - before) / 1024
    with Session(engine) as session:
        values = [(r.number, r.kind, r.vendor_name, r.vendor_code, r.amount, r.currency, r.issue_date,
                   r.due_date, r.status, r.submitted_by, r.approvers, r.flags)
                  for r in invoice_export._rows(session, view, args.export_rows)]
    from openpyxl import Workbook

    started = time.perf_counter()
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    for value in values:
        sheet.append(value)
    book.save(io.BytesIO())
    export_floor_s = time.perf_counter() - started
    metric("export_rows", rows, "rows")
    metric("export_xlsx_seconds", export_s, "s")
    metric("export_xlsx_bytes", len(out.getvalue()), "bytes")
    metric("export_peak_memory_growth_mib", peak_growth_mib, "MiB")
    metric("floor_openpyxl_plain_write_seconds", export_floor_s, "s")
    metric("export_to_floor_ratio", export_s / export_floor_s, "x")
    return 0

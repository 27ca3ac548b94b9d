"""The vendor list's first page with its totals and upcoming payouts, at 10,000 vendors and
1,000,000 invoices (the database `python -m bench seed` leaves; seeded here if missing).

Floor: a raw indexed query for the same first page through sqlite3.
"""
from __future__ import annotations

import argparse
import os
import sqlite3

from bench.common import OUT, median_ms, metric


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench vendors")
    parser.add_argument("--runs", type=int, default=25)
    args = parser.parse_args(argv)
    path = OUT / "seed.db"
    if not path.exists():
        from bench import seed as seed_bench

        seed_bench.main([])
    from vrm_dashboard import config
    from vrm_dashboard.db import migrations

    migrations.upgrade(f"sqlite:///{path}")  # a seed.db left by an older release
    from vrm_dashboard.db import engine as engine_module

    os.environ["VRM_DATABASE_URL"] = f"sqlite:///{path}"
    config.settings.cache_clear()
    engine_module.engine.cache_clear()

    from sqlmodel import Session, func, select

    from vrm_dashboard.db.models import Invoice, Vendor
    from vrm_dashboard.services.identity.users import find_by_email
    from vrm_dashboard.services.platform.actors import act_as, load_actor
    from vrm_dashboard.services.vendors.records import VendorQuery, list_vendors

    engine = engine_module.engine()
    with Session(engine) as session:
        # Read as the app reads it: a finance manager, the session scoped to their organization.
        finance = find_by_email(session, "finance@vrm.example")
        actor = load_actor(session, finance.id) if finance is not None else None
    assert actor is not None
    with Session(engine) as session:
        vendors = session.exec(select(func.count()).select_from(Vendor)).one()
        invoices = session.exec(select(func.count()).select_from(Invoice)).one()

    def first_page(query: VendorQuery):  # type: ignore[no-untyped-def]
        def run():  # type: ignore[no-untyped-def]
            with Session(engine) as session:
                page = list_vendors(session, act_as(session, actor), query)
                assert page.rows and page.totals
        return run

    raw = sqlite3.connect(path)

    def floor() -> None:
        raw.execute("SELECT id, vendor_code, name, country, currency, payment_method, payment_source, "
                    "activity_status FROM vendor ORDER BY name, id LIMIT 25").fetchall()

    metric("vendors", vendors, "rows")
    metric("invoices", invoices, "rows")
    page_ms = median_ms(first_page(VendorQuery()), args.runs)
    search_ms = median_ms(first_page(VendorQuery(search="media", payment_method="sepa")), args.runs)
    floor_ms = median_ms(floor, args.runs)
    metric("first_page_with_totals_ms", page_ms, "ms")
    metric("filtered_search_page_with_totals_ms", search_ms, "ms")
    metric("floor_raw_indexed_query_ms", floor_ms, "ms")
    metric("first_page_to_floor_ratio", page_ms / floor_ms, "x")
    return 0

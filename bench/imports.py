"""Activity to invoices at scale: 1,000,000 activity rows for 10,000 vendors, from one CSV to
self-generated invoices, through the service (all checks, dedupe keys, billing, audit).

Floor: pandas reading the same CSV plus a raw executemany of the same rows into the same
table, with nothing checked, keyed or billed.
"""
from __future__ import annotations

import argparse
import random
import time

from bench.common import OUT, fresh_sqlite, metric

TYPES = ("clicks", "sales", "leads")


def _csv(rows: int, vendors: int) -> bytes:
    rng = random.Random(7)
    lines = ["vendor,activity_type,date,quantity,revenue,currency"]
    for _ in range(rows):
        kind = rng.choice(TYPES)
        revenue = f"{rng.randint(100, 100000) / 100:.2f}" if kind == "sales" else ""
        lines.append(f"BV{rng.randrange(vendors):05d},{kind},2026-10-{rng.randint(1, 28):02d},"
                     f"{rng.randint(1, 500)},{revenue},EUR")
    return ("\n".join(lines) + "\n").encode()


def _vendors(engine, vendors: int) -> None:  # type: ignore[no-untyped-def]
    from sqlmodel import Session

    from vrm_dashboard.db import tenancy
    from vrm_dashboard.db.bulk import bulk_load, insert_rows
    from vrm_dashboard.db.models import utcnow

    now = utcnow()
    with Session(engine) as session:  # the paying organization (the installation's own)
        payer = tenancy.root_organization_id(session)
        session.commit()
    with bulk_load(engine) as conn:
        insert_rows(conn, "vendor", ["id", "vendor_code", "name", "legal_name", "email", "country", "currency",
                                     "payment_method", "payment_source", "activity_status", "owner_id", "created_at",
                                     "updated_at"],
                    ((i + 1, f"BV{i:05d}", f"Bench Vendor {i}", f"Bench Vendor {i} GmbH", f"ap{i}@bench.example", "DE",
                      "EUR", "sepa", "bank", "active", payer, now, now) for i in range(vendors)))
        insert_rows(conn, "rate_card", ["vendor_id", "currency", "flat_fee_minor", "minimum_payout_minor", "updated_at"],
                    ((i + 1, "EUR", 0, 5000, now) for i in range(vendors)))
        insert_rows(conn, "rate_rule", ["vendor_id", "activity_type", "per_unit_rate", "revenue_share_percent"],
                    ((i + 1, kind, "0.012" if kind != "sales" else None, "7.5" if kind == "sales" else None)
                     for i in range(vendors) for kind in TYPES))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench import")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--vendors", type=int, default=10_000)
    args = parser.parse_args(argv)
    content = _csv(args.rows, args.vendors)
    (OUT / "activity.csv").write_bytes(content)

    url, _path = fresh_sqlite("import")
    from vrm_dashboard.db import engine as engine_module
    from vrm_dashboard.db.engine import session_scope
    from vrm_dashboard.services.intake.activity_import import import_activity_file
    from vrm_dashboard.services.platform.actors import Actor, act_as

    engine = engine_module.engine()
    _vendors(engine, args.vendors)
    started = time.perf_counter()
    with session_scope() as session:  # a unit of work starts scoped to nobody: the bench acts as the system
        result = import_activity_file(session, act_as(session, Actor.system("bench")), content, "activity.csv")
    seconds = time.perf_counter() - started
    assert not result.refused, result.message
    metric("import_rows", result.rows_new, "rows")
    metric("import_invoices", len(result.invoices), "invoices")
    metric("import_seconds", seconds, "s")

    again = time.perf_counter()
    with session_scope() as session:
        repeat = import_activity_file(session, act_as(session, Actor.system("bench")), content, "activity-again.csv")
    metric("reimport_same_file_seconds", time.perf_counter() - again, "s")
    metric("reimport_new_rows", repeat.rows_new, "rows")
    floor = _floor(content, args.vendors)
    metric("floor_pandas_read_plus_raw_insert_seconds", floor, "s")
    metric("ratio_to_floor", seconds / floor, "x")
    return 0


def _floor(content: bytes, vendors: int) -> float:
    """pandas read of the same bytes, then a raw executemany of the same rows into a fresh,
    identically migrated table: no checks, no keys computed, no billing."""
    import io

    import pandas as pd

    fresh_sqlite("import_floor")
    from vrm_dashboard.db import engine as engine_module
    from vrm_dashboard.db.bulk import bulk_load, insert_rows

    engine = engine_module.engine()
    _vendors(engine, vendors)
    started = time.perf_counter()
    frame = pd.read_csv(io.BytesIO(content), dtype=str, keep_default_na=False)
    with bulk_load(engine) as conn:
        # The floor's own rows belong to the installation's organization (1), as _vendors' do.
        insert_rows(conn, "activity_source", ["id", "name", "kind", "column_mapping", "config", "enabled",
                                              "owner_id", "created_at", "updated_at"],
                    [(1, "floor", "upload", "{}", "{}", 1, 1, "2026-01-01 00:00:00", "2026-01-01 00:00:00")])
        insert_rows(conn, "intake", ["id", "channel", "kind", "filename", "sha256", "size_bytes", "status",
                                     "rows_total", "rows_new", "owner_id", "created_at"],
                    [(1, "upload", "activity", "floor.csv", "", 0, "accepted", 0, 0, 1, "2026-01-01 00:00:00")])
        rows = zip(range(len(frame)), frame["vendor"].str[2:].astype(int) + 1, frame["activity_type"], frame["date"],
                   frame["date"].str[:7], frame["quantity"], frame["revenue"], frame["currency"])
        insert_rows(conn, "activity_record", ["source_id", "row_key", "intake_id", "vendor_id", "activity_type",
                                              "occurred_on", "period", "quantity", "revenue_minor", "currency"],
                    ((1, str(i), 1, v, t, d, p, q, r or 0, c) for i, v, t, d, p, q, r, c in rows), convert=False)
    return time.perf_counter() - started

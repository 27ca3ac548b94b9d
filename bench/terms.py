"""Payment terms and collection at scale.

1. A bulk terms update of 10,000 organizations (one distributor's customers and sellers),
   with its history rows and audit entries (target: under 2 s).
2. A collection run over 100,000 due customer invoices through the sandbox collector:
   claimed, charged, settled and audited (target: under 60 s).
"""
from __future__ import annotations

import argparse
import time
from datetime import date, timedelta

from bench.common import fresh_sqlite, metric


def _seed(engine, organizations: int, invoices: int, today: date) -> None:  # type: ignore[no-untyped-def]
    from vrm_dashboard.db.bulk import bulk_load, insert_rows
    from vrm_dashboard.db.models import utcnow

    now = utcnow()
    methods = ("credit_card", "ach", "credit_card", None)
    with bulk_load(engine) as conn:
        insert_rows(conn, "organization", ["id", "name", "tier", "parent_id", "erp_id", "country", "is_active",
                                           "billing_email", "collection_method", "created_at", "updated_at"],
                    [(1, "Bench Distribution", "distributor", None, "B-1", "DE", True, "ap@bench.example", None, now, now)]
                    + [(i + 2, f"Customer {i}", "direct_customer" if i % 4 else "seller", 1, f"B-{i + 2}", "DE", True,
                        f"ap{i}@bench.example", methods[i % 4], now, now) for i in range(organizations)])
        due = today - timedelta(days=5)
        # Every customer sits below the distributor (1), which issues their invoices (their owner).
        insert_rows(conn, "invoice", ["id", "number", "kind", "organization_id", "owner_id", "currency",
                                      "subtotal_minor", "tax_minor", "total_minor", "issue_date", "posting_date",
                                      "due_date", "payment_terms_days", "payment_method", "status", "created_at",
                                      "updated_at"],
                    ((i + 1, f"AR-B-{i:07d}", "self_generated", i % organizations + 2, 1, "EUR", 10_000 + i % 977, 0,
                      10_000 + i % 977, due - timedelta(days=30), due - timedelta(days=30), due, 30, "unknown",
                      "approved", now, now) for i in range(invoices)))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench terms", description=__doc__)
    parser.add_argument("--organizations", type=int, default=10_000)
    parser.add_argument("--invoices", type=int, default=100_000)
    args = parser.parse_args(argv)

    from sqlalchemy import func, select
    from sqlmodel import Session

    from vrm_dashboard.db.engine import engine
    from vrm_dashboard.db.models import CollectionAttempt, Invoice, PaymentTermsChange
    from vrm_dashboard.services.identity.access_control import install_catalogue
    from vrm_dashboard.services.platform.actors import Actor
    from vrm_dashboard.services.receivables import collection, organizations

    fresh_sqlite("terms")
    today = date.today()
    started = time.perf_counter()
    _seed(engine(), args.organizations, args.invoices, today)
    with Session(engine()) as session:
        install_catalogue(session)
        session.commit()
    metric("seed_seconds", time.perf_counter() - started, "s")
    # The distributor's finance manager, as the screen would act.
    actor = Actor(user_id=None, email="bench@bench.example", full_name="Bench", roles=frozenset({"finance_manager"}),
                  actions=frozenset({"terms.view", "terms.edit", "collection.manage", "invoice.view"}),
                  organization_id=1)
    ids = list(range(2, args.organizations + 2))
    with Session(engine()) as session:
        started = time.perf_counter()
        changed = organizations.set_terms(session, actor, ids, 45, today=today).changed
        session.commit()
        elapsed = time.perf_counter() - started
        history = session.execute(select(func.count()).select_from(PaymentTermsChange)).scalar_one()
    metric("terms_organizations", changed, "organizations")
    metric("terms_history_rows", history, "rows")
    metric("terms_bulk_update_seconds", elapsed, "s (target < 2)")

    with Session(engine()) as session:
        started = time.perf_counter()
        summary = collection.collect(session, actor, collection.Selection("due_date", today), today=today)
        elapsed = time.perf_counter() - started
        attempts = session.execute(select(func.count()).select_from(CollectionAttempt)).scalar_one()
        still_processing = session.execute(select(func.count()).select_from(Invoice).where(
            Invoice.status == "processing")).scalar_one()
    metric("collection_invoices", summary.attempted, "invoices")
    metric("collection_collected", summary.collected, "invoices")
    metric("collection_failed", summary.failed, "invoices")
    metric("collection_attempts", attempts, "attempts")
    metric("collection_left_processing", still_processing, "invoices")
    metric("collection_seconds", elapsed, "s (target < 60)")
    metric("collection_per_second", summary.attempted / elapsed if elapsed else 0.0, "invoices/s")
    return 0

"""Smart Payouts at scale.

1. 100,000 approved payouts executed through the sandbox provider by the payout job:
   batched per vendor, claimed, submitted with idempotency keys, confirmed paid, with the
   invoices and audit entries that go with it (--vendors sets how many transfers that is).
2. A SEPA pain.001 file of 10,000 transfers built (sepaxml) and validated against its XSD.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date
from pathlib import Path

from bench.common import fresh_sqlite, metric


def _seed(engine, payouts: int, vendors: int, today: date) -> None:  # type: ignore[no-untyped-def]
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
                                     "payment_method", "payment_source", "paypal_email", "activity_status",
                                     "owner_id", "created_at", "updated_at"],
                    ((i + 1, f"PV{i:06d}", f"Payee {i}", f"Payee {i} Ltd", f"ap{i}@bench.example", "DE", "EUR",
                      "paypal", "Payouts wallet", f"payee{i}@bench.example", "active", payer, now, now)
                     for i in range(vendors)))
        insert_rows(conn, "invoice", ["id", "number", "kind", "vendor_id", "owner_id", "currency", "subtotal_minor",
                                      "tax_minor", "total_minor", "issue_date", "due_date", "payment_method", "status",
                                      "created_at", "updated_at"],
                    ((i + 1, f"PB-{i:07d}", "parsed", i % vendors + 1, payer, "EUR", 10_000 + i % 977, 0,
                      10_000 + i % 977, today, today, "paypal", "approved", now, now) for i in range(payouts)))
        insert_rows(conn, "payout", ["id", "invoice_id", "vendor_id", "amount_minor", "currency", "status", "rail",
                                     "pay_date", "idempotency_key", "created_at", "updated_at"],
                    ((i + 1, i + 1, i % vendors + 1, 10_000 + i % 977, "EUR", "awaiting_payout", "provider", today,
                      f"invoice-{i + 1}-1", now, now) for i in range(payouts)))
    from vrm_dashboard.services.invoices import rollup as invoice_rollup
    with Session(engine) as session:
        invoice_rollup.refresh(session)
        session.commit()


def _execute(payouts: int, vendors: int) -> None:
    import os

    from sqlalchemy import func, select
    from sqlmodel import Session

    from vrm_dashboard import config
    from vrm_dashboard.db.engine import engine
    from vrm_dashboard.db.models import PaymentTransaction, Payout
    from vrm_dashboard.rails.sandbox_provider import SandboxProvider
    from vrm_dashboard.services.payouts.execution import execute_payouts

    scratch = Path(tempfile.mkdtemp(prefix="bench-payouts-"))
    os.environ["VRM_PAYMENT_OUTBOX"] = str(scratch / "outbox")
    config.settings.cache_clear()
    fresh_sqlite("payouts")
    today = date.today()
    started = time.perf_counter()
    _seed(engine(), payouts, vendors, today)
    metric("seed_seconds", time.perf_counter() - started, "s")
    provider = SandboxProvider(scratch / "provider.db", failure_percent=0, timeout_percent=0, settle_seconds=0)
    started = time.perf_counter()
    with Session(engine()) as session:
        result = execute_payouts(session, today=today, provider=provider)
        session.commit()
    elapsed = time.perf_counter() - started
    with Session(engine()) as session:
        paid = session.execute(select(func.count()).select_from(Payout).where(Payout.status == "paid")).scalar_one()
        transfers = session.execute(select(func.count()).select_from(PaymentTransaction)).scalar_one()
    metric("payouts", payouts, "payouts")
    metric("transfers", transfers, "provider transfers")
    metric("payouts_paid", paid, "payouts")
    metric("provider_payments", len(provider.payments()), "payments")
    metric("execute_payouts_seconds", elapsed, "s (target < 60)")
    print(f"# job result: {result.detail}")


def _sepa(transfers: int) -> None:
    from vrm_dashboard.rails import sepa_file
    from vrm_dashboard.rails.base import Transfer

    rows = [Transfer(transaction_id=i, reference=f"VRM{i:012d}", idempotency_key=f"k{i}", vendor_code=f"V{i}",
                     beneficiary=f"Vendor {i} GmbH", amount_minor=1_000 + i, currency="EUR",
                     execution_date=date.today(), description=f"VRM{i:012d} payout", iban="DE89370400440532013000",
                     bic="COBADEFFXXX") for i in range(1, transfers + 1)]
    started = time.perf_counter()
    built = sepa_file.build(rows, "VRM Bench GmbH", "DE89370400440532013000", "COBADEFFXXX", "EUR")
    elapsed = time.perf_counter() - started
    started = time.perf_counter()
    problems = sepa_file.schema_errors(built.content)
    validate = time.perf_counter() - started
    metric("sepa_transfers", transfers, "transfers")
    metric("sepa_file_bytes", len(built.content), "bytes")
    metric("sepa_build_and_validate_seconds", elapsed, "s (target < 10)")
    metric("sepa_xsd_validation_only_seconds", validate, "s")
    metric("sepa_schema_errors", len(problems), "errors")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench payouts")
    parser.add_argument("--payouts", type=int, default=100_000)
    parser.add_argument("--vendors", type=int, default=10_000, help="payees; one provider transfer each")
    parser.add_argument("--sepa-transfers", type=int, default=10_000)
    args = parser.parse_args(argv)
    _sepa(args.sepa_transfers)
    _execute(args.payouts, args.vendors)
    return 0

"""A small book of approved invoices for the payout tests: one vendor per rail."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlmodel import Session

from tests.helpers import make_invoice, make_user, vendor_input
from vrm_dashboard import config
from vrm_dashboard.rails.sandbox_provider import SandboxProvider
from vrm_dashboard.services.invoices import approvals, rollup as invoice_rollup
from vrm_dashboard.services.invoices.approvals import Selection
from vrm_dashboard.services.vendors import records as vendor_service

VENDORS = {
    "sepa": dict(vendor_code="SEPA-1", name="Sepa Media", payment_method="sepa", currency="EUR"),
    "ach": dict(vendor_code="ACH-1", name="Ach Studio", payment_method="ach", currency="USD", country="US",
                iban="", account_number="000123456789", routing_number="021000021"),
    "provider": dict(vendor_code="PAY-1", name="Pay Influencer", payment_method="paypal", currency="EUR",
                     iban="", paypal_email="creator@pay.example"),
    "manual": dict(vendor_code="WIRE-1", name="Wire Works", payment_method="wire", currency="EUR",
                   iban="GB33BUKB20201555555555", bic="BUKBGB22", country="GB"),
}


def use_payout_environment(monkeypatch: pytest.MonkeyPatch, root: Path, **extra: str) -> None:
    """Outbox, provider ledger and lease for this test, as the scheduler would read them; the
    environment is restored after the test."""
    environment = {"VRM_PAYMENT_OUTBOX": str(root / "outbox"), "VRM_SANDBOX_PROVIDER_DB": str(root / "provider.db"),
                   "VRM_PAYOUT_CLAIM_LEASE_SECONDS": "0", "VRM_SANDBOX_SETTLE_SECONDS": "0",
                   "VRM_SANDBOX_FAILURE_PERCENT": "0", "VRM_SANDBOX_TIMEOUT_PERCENT": "0", **extra}
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    config.settings.cache_clear()


def provider_of(root: Path, failure: int = 0, timeout: int = 0, settle: int = 0, rng=None) -> SandboxProvider:  # type: ignore[no-untyped-def]
    return SandboxProvider(root / "provider.db", failure, timeout, settle, rng=rng)


@dataclass
class Book:
    finance: object
    approver: object
    vendors: dict
    invoices: dict


def approved_book(session: Session, per_vendor: int = 2, amount: int = 12_345) -> Book:
    finance = make_user(session, "finance_manager")
    approver = make_user(session, "approver", email="approver@test.example")
    vendors, invoices = {}, {}
    for rail, fields in VENDORS.items():
        vendor = vendor_service.create_vendor(session, finance, vendor_input(**fields))
        vendors[rail] = vendor
        invoices[rail] = [make_invoice(session, vendor.id, f"{rail.upper()}-{n}", amount + n, currency=vendor.currency)
                          for n in range(per_vendor)]
        for invoice in invoices[rail]:
            invoice.created_by_id = finance.user_id
    invoice_rollup.refresh(session)
    session.commit()
    ids = [i.id for group in invoices.values() for i in group]
    approvals.approve(session, approver, Selection(ids))
    session.commit()
    return Book(finance, approver, vendors, invoices)


def references_in_payment_files(outbox: Path) -> list[str]:
    """The transfer references in the SEPA and NACHA files of an outbox, once per appearance."""
    found: list[str] = []
    for path in outbox.iterdir():
        if path.suffix == ".xml":
            found += re.findall(r"<EndToEndId>([^<]+)</EndToEndId>", path.read_text())
        elif path.suffix == ".ach":
            found += [line[39:54].strip() for line in path.read_text().splitlines() if line.startswith("6")]
    return found

"""Which implementation pays each rail, built from the configuration here and nowhere else.

The payout executor and the collection run only see the protocols of rails.base; adding a
payment provider is writing a class that meets OnlinePayoutRail (or FilePayoutRail) and
returning it here under its rail.
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path

from vrm_dashboard.config import settings
from vrm_dashboard.domain.payout_rules import Rail
from vrm_dashboard.rails import nacha_file, sepa_file
from vrm_dashboard.rails.base import (
    Collector,
    FilePayoutRail,
    OnlinePayoutRail,
    PayerAccount,
    PaymentFileContent,
    PayoutRail,
    Transfer,
)
from vrm_dashboard.rails.sandbox_collector import SandboxCollector
from vrm_dashboard.rails.sandbox_provider import SandboxProvider


class FileRail:
    """A bank file rail (rails.base.FilePayoutRail): one of the file builders, delivered to the
    bank outbox (VRM_PAYMENT_OUTBOX) for the bank's transfer software to pick up."""

    confirms_itself = False  # a bank statement, or a person, confirms the transfers paid

    def __init__(self, name: str, build: Callable[[list[Transfer], str, PayerAccount], PaymentFileContent]) -> None:
        self.name = name
        self._build = build

    def build(self, transfers: Sequence[Transfer], currency: str, payer: PayerAccount) -> PaymentFileContent:
        return self._build(list(transfers), currency, payer)

    def deliver(self, filename: str, content: bytes) -> None:
        outbox = settings().payouts.outbox_dir
        outbox.mkdir(parents=True, exist_ok=True)
        target = outbox / filename
        # A name of its own per writer: two runs may deliver the same file at once (same bytes),
        # and the bank's software never sees half a file.
        part = target.with_name(f"{target.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.part")
        _write_durably(part, content)
        os.replace(part, target)


def _write_durably(path: Path, content: bytes) -> None:
    with open(path, "wb") as out:
        out.write(content)
        out.flush()
        os.fsync(out.fileno())


def _sepa(transfers: list[Transfer], currency: str, payer: PayerAccount) -> PaymentFileContent:
    return sepa_file.build(transfers, payer.name, payer.iban, payer.bic, currency)


def _nacha(transfers: list[Transfer], currency: str, payer: PayerAccount) -> PaymentFileContent:
    return nacha_file.build(transfers, payer.name, payer.ach_company_id, payer.ach_origin_routing,
                            payer.ach_destination_routing, datetime.now(timezone.utc))


class ManualRail:
    """Wire and manual payments (rails.base.PayoutRail, neither file nor online): the executor
    hands them to people, who pay from the bank and record the reference."""

    name = Rail.MANUAL.value
    confirms_itself = False


def sandbox_provider() -> SandboxProvider:
    p = settings().payouts
    return SandboxProvider(p.provider_db, p.provider_failure_percent, p.provider_timeout_percent,
                           p.provider_settle_seconds)


# What each configured rail is (its protocol), checked by the type checker.
def _sepa_rail() -> FilePayoutRail:
    return FileRail(Rail.SEPA.value, _sepa)


def _ach_rail() -> FilePayoutRail:
    return FileRail(Rail.ACH.value, _nacha)


def _provider_rail() -> OnlinePayoutRail:
    return sandbox_provider()


def _manual_rail() -> PayoutRail:
    return ManualRail()


def payout_rails(*replacing: PayoutRail) -> dict[str, PayoutRail]:
    """Every rail the payout run pays through, by its id (a Rail value). A rail in `replacing`
    takes the place of the configured one of its name (a test's provider, say)."""
    configured: dict[str, Callable[[], PayoutRail]] = {
        Rail.SEPA.value: _sepa_rail, Rail.ACH.value: _ach_rail, Rail.PROVIDER.value: _provider_rail,
        Rail.MANUAL.value: _manual_rail}
    chosen = {rail.name: rail for rail in replacing}
    # Only what is not replaced is built: the sandbox opens its ledger when built.
    return {name: chosen.get(name) or build() for name, build in configured.items()} | chosen


def collector(failure_percent: int) -> Collector:
    """The collector of the collection run (its failure rate is each installation's setting)."""
    return SandboxCollector(failure_percent=failure_percent)

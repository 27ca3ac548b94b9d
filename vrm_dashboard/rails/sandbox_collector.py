"""A sandbox payment collector: charges a customer's card or direct-debit mandate without
the internet, failing the way real ones do.

Its answer is a pure function of the request, so asking again with the same idempotency key
gives the same answer and never a second charge, as a real collector's idempotency does.
Failures are configurable: a share of charges declined at random (stable per key), and, as
test cards do, amounts ending in .51 are declined for insufficient funds and .52 are
returned for a missing mandate."""
from __future__ import annotations

import hashlib

from vrm_dashboard.domain.collection_rules import CustomerPaymentMethod as M
from vrm_dashboard.rails.base import Charge

DECLINES = {
    51: "Declined: insufficient funds",
    52: "Returned: no valid mandate",
}
_RANDOM_DECLINE = {M.CREDIT_CARD.value: "Declined by the card issuer", M.ACH.value: "Returned: account closed"}


class SandboxCollector:
    """The collector (rails.base.Collector) of the collection run."""

    def __init__(self, failure_percent: int = 0) -> None:
        self.failure_percent = failure_percent

    def charge(self, idempotency_key: str, method: str, amount_minor: int, currency: str) -> Charge:
        digest = hashlib.sha256(f"{idempotency_key}|{amount_minor}|{currency}".encode()).hexdigest()
        if method not in _RANDOM_DECLINE:
            return Charge(False, reason="No card or direct-debit mandate on file: the customer pays by transfer")
        if amount_minor <= 0:
            return Charge(False, reason="Nothing to collect")
        if amount_minor % 100 in DECLINES:
            return Charge(False, reason=DECLINES[amount_minor % 100])
        if int(digest[:8], 16) % 100 < self.failure_percent:
            return Charge(False, reason=_RANDOM_DECLINE[method])
        return Charge(True, reference=f"COL-{digest[:16].upper()}")

"""How payouts are paid: which rail a payment method uses, when a failed attempt is tried
again, and when a vendor's payouts are held."""
from __future__ import annotations

from datetime import datetime, timedelta
from enum import Enum

from vrm_dashboard.domain.vendor_rules import PaymentMethod


class Rail(str, Enum):
    SEPA = "sepa"          # ISO 20022 pain.001 credit-transfer file
    ACH = "ach"            # NACHA file
    PROVIDER = "provider"  # online payout provider, confirmed asynchronously
    MANUAL = "manual"      # a person pays (wire) and records the bank reference


RAIL_LABELS = {
    Rail.SEPA: "SEPA file",
    Rail.ACH: "ACH file",
    Rail.PROVIDER: "Online provider",
    Rail.MANUAL: "Manual / wire",
}

RAIL_OF_METHOD: dict[PaymentMethod, Rail] = {
    PaymentMethod.SEPA: Rail.SEPA,
    PaymentMethod.ACH: Rail.ACH,
    PaymentMethod.PAYPAL: Rail.PROVIDER,
    PaymentMethod.WIRE: Rail.MANUAL,
    PaymentMethod.MANUAL: Rail.MANUAL,
}

PAYOUT_STATUS_LABELS = {
    "payout_approval": "Payout Approval",
    "awaiting_payout": "Awaiting Payout",
    "processing": "Processing",
    "paid": "Paid",
    "failed": "Failed",
    "in_review": "In Review",
    "voided": "Voided",
}

# The payout status machine: the moves allowed from each status, and why.
PAYOUT_TRANSITIONS: dict[str, frozenset[str]] = {
    # Above the threshold a payout approver clears it; either waiting payout is voided with
    # its invoice (archived, rejected, re-issued, approval withdrawn).
    "payout_approval": frozenset({"awaiting_payout", "voided"}),
    # The payout run claims it into a transfer.
    "awaiting_payout": frozenset({"processing", "voided"}),
    # The rail's answer; an unknown outcome goes to a person.
    "processing": frozenset({"paid", "failed", "in_review"}),
    "in_review": frozenset({"paid", "failed"}),
    # A person retries it (back to the run) or it is voided with its invoice.
    "failed": frozenset({"awaiting_payout", "voided"}),
    # The bank returns the payment.
    "paid": frozenset({"failed"}),
    "voided": frozenset(),
}


# The transfer status machine: what a run, a rail's answer or a person may do to a transfer.
TRANSFER_TRANSITIONS: dict[str, frozenset[str]] = {
    # A run claims it; a person closes one no rail took.
    "new": frozenset({"processing", "failed"}),
    # The rail's answer; no answer (a time-out, a dead run) gives it back to be tried again
    # under its key; an unknown outcome or a change of the account goes to a person.
    "processing": frozenset({"paid", "failed", "in_review", "new"}),
    # A person decides: paid (checked with the provider or the bank) or not (then retried).
    "in_review": frozenset({"paid", "failed"}),
    # The bank returns the payment.
    "paid": frozenset({"failed"}),
    # A failed transfer stays failed: a retry pays its payouts by a new one.
    "failed": frozenset(),
}


def transfer_sources(target: str) -> frozenset[str]:
    """The transfer statuses from which a transfer may move to `target`."""
    return frozenset(s for s, targets in TRANSFER_TRANSITIONS.items() if target in targets)


def payout_sources(target: str) -> frozenset[str]:
    """The payout statuses from which a payout may move to `target`."""
    return frozenset(s for s, targets in PAYOUT_TRANSITIONS.items() if target in targets)


TRANSACTION_STATUS_LABELS = {
    "new": "New", "processing": "Processing", "paid": "Paid", "failed": "Failed", "in_review": "In Review",
}

# The dashboard's totals: which payout statuses each figure sums.
TOTAL_GROUPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("awaiting", "Awaiting", ("payout_approval", "awaiting_payout")),
    ("processing", "Processing", ("processing",)),
    ("paid", "Paid", ("paid",)),
    ("failed", "Failed", ("failed", "in_review")),
)

# Transient failures (a provider timeout) are tried again after 1, 2, 4, 8 minutes; after
# that a person looks at it, because the provider may have taken the payment after all.
MAX_ATTEMPTS = 5
FIRST_RETRY = timedelta(minutes=1)


def rail_of_method(method: str | PaymentMethod) -> Rail:
    """The rail that pays a payment method."""
    return RAIL_OF_METHOD[PaymentMethod(method)]


def next_attempt_after(attempts: int, now: datetime) -> datetime:
    """When to try again after `attempts` failed tries: exponential backoff."""
    return now + FIRST_RETRY * (2 ** max(0, attempts - 1))


def cooling_off_ends(bank_details_changed_at: datetime | None, hours: int) -> datetime | None:
    """Until when a vendor's payouts are held after its bank details changed (None: not held)."""
    if bank_details_changed_at is None or hours <= 0:
        return None
    return bank_details_changed_at + timedelta(hours=hours)


def awaits_confirmation(status: str, rail: str) -> bool:
    """Whether a person may confirm this transfer paid: a file or manual transfer in
    Processing, or any transfer in review. The provider confirms its own payments."""
    return status == "in_review" or (status == "processing" and rail != Rail.PROVIDER.value)

"""The invoice status machine, defined once: every status and the moves allowed from it."""
from __future__ import annotations

from enum import Enum


class InvoiceStatus(str, Enum):
    DRAFT = "draft"
    DRAFT_VALID = "draft_valid"
    PENDING = "pending"
    REJECTED = "rejected"
    APPROVED = "approved"
    ARCHIVED = "archived"
    PROCESSING = "processing"
    FAILED = "failed"
    PAID = "paid"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS: dict[InvoiceStatus, str] = {
    InvoiceStatus.DRAFT: "Draft",
    InvoiceStatus.DRAFT_VALID: "Draft Valid",
    InvoiceStatus.PENDING: "Pending",
    InvoiceStatus.REJECTED: "Rejected",
    InvoiceStatus.APPROVED: "Approved",
    InvoiceStatus.ARCHIVED: "Archived",
    InvoiceStatus.PROCESSING: "Processing",
    InvoiceStatus.FAILED: "Failed",
    InvoiceStatus.PAID: "Paid",
}

S = InvoiceStatus
# A payable: an invoice we owe a vendor.
ALLOWED_TRANSITIONS: dict[InvoiceStatus, frozenset[InvoiceStatus]] = {
    # A draft becomes valid once its checks pass; an edit can make it invalid again.
    S.DRAFT: frozenset({S.DRAFT_VALID, S.ARCHIVED}),
    S.DRAFT_VALID: frozenset({S.DRAFT, S.PENDING, S.ARCHIVED}),
    # Pending is the approval queue; editing sends an invoice back through validation.
    S.PENDING: frozenset({S.APPROVED, S.REJECTED, S.DRAFT, S.ARCHIVED}),
    S.REJECTED: frozenset({S.DRAFT, S.ARCHIVED}),
    # An approval can be withdrawn until the payout run claims the invoice. A re-issued invoice
    # is replaced by its corrected revision, its waiting payout voided with it.
    S.APPROVED: frozenset({S.PROCESSING, S.PENDING, S.ARCHIVED}),
    S.PROCESSING: frozenset({S.PAID, S.FAILED}),
    # A failed payment is retried or sent back for a person to decide.
    S.FAILED: frozenset({S.PROCESSING, S.APPROVED, S.ARCHIVED}),
    # A paid transfer the bank returns fails after all.
    S.PAID: frozenset({S.ARCHIVED, S.FAILED}),
    S.ARCHIVED: frozenset(),
}

# A receivable: an invoice an organization issues to a customer below it. It is owed from
# Approved; the collector charges it (Processing), or the customer pays it by wire from any
# open status, which the bank statement shows.
RECEIVABLE_TRANSITIONS: dict[InvoiceStatus, frozenset[InvoiceStatus]] = {
    S.DRAFT: frozenset({S.DRAFT_VALID, S.ARCHIVED}),
    S.DRAFT_VALID: frozenset({S.DRAFT, S.PENDING, S.ARCHIVED}),
    S.PENDING: frozenset({S.APPROVED, S.REJECTED, S.DRAFT, S.ARCHIVED, S.PAID}),
    S.REJECTED: frozenset({S.DRAFT, S.ARCHIVED}),
    # Cancelled or re-issued: archived. A wire while a collection runs is paid, and flagged.
    S.APPROVED: frozenset({S.PROCESSING, S.PAID, S.ARCHIVED}),
    S.PROCESSING: frozenset({S.PAID, S.FAILED}),
    S.FAILED: frozenset({S.PROCESSING, S.PAID, S.ARCHIVED}),
    # A customer's payment returned or charged back is owed again.
    S.PAID: frozenset({S.ARCHIVED, S.FAILED}),
    S.ARCHIVED: frozenset(),
}


def sources(target: InvoiceStatus, receivable: bool = False) -> frozenset[InvoiceStatus]:
    """The statuses from which an invoice may move to `target`."""
    table = RECEIVABLE_TRANSITIONS if receivable else ALLOWED_TRANSITIONS
    return frozenset(s for s, targets in table.items() if target in targets)


class IllegalTransition(ValueError):
    """A status move the machine does not allow."""


def parse_status(value: str) -> InvoiceStatus:
    try:
        return InvoiceStatus(value)
    except ValueError:
        for status, label in STATUS_LABELS.items():
            if label.lower() == str(value).strip().lower():
                return status
        raise IllegalTransition(f"Unknown invoice status {value!r}") from None


def can_move(current: InvoiceStatus, target: InvoiceStatus, receivable: bool = False) -> bool:
    return target in (RECEIVABLE_TRANSITIONS if receivable else ALLOWED_TRANSITIONS)[current]


def check_move(current: InvoiceStatus, target: InvoiceStatus, receivable: bool = False) -> None:
    """Raise IllegalTransition with a reason a person can act on."""
    if can_move(current, target, receivable):
        return
    allowed = sorted(STATUS_LABELS[s] for s in (RECEIVABLE_TRANSITIONS if receivable else ALLOWED_TRANSITIONS)[current])
    options = ", ".join(allowed) if allowed else "nothing (it is final)"
    raise IllegalTransition(
        f"An invoice in {current.label} cannot move to {target.label}; "
        f"from {current.label} it can move to {options}"
    )


class VendorPaymentStatus(str, Enum):
    """Where an invoice stands as its vendor sees it: is it being paid?"""

    IN_REVIEW = "in_review"
    REJECTED = "rejected"
    APPROVED = "approved"
    IN_PAYMENT = "in_payment"
    PAID = "paid"
    FAILED = "failed"
    CANCELLED = "cancelled"


VENDOR_PAYMENT_STATUS: dict[VendorPaymentStatus, frozenset[InvoiceStatus]] = {
    VendorPaymentStatus.IN_REVIEW: frozenset({S.DRAFT, S.DRAFT_VALID, S.PENDING}),
    VendorPaymentStatus.REJECTED: frozenset({S.REJECTED}),
    VendorPaymentStatus.APPROVED: frozenset({S.APPROVED}),
    VendorPaymentStatus.IN_PAYMENT: frozenset({S.PROCESSING}),
    VendorPaymentStatus.PAID: frozenset({S.PAID}),
    VendorPaymentStatus.FAILED: frozenset({S.FAILED}),
    VendorPaymentStatus.CANCELLED: frozenset({S.ARCHIVED}),
}
VENDOR_PAYMENT_LABELS = {
    VendorPaymentStatus.IN_REVIEW: "In review",
    VendorPaymentStatus.REJECTED: "Rejected",
    VendorPaymentStatus.APPROVED: "Approved, to be paid",
    VendorPaymentStatus.IN_PAYMENT: "Payment in progress",
    VendorPaymentStatus.PAID: "Paid",
    VendorPaymentStatus.FAILED: "Payment failed, retrying",
    VendorPaymentStatus.CANCELLED: "Cancelled",
}


def vendor_payment_status(status: str) -> VendorPaymentStatus:
    current = InvoiceStatus(status)
    return next(group for group, members in VENDOR_PAYMENT_STATUS.items() if current in members)

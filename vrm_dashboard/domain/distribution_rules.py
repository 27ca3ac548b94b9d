"""Which invoices are sent, when, and what must hold before one leaves: pure rules, no I/O."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum

from vrm_dashboard.domain.invoice_status import InvoiceStatus as S


class DeliveryStatus(str, Enum):
    QUEUED = "queued"
    HELD = "held"
    SENDING = "sending"
    SENT = "sent"
    BOUNCED = "bounced"
    FAILED = "failed"


DELIVERY_LABELS = {
    DeliveryStatus.QUEUED: "Queued", DeliveryStatus.HELD: "Held", DeliveryStatus.SENDING: "Sending",
    DeliveryStatus.SENT: "Sent", DeliveryStatus.BOUNCED: "Bounced", DeliveryStatus.FAILED: "Failed",
}


class InvoiceType(str, Enum):
    """Who an invoice goes to. A parsed invoice is the vendor's own document: never sent."""

    SELF_BILLING = "self_billing"  # we bill ourselves on a vendor's behalf; the vendor gets it
    CUSTOMER = "customer"  # a receivable; the organization's billing address gets it


class Trigger(str, Enum):
    PAYMENT_CONFIRMED = "payment_confirmed"
    ORDER_COMPLETED = "order_completed"


TRIGGER_LABELS = {Trigger.PAYMENT_CONFIRMED: "Payment confirmed", Trigger.ORDER_COMPLETED: "Order completed"}
DEFAULT_TRIGGERS = {InvoiceType.SELF_BILLING.value: Trigger.PAYMENT_CONFIRMED.value,
                    InvoiceType.CUSTOMER.value: Trigger.ORDER_COMPLETED.value}

# The statuses in which each trigger holds. An order is complete once its invoice is approved.
TRIGGER_STATUSES: dict[Trigger, frozenset[str]] = {
    Trigger.PAYMENT_CONFIRMED: frozenset({S.PAID.value}),
    Trigger.ORDER_COMPLETED: frozenset({S.APPROVED.value, S.PROCESSING.value, S.PAID.value}),
}

SEND_WITHIN = timedelta(hours=24)
MAX_ATTEMPTS = 8
# A claim older than this belongs to a sender that died: the message is taken again.
CLAIM_LEASE = timedelta(minutes=10)


def invoice_type(kind: str, vendor_id: int | None, organization_id: int | None) -> InvoiceType | None:
    if organization_id is not None:
        return InvoiceType.CUSTOMER
    if vendor_id is not None and kind == "self_generated":
        return InvoiceType.SELF_BILLING
    return None


def retry_delay(attempts: int) -> timedelta:
    """After a temporary failure: 1, 5, 15, 60 minutes, then every 4 hours."""
    steps = (1, 5, 15, 60)
    return timedelta(minutes=steps[attempts - 1] if 0 < attempts <= len(steps) else 240)


def is_permanent(code: int | None) -> bool:
    """SMTP 5xx replies are final; 4xx and lost connections are worth another try."""
    return code is not None and 500 <= code < 600


@dataclass(frozen=True)
class InvoiceFacts:
    """What the pre-send checks read of an invoice."""

    number: str
    currency: str
    subtotal_minor: int
    tax_minor: int
    total_minor: int
    lines_minor: int | None
    line_count: int
    recipient_name: str | None
    recipient: str | None
    issue_date_set: bool


def hold_reasons(facts: InvoiceFacts, recipient_problem: str | None) -> list[str]:
    """Every reason the invoice may not be sent yet; empty when it may."""
    reasons = []
    if facts.subtotal_minor + facts.tax_minor != facts.total_minor:
        reasons.append("Subtotal plus tax does not equal the total")
    if facts.lines_minor is not None and facts.line_count and facts.lines_minor != facts.subtotal_minor:
        reasons.append("The lines do not add up to the subtotal")
    if not facts.number.strip():
        reasons.append("The invoice has no number")
    if not facts.issue_date_set:
        reasons.append("The invoice has no date of issue")
    if not (facts.recipient_name or "").strip():
        reasons.append("The recipient has no name")
    if not facts.recipient:
        reasons.append("The recipient has no e-mail address")
    elif recipient_problem:
        reasons.append(f"The recipient's address {facts.recipient} is not valid: {recipient_problem}")
    return reasons


def overdue(send_by: datetime | None, now: datetime) -> bool:
    return send_by is not None and now > send_by


def period_start(day: date, period: str) -> date:
    """The first day of the day's week (Monday) or month; the day itself for "day"."""
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day

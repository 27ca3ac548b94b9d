"""Collecting customers' invoices: payment methods, which invoices are open, aging buckets
and the reminder schedule."""
from __future__ import annotations

from datetime import date
from enum import Enum

from vrm_dashboard.domain.invoice_status import InvoiceStatus as S


class CustomerPaymentMethod(str, Enum):
    UNKNOWN = "unknown"
    WIRE = "wire"
    CREDIT_CARD = "credit_card"
    ACH = "ach"


PAYMENT_METHOD_LABELS = {
    CustomerPaymentMethod.UNKNOWN: "Unknown",
    CustomerPaymentMethod.WIRE: "Wire transfer",
    CustomerPaymentMethod.CREDIT_CARD: "Credit card",
    CustomerPaymentMethod.ACH: "ACH",
}
# What the collector can charge on a customer's behalf.
CHARGEABLE = frozenset({CustomerPaymentMethod.CREDIT_CARD.value, CustomerPaymentMethod.ACH.value})


class AttemptOutcome(str, Enum):
    # Claimed and not yet answered by the collector (a run that died leaves it so).
    PENDING = "pending"
    COLLECTED = "collected"
    FAILED = "failed"


# A customer invoice is owed while approved (the order is complete) or after a failed try;
# processing means a collection is under way.
OPEN_STATUSES = (S.PENDING.value, S.APPROVED.value, S.PROCESSING.value, S.FAILED.value)
COLLECTABLE_STATUSES = (S.APPROVED.value, S.FAILED.value)
# A failed collection is tried again after this many days, at most MAX_ATTEMPTS times in all.
RETRY_AFTER_DAYS = 3
MAX_ATTEMPTS = 4

AGING_BUCKETS: tuple[tuple[str, str, int, int | None], ...] = (
    ("current", "Current", -10**6, 0),
    ("d1_30", "1-30 days", 1, 30),
    ("d31_60", "31-60 days", 31, 60),
    ("d61_90", "61-90 days", 61, 90),
    ("over_90", "Over 90 days", 91, None),
)


def aging_bucket(due: date | None, today: date) -> str:
    """The bucket of an open invoice: days past its due date (not yet due is current)."""
    overdue = (today - due).days if due else 0
    for key, _label, low, high in AGING_BUCKETS:
        if overdue >= low and (high is None or overdue <= high):
            return key
    return AGING_BUCKETS[-1][0]


DEFAULT_REMINDER_DAYS = [-7, 1, 7, 21]


class ScheduleError(ValueError):
    """A reminder schedule that is not a list of distinct whole days."""


def parse_schedule(value: object) -> list[int]:
    """'-7, 1, 7, 21' or [-7, 1, 7, 21]: days from the due date (negative: before it)."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)):
        raise ScheduleError("Give days from the due date, e.g. -7, 1, 7, 21")
    days = []
    for item in items:
        text = str(item).strip()
        if not text:
            continue
        try:
            day = int(text)
        except ValueError:
            raise ScheduleError(f"{text!r} is not a whole number of days") from None
        if not -365 <= day <= 365:
            raise ScheduleError("Reminders are at most 365 days from the due date")
        days.append(day)
    if len(set(days)) != len(days):
        raise ScheduleError("Each day appears once")
    return sorted(days)


def reminder_stage(due: date, today: date, schedule: list[int]) -> int | None:
    """The latest stage of the schedule reached today (only that one is sent: a late start
    does not send every earlier reminder at once)."""
    reached = [d for d in schedule if (today - due).days >= d]
    return reached[-1] if reached else None

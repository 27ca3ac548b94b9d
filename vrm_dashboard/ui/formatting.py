"""Turning service results into the short strings a table cell shows."""
from __future__ import annotations

from datetime import date, datetime

from vrm_dashboard.domain.invoice_status import STATUS_LABELS, InvoiceStatus
from vrm_dashboard.domain.money import format_money
from vrm_dashboard.domain.vendor_rules import (
    ACTIVITY_LABELS,
    PAYMENT_METHOD_LABELS,
    ActivityStatus,
    PaymentMethod,
)


def method_label(value: str) -> str:
    try:
        return PAYMENT_METHOD_LABELS[PaymentMethod(value)]
    except ValueError:
        return value


def activity_label(value: str) -> str:
    try:
        return ACTIVITY_LABELS[ActivityStatus(value)]
    except ValueError:
        return value


def status_label(value: str) -> str:
    try:
        return STATUS_LABELS[InvoiceStatus(value)]
    except ValueError:
        return value.replace("_", " ").capitalize()


def money(minor: int, currency: str) -> str:
    return format_money(minor, currency) if currency else str(minor)


def day(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return value.isoformat()

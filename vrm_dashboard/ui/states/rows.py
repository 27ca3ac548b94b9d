"""Rows that more than one screen's state shows. Every field is the text a cell or card shows,
already formatted; a row is built by keyword, and every field has a default."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class StatusTotal:
    """One status on a list screen: how many, and the amounts per currency."""

    key: str = ""
    label: str = ""
    count: str = ""
    amounts: str = ""


@dataclass
class Refusal:
    """An item a bulk action left alone, and why."""

    number: str = ""
    reason: str = ""


@dataclass
class HistoryEntry:
    """One audited change to a record: when, by whom, what, and the fields it changed."""

    at: str = ""
    who: str = ""
    action: str = ""
    changes: str = ""


@dataclass
class FieldValue:
    """A labelled value of a record, shown as a line of a small two-column table."""

    field: str = ""
    value: str = ""


@dataclass
class MissingItem:
    """Something a vendor's onboarding still lacks, and the step it belongs to."""

    step: str = ""
    what: str = ""


@dataclass
class DocumentRow:
    """A document a vendor supplied during onboarding."""

    id: str = ""
    kind: str = ""
    filename: str = ""
    uploaded: str = ""


@dataclass
class AgingRow:
    """Open receivables of one organization (or a currency's total) by how long they are overdue."""

    organization: str = ""
    currency: str = ""
    # One field per bucket of services.receivables.aging.BUCKET_KEYS.
    current: str = ""
    d1_30: str = ""
    d31_60: str = ""
    d61_90: str = ""
    over_90: str = ""
    total: str = ""

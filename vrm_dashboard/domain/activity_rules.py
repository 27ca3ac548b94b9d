"""What an activity file must hold, how its columns map to our fields, and how a row refused
is reported."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

# Our fields and the column names files commonly use for them.
FIELD_SYNONYMS: dict[str, tuple[str, ...]] = {
    "vendor": ("vendor", "vendor_code", "vendor id", "vendor_id", "publisher", "publisher_id", "affiliate",
               "affiliate_id", "partner", "partner_id", "supplier", "supplier_code"),
    "activity_type": ("activity_type", "activity", "type", "event", "event_type", "metric", "action"),
    "date": ("date", "occurred_on", "day", "activity_date", "event_date", "timestamp", "created_at"),
    "quantity": ("quantity", "qty", "units", "count", "clicks", "hours", "amount_units"),
    "revenue": ("revenue", "sales", "gross", "order_value", "sale_amount", "turnover"),
    "currency": ("currency", "currency_code", "ccy"),
    "row_id": ("row_id", "id", "event_id", "transaction_id", "order_id", "reference"),
}
REQUIRED = ("vendor", "activity_type", "date")
MAX_REPORTED_PROBLEMS = 200


@dataclass(frozen=True)
class RowProblem:
    row: int  # the row number as the file shows it: 1 is the header, data starts at 2
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.reason}" if self.row else self.reason


@dataclass
class ImportRefused(Exception):
    """Nothing was imported; each problem names its row."""

    problems: list[RowProblem] = field(default_factory=list)
    total_problems: int = 0

    def __str__(self) -> str:
        shown = "; ".join(str(p) for p in self.problems[:10])
        more = self.total_problems - min(len(self.problems), 10)
        return f"Nothing was imported: {shown}" + (f" (and {more} more)" if more > 0 else "")


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


def guess_mapping(columns: list[str], saved: dict[str, str] | None = None) -> dict[str, str]:
    """Our field -> the file's column. A mapping saved for the source wins where its columns
    are present; other fields are recognised by their usual names."""
    mapping: dict[str, str] = {}
    present = {c: c for c in columns}
    for ours, theirs in (saved or {}).items():
        if theirs in present:
            mapping[ours] = theirs
    by_key = {_key(c): c for c in columns}
    for ours, names in FIELD_SYNONYMS.items():
        if ours in mapping:
            continue
        for name in names:
            if _key(name) in by_key and by_key[_key(name)] not in mapping.values():
                mapping[ours] = by_key[_key(name)]
                break
    return mapping


def check_mapping(mapping: dict[str, str]) -> list[RowProblem]:
    problems = [RowProblem(1, f"no column for {name.replace('_', ' ')}") for name in REQUIRED if name not in mapping]
    if "quantity" not in mapping and "revenue" not in mapping:
        problems.append(RowProblem(1, "no column for quantity or revenue"))
    return problems

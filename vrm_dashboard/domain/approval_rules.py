"""Approval rules a finance team sets: when an invoice needs a second approver."""
from __future__ import annotations

from decimal import Decimal
from typing import Mapping

from vrm_dashboard.domain.money import Money

ANY_CURRENCY = "*"

# Above these amounts (in each currency's major units) two distinct approvers are needed.
# "*" applies to currencies without their own line, in that currency's major units.
DEFAULT_TWO_APPROVER_THRESHOLDS: dict[str, str] = {
    "EUR": "10000", "USD": "10000", "GBP": "8500", "CAD": "13500", "JPY": "1500000",
    "BHD": "3800", ANY_CURRENCY: "10000",
}


def threshold_minor(currency: str, thresholds: Mapping[str, str]) -> int | None:
    """The two-approver threshold in minor units for a currency, or None when there is none."""
    raw = thresholds.get(currency, thresholds.get(ANY_CURRENCY))
    if raw is None or raw == "":
        return None
    return Money.parse(Decimal(str(raw)), currency).minor


def needs_two_approvers(total_minor: int, currency: str, thresholds: Mapping[str, str]) -> bool:
    limit = threshold_minor(currency, thresholds)
    return limit is not None and total_minor > limit


def parse_thresholds(text: str) -> dict[str, str]:
    """Thresholds as a person writes them, one currency per line: "EUR 10000", "* 10000" for
    every other currency. Raises ValueError naming the line it cannot read."""
    found: dict[str, str] = {}
    for number, line in enumerate(text.replace(";", "\n").splitlines(), start=1):
        parts = line.replace(":", " ").replace("=", " ").split()
        if not parts:
            continue
        if len(parts) != 2:
            raise ValueError(f"Line {number} ({line.strip()!r}): write a currency and an amount, e.g. EUR 10000")
        found[parts[0].upper()] = parts[1].replace(",", "")
    return found


def thresholds_text(thresholds: Mapping[str, str]) -> str:
    """The other way round, the catch-all last."""
    ordered = sorted(thresholds.items(), key=lambda item: (item[0] == ANY_CURRENCY, item[0]))
    return "\n".join(f"{currency} {amount}" for currency, amount in ordered)

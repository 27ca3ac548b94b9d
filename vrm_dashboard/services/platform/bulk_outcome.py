"""What a bulk action reports: how many moved, and why the others could not."""
from __future__ import annotations

from dataclasses import dataclass, field

REPORTED_REFUSALS = 50


@dataclass
class Refusal:
    number: str
    reason: str


@dataclass
class BulkResult:
    moved: int = 0
    awaiting_second_approval: int = 0
    refused_count: int = 0
    refused: list[Refusal] = field(default_factory=list)
    refused_by_reason: dict[str, int] = field(default_factory=dict)

    def add(self, other: "BulkResult") -> None:
        """Count another part of the same action (the invoices of another organization)."""
        self.moved += other.moved
        self.awaiting_second_approval += other.awaiting_second_approval
        self.refused_count += other.refused_count
        self.refused = (self.refused + other.refused)[:REPORTED_REFUSALS]
        for reason, count in other.refused_by_reason.items():
            self.refused_by_reason[reason] = self.refused_by_reason.get(reason, 0) + count

    def summary(self, verb: str) -> str:
        parts = [f"{self.moved} {verb}"]
        if self.awaiting_second_approval:
            parts.append(f"{self.awaiting_second_approval} recorded and waiting for a second approver")
        if self.refused_count:
            reasons = "; ".join(f"{n} × {r}" for r, n in self.refused_by_reason.items())
            parts.append(f"{self.refused_count} could not move ({reasons})")
        return ", ".join(parts) + "."

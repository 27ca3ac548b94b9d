"""One booked statement line, whatever the file format."""
from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date

from vrm_dashboard.domain.intake_rules import printable


@dataclass(frozen=True)
class StatementEntry:
    booking_date: date
    amount_minor: int          # signed: money leaving the account is negative
    currency: str
    reference: str = ""        # end-to-end id or customer reference
    counterparty: str = ""
    description: str = ""
    return_reason: str = ""    # set when the bank books a transfer coming back

    def __post_init__(self) -> None:
        # Text from a bank's file is stored and shown: no NUL or other control characters.
        for name in (f.name for f in fields(self) if f.type == "str"):
            object.__setattr__(self, name, printable(getattr(self, name)))


class StatementError(ValueError):
    """The file is not a statement this product reads; the message says why."""

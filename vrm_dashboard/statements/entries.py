"""One booked statement line, whatever the file format."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class StatementEntry:
    booking_date: date
    amount_minor: int          # signed: money leaving the account is negative
    currency: str
    reference: str = ""        # end-to-end id or customer reference
    counterparty: str = ""
    description: str = ""
    return_reason: str = ""    # set when the bank books a transfer coming back


class StatementError(ValueError):
    """The file is not a statement this product reads; the message says why."""

"""One booked statement line, whatever the file format."""
from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from enum import Enum

from vrm_dashboard.domain.intake_rules import printable

# Bank transaction codes that book money coming back: the ISO 20022 sub-families "reversal due
# to payment return" and "... cancellation request" (camt.053 BkTxCd, e.g. PMNT/ICDT/RRTN) and
# the SWIFT MT940 :61: type "returned item" (NRTI, and its S and F forms).
RETURN_SUBFAMILIES = frozenset({"RRTN", "RPCR"})
RETURN_TYPES = frozenset({"RTI"})


class Direction(str, Enum):
    """What a line does to the account, read from its sign and the bank's own codes."""
    PAYMENT = "payment"            # money out: one of our transfers executed
    RETURN = "return"              # money back: a transfer (ours) returned or a debit reversed
    CREDIT = "credit"              # money in: a customer paying, or a credit the bank did not explain
    REVERSAL = "reversal"          # money out that takes back an earlier credit or booked return
    NONE = "none"                  # a line of zero moves nothing


@dataclass(frozen=True)
class StatementEntry:
    booking_date: date
    amount_minor: int          # signed: money leaving the account is negative
    currency: str
    reference: str = ""        # end-to-end id or customer reference
    counterparty: str = ""
    description: str = ""
    return_reason: str = ""    # set when the bank books a transfer coming back
    # The bank's transaction code: camt.053 DOMAIN/FAMILY/SUBFAMILY (or its proprietary code),
    # MT940 the :61: type (NTRF, NRTI, ...). Empty when the format gives none (CSV).
    bank_code: str = ""
    reversal: bool = False     # the bank reverses an earlier booking (MT940 RD/RC, camt RvslInd)

    def __post_init__(self) -> None:
        # Text from a bank's file is stored and shown: no NUL or other control characters.
        for name in (f.name for f in fields(self) if f.type == "str"):
            object.__setattr__(self, name, printable(getattr(self, name)))

    @property
    def return_coded(self) -> bool:
        """The bank's transaction code books this line as a return."""
        parts = self.bank_code.upper().split("/")
        return bool(RETURN_SUBFAMILIES & set(parts)) or (len(parts) == 1 and parts[0][-3:] in RETURN_TYPES)

    @property
    def direction(self) -> Direction:
        """Money out or in by the sign, a return or reversal by the bank's code; a return reason
        (the bank's, or words in the text) only tells a credit coming back from one paid in.
        A credit is never taken for a payment, whatever words it lacks."""
        if self.amount_minor == 0:
            return Direction.NONE
        if self.amount_minor < 0:
            return Direction.REVERSAL if self.reversal or self.return_coded else Direction.PAYMENT
        return Direction.RETURN if self.reversal or self.return_coded or self.return_reason else Direction.CREDIT


class StatementError(ValueError):
    """The file is not a statement this product reads; the message says why."""

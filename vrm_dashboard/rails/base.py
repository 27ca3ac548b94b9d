"""What every rail is given and what it answers."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Transfer:
    """One transfer to one vendor, as a rail needs it."""

    transaction_id: int
    reference: str          # our end-to-end reference, printed on the vendor's statement
    idempotency_key: str    # sent with every attempt so a rail can refuse to pay twice
    vendor_code: str
    beneficiary: str
    amount_minor: int
    currency: str
    execution_date: date
    description: str
    iban: str | None = None
    bic: str | None = None
    account_number: str | None = None
    routing_number: str | None = None
    paypal_email: str | None = None


@dataclass(frozen=True)
class PaymentFileContent:
    reference: str
    filename: str
    content_type: str
    content: bytes


class RailError(Exception):
    """The rail refused the transfer for a reason a person must fix (bad account data)."""


class ProviderTimeout(Exception):
    """No answer from the provider: the transfer may or may not have been taken."""


@dataclass(frozen=True)
class ProviderPayment:
    payment_id: str
    idempotency_key: str
    amount_minor: int
    currency: str
    status: str              # accepted, paid or failed
    failure_reason: str | None = None

"""What every rail is given and what it answers, and the protocols the executor and the
collection run pay through.

Exactly once is the executor's job (services/payouts/execution.py): it claims each transfer
in the database before handing it over and records the rail's answer after. A rail keeps
its side of the bargain through these protocols: it takes every transfer under its
idempotency key, and it can say later what it did with a key. The executor picks its steps
by what a rail is (it builds files, or it takes transfers online, or neither: a person pays),
never by which rail it is, so a new rail is an implementation registered in rails/registry.py.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol, runtime_checkable


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
class PayerAccount:
    """The account a payment file pays from: the paying organization's own."""

    name: str
    iban: str = ""
    bic: str = ""
    ach_company_id: str = ""
    ach_origin_routing: str = ""
    ach_destination_routing: str = ""


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


@dataclass(frozen=True)
class Charge:
    """A collector's answer to one charge: collected (with its reference) or not (with why)."""

    collected: bool
    reference: str | None = None
    reason: str | None = None


@runtime_checkable
class PayoutRail(Protocol):
    """A way money leaves. A rail that is neither a file rail nor an online rail is paid by a
    person (wire), who records the bank reference."""

    @property
    def name(self) -> str:
        """The rail's id, as stored on payouts and transactions (a domain.payout_rules.Rail value):
        the executor hands a rail the transactions stored under its name, and none other."""
        ...

    @property
    def confirms_itself(self) -> bool:
        """True when the rail reports each transfer paid or failed (the executor asks it, see
        OnlinePayoutRail.lookup_many); False when a person or a bank statement confirms it, so
        the executor leaves it in Processing for them."""
        ...


@runtime_checkable
class FilePayoutRail(PayoutRail, Protocol):
    """A rail that pays by a file for the bank (SEPA pain.001, NACHA).

    A file cannot be asked about later, so it must exist with its transfers or not at all:
    the executor builds it in the very commit that claims the transfers and stores it, and
    only then delivers it. Building has no side effect; delivering may be repeated."""

    def build(self, transfers: Sequence[Transfer], currency: str, payer: PayerAccount) -> PaymentFileContent:
        """One file paying these transfers from the payer's account (one payer, one currency); RailError when a transfer
        cannot be carried (its vendor's account data): the executor then fails that one
        alone and builds the file of the others. No side effect: a run that dies before its
        commit leaves nothing behind."""
        ...

    def deliver(self, filename: str, content: bytes) -> None:
        """Hand a stored file to the bank. Called again, with the same name and bytes, when a
        run died before recording the delivery: the bank must see one file."""
        ...


@runtime_checkable
class OnlinePayoutRail(PayoutRail, Protocol):
    """A rail that takes transfers by request (a payout provider's API).

    The executor commits its claim before calling, so a run that dies mid-call leaves a claim
    a later run resolves with lookup_many: taken means submitted, unknown means submitted
    again under the same key. The rail must answer a key it has seen with the first payment,
    never a second one."""

    def submit(self, transfers: Sequence[Transfer]) -> Mapping[str, ProviderPayment | str]:
        """Take these transfers, each under its idempotency key. Answers per key: the payment
        taken (or taken before under that key), or why it was refused (failed, for a person to
        fix). A key left out of the answer, or ProviderTimeout for the whole request, means no
        answer: the transfer is tried again later under the same key."""
        ...

    def lookup_many(self, keys: Sequence[str]) -> Mapping[str, ProviderPayment]:
        """What the rail did with these idempotency keys (the keys it never took are left out):
        recovery asks it whether an interrupted claim was taken, confirmation whether a taken
        payment is now paid or failed."""
        ...


class Collector(Protocol):
    """Charges a customer's card or direct-debit mandate for the collection run.

    The run writes each attempt with its idempotency key (committed) before charging, and an
    attempt left pending by a dead run is charged again with the same key; so the collector
    must answer a key it has seen with its first answer, never a second charge. That repeat
    is the lookup recovery needs: there is no separate one."""

    def charge(self, idempotency_key: str, method: str, amount_minor: int, currency: str) -> Charge:
        """Charge the amount by the method (a CustomerPaymentMethod value) under this key."""
        ...

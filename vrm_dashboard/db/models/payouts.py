"""Payouts (what is owed per approved invoice) and the transfers that pay them."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum

from sqlalchemy import BigInteger, Column, Index, Numeric, UniqueConstraint
from sqlmodel import Field, SQLModel

from vrm_dashboard.db.models._base import utcnow


class PayoutStatus(str, Enum):
    PAYOUT_APPROVAL = "payout_approval"
    AWAITING_PAYOUT = "awaiting_payout"
    PROCESSING = "processing"
    PAID = "paid"
    FAILED = "failed"
    IN_REVIEW = "in_review"
    # Its invoice was archived, rejected, re-issued or its approval withdrawn: never paid.
    VOIDED = "voided"


class TransactionStatus(str, Enum):
    NEW = "new"
    PROCESSING = "processing"
    PAID = "paid"
    FAILED = "failed"
    # The outcome is unknown and retrying could pay twice: a person decides.
    IN_REVIEW = "in_review"


class Payout(SQLModel, table=True):
    """One approved invoice waiting to be paid, then paid by exactly one transaction."""

    __table_args__ = (
        Index("ix_payout_status_pay_date", "status", "pay_date"),
        # Covers the dashboard totals per status and currency.
        Index("ix_payout_status_totals", "status", "currency", "amount_minor"),
    )

    id: int | None = Field(default=None, primary_key=True)
    invoice_id: int = Field(foreign_key="invoice.id", index=True)
    vendor_id: int = Field(foreign_key="vendor.id", index=True)
    amount_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    currency: str = Field(max_length=3)
    status: str = Field(max_length=16)
    rail: str = Field(max_length=16)
    pay_date: date
    # Unique so that a retried or duplicated run can never create a second payout.
    idempotency_key: str = Field(max_length=64, unique=True)
    # Whoever approved the invoice created the payout; they may not also approve the payout.
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    approved_by_id: int | None = Field(default=None, foreign_key="user.id")
    transaction_id: int | None = Field(default=None, foreign_key="payment_transaction.id", index=True)
    failure_reason: str | None = Field(default=None, max_length=255)
    paid_at: datetime | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class PayoutApproval(SQLModel, table=True):
    __tablename__ = "payout_approval"
    __table_args__ = (UniqueConstraint("payout_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    payout_id: int = Field(foreign_key="payout.id", index=True)
    user_id: int = Field(foreign_key="user.id")
    user_label: str = Field(max_length=254)
    at: datetime = Field(default_factory=utcnow)


class PaymentTransaction(SQLModel, table=True):
    """One transfer to one vendor through one rail, covering one or more payouts.

    Its idempotency key goes to the rail with every attempt, so a resubmission after a crash
    is recognised there instead of paying again.
    """

    __tablename__ = "payment_transaction"
    __table_args__ = (Index("ix_payment_transaction_status_rail", "status", "rail"),)

    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int | None = Field(default=None, foreign_key="vendor.id", index=True)
    rail: str = Field(default="manual", max_length=16)
    status: str = Field(max_length=16)
    idempotency_key: str | None = Field(default=None, max_length=64, unique=True)
    payout_count: int = Field(default=1)
    source_currency: str = Field(max_length=3)
    source_amount_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    target_currency: str = Field(max_length=3)
    target_amount_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    rate: Decimal | None = Field(default=None, sa_column=Column(Numeric(18, 8), nullable=True))
    rate_source: str | None = Field(default=None, max_length=60)
    # The vendor's payout account as cleared for this transfer (a keyed hash, never the details):
    # it is paid only to those details.
    bank_fingerprint: str | None = Field(default=None, max_length=64)
    # Our end-to-end reference (VRM + id): in the file, at the provider, on the bank statement.
    reference: str | None = Field(default=None, max_length=64, index=True)
    # What confirmed the payment: the provider's payment id, or the bank's reference.
    confirmation_reference: str | None = Field(default=None, max_length=64)
    failure_reason: str | None = Field(default=None, max_length=255)
    attempts: int = Field(default=0)
    next_attempt_at: datetime | None = Field(default=None)
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_at: datetime | None = Field(default=None)
    first_claimed_at: datetime | None = Field(default=None)
    submitted_at: datetime | None = Field(default=None)
    paid_at: datetime | None = Field(default=None)
    file_id: int | None = Field(default=None, foreign_key="payment_file.id", index=True)
    confirmation_document_id: int | None = Field(default=None, foreign_key="stored_document.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class PaymentFile(SQLModel, table=True):
    """A SEPA or NACHA file: built and stored once, then delivered to the bank outbox."""

    __tablename__ = "payment_file"

    id: int | None = Field(default=None, primary_key=True)
    rail: str = Field(max_length=16)
    # The organization whose record this is: every read and write is scoped to it (services/platform/tenancy.py).
    owner_id: int | None = Field(default=None, foreign_key="organization.id", index=True, nullable=False)
    reference: str = Field(max_length=35, unique=True)
    currency: str = Field(max_length=3)
    transfer_count: int
    total_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    document_id: int = Field(foreign_key="stored_document.id")
    delivered_at: datetime | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow)


class ExchangeRate(SQLModel, table=True):
    """Units of `currency` per one euro on a day (ECB reference-rate convention)."""

    __tablename__ = "exchange_rate"
    __table_args__ = (UniqueConstraint("rate_date", "currency"),)

    id: int | None = Field(default=None, primary_key=True)
    rate_date: date
    currency: str = Field(max_length=3)
    per_euro: Decimal = Field(sa_column=Column(Numeric(18, 8), nullable=False))
    source: str = Field(max_length=60)


class BankStatement(SQLModel, table=True):
    __tablename__ = "bank_statement"
    # A statement is imported once per organization: two organizations paying from one account
    # may each import the same file (its bytes are stored once).
    __table_args__ = (UniqueConstraint("owner_id", "document_id", name="uq_bank_statement_owner_document"),)

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="stored_document.id")
    # The organization whose record this is: every read and write is scoped to it (services/platform/tenancy.py).
    owner_id: int | None = Field(default=None, foreign_key="organization.id", index=True, nullable=False)
    filename: str = Field(max_length=255)
    format: str = Field(max_length=16)
    line_count: int
    imported_by_id: int | None = Field(default=None, foreign_key="user.id")
    imported_at: datetime = Field(default_factory=utcnow)


class StatementLine(SQLModel, table=True):
    """One booked line and what reconciliation made of it."""

    __tablename__ = "statement_line"
    __table_args__ = (Index("ix_statement_line_outcome", "outcome", "statement_id"),)

    id: int | None = Field(default=None, primary_key=True)
    statement_id: int = Field(foreign_key="bank_statement.id", index=True)
    line_no: int
    booking_date: date
    # Signed: money leaving the account is negative.
    amount_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    currency: str = Field(max_length=3)
    reference: str = Field(default="", max_length=140)
    counterparty: str = Field(default="", max_length=140)
    description: str = Field(default="", max_length=255)
    # The same booking seen twice (two imports of overlapping statements) has the same key.
    line_key: str = Field(max_length=64, index=True)
    outcome: str = Field(max_length=16)
    note: str = Field(default="", max_length=255)
    transaction_id: int | None = Field(default=None, foreign_key="payment_transaction.id", index=True)
    invoice_id: int | None = Field(default=None, foreign_key="invoice.id")

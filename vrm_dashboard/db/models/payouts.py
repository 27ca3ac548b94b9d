from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum

from sqlalchemy import BigInteger, Column, Index, Numeric
from sqlmodel import Field, SQLModel

from vrm_dashboard.db.models._base import utcnow


class PayoutStatus(str, Enum):
    PAYOUT_APPROVAL = "payout_approval"
    AWAITING_PAYOUT = "awaiting_payout"
    PROCESSING = "processing"
    PAID = "paid"
    FAILED = "failed"
    IN_REVIEW = "in_review"


class TransactionStatus(str, Enum):
    NEW = "new"
    PROCESSING = "processing"
    PAID = "paid"
    FAILED = "failed"


class Payout(SQLModel, table=True):
    __table_args__ = (Index("ix_payout_status_pay_date", "status", "pay_date"),)

    id: int | None = Field(default=None, primary_key=True)
    invoice_id: int = Field(foreign_key="invoice.id", index=True)
    vendor_id: int = Field(foreign_key="vendor.id", index=True)
    amount_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    currency: str = Field(max_length=3)
    status: str = Field(max_length=16)
    rail: str = Field(max_length=16)
    pay_date: date
    # Unique so that a retried or duplicated run can never create a second payment.
    idempotency_key: str = Field(max_length=64, unique=True)
    approved_by_id: int | None = Field(default=None, foreign_key="user.id")
    failure_reason: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class PaymentTransaction(SQLModel, table=True):
    __tablename__ = "payment_transaction"

    id: int | None = Field(default=None, primary_key=True)
    payout_id: int = Field(foreign_key="payout.id", index=True)
    status: str = Field(max_length=16, index=True)
    source_currency: str = Field(max_length=3)
    source_amount_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    target_currency: str = Field(max_length=3)
    target_amount_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    rate: Decimal | None = Field(default=None, sa_column=Column(Numeric(18, 8), nullable=True))
    reference: str | None = Field(default=None, max_length=64)
    failure_reason: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

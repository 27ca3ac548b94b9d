"""Payment terms over time, and what was done to get customers' invoices paid."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from vrm_dashboard.db.models._base import utcnow


class PaymentTermsChange(SQLModel, table=True):
    """One change of an organization's terms, effective from the first day of the month after
    it was made: invoices generated before that keep the terms they were issued with."""

    __tablename__ = "payment_terms_change"
    __table_args__ = (Index("ix_payment_terms_change_org", "organization_id", "effective_from"),)

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id")
    # None: the system default (VRM_DEFAULT_PAYMENT_TERMS_DAYS).
    days: int | None = Field(default=None)
    previous_days: int | None = Field(default=None)
    effective_from: date
    changed_at: datetime = Field(default_factory=utcnow)
    changed_by_id: int | None = Field(default=None, foreign_key="user.id")


class CollectionAttempt(SQLModel, table=True):
    """One try at collecting a customer's invoice through the payment collector."""

    __tablename__ = "collection_attempt"

    id: int | None = Field(default=None, primary_key=True)
    invoice_id: int = Field(foreign_key="invoice.id", index=True)
    # Sent to the collector, which charges a key once however often it is asked.
    idempotency_key: str = Field(max_length=64, unique=True)
    attempted_at: datetime = Field(default_factory=utcnow, index=True)
    method: str = Field(max_length=16)
    outcome: str = Field(max_length=16)
    amount_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    currency: str = Field(max_length=3)
    reference: str | None = Field(default=None, max_length=64)
    failure_reason: str | None = Field(default=None, max_length=255)
    # None: the scheduler's own run.
    initiated_by_id: int | None = Field(default=None, foreign_key="user.id")


class PaymentReminder(SQLModel, table=True):
    """A reminder of one stage of the schedule (days from the due date), sent once."""

    __tablename__ = "payment_reminder"
    __table_args__ = (UniqueConstraint("invoice_id", "stage", name="uq_payment_reminder_stage"),)

    id: int | None = Field(default=None, primary_key=True)
    invoice_id: int = Field(foreign_key="invoice.id")
    stage: int
    created_at: datetime = Field(default_factory=utcnow)

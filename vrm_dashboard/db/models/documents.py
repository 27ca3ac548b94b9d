from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, LargeBinary, Text
from sqlmodel import Field, SQLModel

from vrm_dashboard.db.models._base import utcnow


class StoredDocument(SQLModel, table=True):
    """A file kept once and never changed: the database refuses updates (see migrations)."""

    __tablename__ = "stored_document"

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(max_length=64, unique=True)
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=100)
    size_bytes: int
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class EmailDelivery(SQLModel, table=True):
    """One e-mail to send: an invoice (or credit note) to its recipient, or the remittance
    advice of a paid transfer. An invoice is distributed once: its row is unique."""

    __tablename__ = "email_delivery"
    __table_args__ = (Index("ix_email_delivery_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    # The organization whose record this is: every read and write is scoped to it (services/platform/tenancy.py).
    owner_id: int | None = Field(default=None, foreign_key="organization.id", index=True, nullable=False)
    invoice_id: int | None = Field(default=None, foreign_key="invoice.id", unique=True)
    # A remittance advice for this paid transfer (payouts); invoices use invoice_id.
    transaction_id: int | None = Field(default=None, foreign_key="payment_transaction.id", index=True)
    # A payment reminder (collection); invoices use invoice_id.
    reminder_id: int | None = Field(default=None, foreign_key="payment_reminder.id", unique=True)
    document_id: int | None = Field(default=None, foreign_key="stored_document.id")
    # A plain message of our own (an invitation): no invoice, transfer or reminder behind it.
    body: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    recipient: str = Field(max_length=254)
    subject: str = Field(max_length=255)
    status: str = Field(max_length=16, index=True)
    # Why a held invoice was not sent, one reason per line.
    hold_reasons: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    message_id: str | None = Field(default=None, max_length=255)
    # The secret in the recipient's view and dispute links.
    token: str | None = Field(default=None, max_length=64, unique=True)
    attempts: int = Field(default=0)
    next_attempt_at: datetime | None = Field(default=None)
    claimed_at: datetime | None = Field(default=None)
    last_error: str | None = Field(default=None, max_length=500)
    # The distribution deadline: 24 hours after the invoice's trigger was seen to hold.
    send_by: datetime | None = Field(default=None)
    alerted_at: datetime | None = Field(default=None)
    sent_at: datetime | None = Field(default=None, index=True)
    bounced_at: datetime | None = Field(default=None)
    viewed_at: datetime | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow)

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary
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
    __tablename__ = "email_delivery"

    id: int | None = Field(default=None, primary_key=True)
    invoice_id: int | None = Field(default=None, foreign_key="invoice.id", index=True)
    # A remittance advice for this paid transfer (payouts); invoices use invoice_id.
    transaction_id: int | None = Field(default=None, foreign_key="payment_transaction.id", index=True)
    document_id: int | None = Field(default=None, foreign_key="stored_document.id")
    recipient: str = Field(max_length=254)
    subject: str = Field(max_length=255)
    status: str = Field(max_length=16, index=True)
    message_id: str | None = Field(default=None, max_length=255)
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, max_length=500)
    sent_at: datetime | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow)

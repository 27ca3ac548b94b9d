"""What recipients say about the invoices they were sent."""
from __future__ import annotations

from datetime import datetime
from enum import Enum

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from vrm_dashboard.db.models._base import utcnow


class DisputeStatus(str, Enum):
    OPEN = "open"
    REISSUED = "reissued"
    DISMISSED = "dismissed"


class InvoiceDispute(SQLModel, table=True):
    """A recipient's report of a problem with an invoice, and how the team answered it."""

    __tablename__ = "invoice_dispute"

    id: int | None = Field(default=None, primary_key=True)
    invoice_id: int = Field(foreign_key="invoice.id", index=True)
    # Raised from the portal (a user) or from the e-mail's link (the address it went to).
    raised_by_user_id: int | None = Field(default=None, foreign_key="user.id")
    raised_by_email: str | None = Field(default=None, max_length=254)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default=DisputeStatus.OPEN.value, max_length=16, index=True)
    created_at: datetime = Field(default_factory=utcnow)
    resolved_at: datetime | None = Field(default=None)
    resolved_by_id: int | None = Field(default=None, foreign_key="user.id")
    resolution: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    credit_note_id: int | None = Field(default=None, foreign_key="invoice.id")
    reissued_invoice_id: int | None = Field(default=None, foreign_key="invoice.id")

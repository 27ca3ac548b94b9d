from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum

import sqlalchemy as sa
from sqlalchemy import BigInteger, Column, Index, Numeric
from sqlmodel import Field, SQLModel

from vrm_dashboard.db.models._base import utcnow


class InvoiceKind(str, Enum):
    SELF_GENERATED = "self_generated"
    PARSED = "parsed"


class DocumentType(str, Enum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class Invoice(SQLModel, table=True):
    """A payable (vendor_id set) or a receivable (organization_id set)."""

    __table_args__ = (
        # Covers the per-vendor rollup (services.invoices.rollup): an index-only grouped scan.
        Index("ix_invoice_vendor_rollup", "vendor_id", "currency", "status", "total_minor"),
        Index("ix_invoice_status_due", "status", "due_date"),
        Index("ix_invoice_issue_date", "issue_date"),
        # An organization's first page: its newest invoices.
        Index("ix_invoice_owner_issue_date", "owner_id", "issue_date"),
        # Distribution looks only at invoices changed since it last looked.
        Index("ix_invoice_updated_at", "updated_at"),
        Index("ix_invoice_dup_key", "vendor_id", "total_minor", "issue_date"),
        Index("ix_invoice_vendor_number", "vendor_invoice_number", "vendor_id"),
        Index("ix_invoice_vendor_period", "vendor_id", "billing_period"),
    )

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=64, unique=True)
    kind: str = Field(max_length=16)
    # The number printed on a vendor's own (parsed) invoice; ours is `number`.
    vendor_invoice_number: str | None = Field(default=None, max_length=64)
    # The month (YYYY-MM) a self-generated invoice bills.
    billing_period: str | None = Field(default=None, max_length=7)
    vendor_id: int | None = Field(default=None, foreign_key="vendor.id")
    # A receivable's customer (billed); it reads the invoice too. The issuer owns it.
    organization_id: int | None = Field(default=None, foreign_key="organization.id", index=True)
    # The organization whose record this is: the payer of a payable, the issuer of a receivable.
    owner_id: int | None = Field(default=None, foreign_key="organization.id", nullable=False)
    currency: str = Field(max_length=3)
    subtotal_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    tax_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    total_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    issue_date: date
    posting_date: date | None = Field(default=None)
    due_date: date | None = Field(default=None)
    payment_terms_days: int | None = Field(default=None)
    payment_method: str = Field(default="unknown", max_length=16)
    # Indexed through ix_invoice_status_due, whose leading column it is.
    status: str = Field(max_length=16)
    document_id: int | None = Field(default=None, foreign_key="stored_document.id")
    # What the invoice is checked against: the activity data's amount for a self-generated
    # invoice, the purchase order or contract amount for a parsed one (None: no source).
    source_amount_minor: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    source_kind: str | None = Field(default=None, max_length=16)
    rejection_reason: str | None = Field(default=None, max_length=500)
    # A credit note cancels the invoice it corrects; a revision (1, 2, ...) replaces it.
    document_type: str = Field(default=DocumentType.INVOICE.value, max_length=16,
                               sa_column_kwargs={"server_default": DocumentType.INVOICE.value})
    corrects_invoice_id: int | None = Field(default=None, foreign_key="invoice.id", index=True)
    revision: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # A customer invoice gathered into its organization's monthly consolidated invoice.
    consolidated_into_id: int | None = Field(default=None, foreign_key="invoice.id", index=True)
    reminders_stopped: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    updated_by_id: int | None = Field(default=None, foreign_key="user.id")
    # Who last sent it to approval (Pending); None when the system did. Segregation of duties
    # keeps them from approving it and its payout.
    submitted_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class InvoiceLine(SQLModel, table=True):
    __tablename__ = "invoice_line"

    id: int | None = Field(default=None, primary_key=True)
    invoice_id: int = Field(foreign_key="invoice.id", index=True)
    position: int
    description: str = Field(max_length=255)
    quantity: Decimal = Field(sa_column=Column(Numeric(18, 6), nullable=False))
    unit_price_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    amount_minor: int = Field(sa_column=Column(BigInteger, nullable=False))

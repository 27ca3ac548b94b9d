from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from vrm_dashboard.db.models._base import utcnow


class Vendor(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    vendor_code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=120, index=True)
    legal_name: str = Field(max_length=120)
    email: str = Field(max_length=254)
    country: str = Field(max_length=2)
    currency: str = Field(max_length=3)
    payment_method: str = Field(max_length=16, index=True)
    payment_source: str = Field(max_length=40)
    iban: str | None = Field(default=None, max_length=34)
    bic: str | None = Field(default=None, max_length=11)
    account_number: str | None = Field(default=None, max_length=17)
    routing_number: str | None = Field(default=None, max_length=9)
    paypal_email: str | None = Field(default=None, max_length=254)
    tax_id: str | None = Field(default=None, max_length=32)
    vat_id: str | None = Field(default=None, max_length=16)
    activity_status: str = Field(max_length=16, index=True)
    organization_id: int | None = Field(default=None, foreign_key="organization.id", index=True)
    bank_details_changed_at: datetime | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class VendorContact(SQLModel, table=True):
    __tablename__ = "vendor_contact"

    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(foreign_key="vendor.id", index=True)
    name: str = Field(max_length=120)
    email: str = Field(max_length=254)
    role: str = Field(default="", max_length=60)
    phone: str = Field(default="", max_length=32)


class VendorBalance(SQLModel, table=True):
    """Per-vendor, per-currency invoiced, paid and open amounts, derived from the invoice
    rollup (services.invoice_rollup) so the vendor dashboard sums ten thousand rows, not a
    million."""

    __tablename__ = "vendor_balance"
    __table_args__ = (UniqueConstraint("vendor_id", "currency"),)

    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(foreign_key="vendor.id", index=True)
    currency: str = Field(max_length=3)
    invoice_count: int = Field(default=0)
    invoiced_minor: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    paid_count: int = Field(default=0)
    paid_minor: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    open_minor: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))

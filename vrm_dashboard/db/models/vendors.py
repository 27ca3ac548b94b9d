from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from vrm_dashboard.db.models._base import utcnow


class Vendor(SQLModel, table=True):
    # A vendor ID is its payer's own: two organizations may each have a V00042.
    __table_args__ = (
        UniqueConstraint("owner_id", "vendor_code", name="uq_vendor_owner_code"),
        # An organization's vendor list, in its default order, is one index range.
        Index("ix_vendor_owner_name", "owner_id", "name"),
    )

    id: int | None = Field(default=None, primary_key=True)
    vendor_code: str = Field(max_length=32)
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
    # The organization whose record this is: every read and write is scoped to it (services/platform/tenancy.py).
    owner_id: int | None = Field(default=None, foreign_key="organization.id", index=True, nullable=False)
    address: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    website: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=32)
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
    rollup (services.invoices.rollup) so the vendor dashboard sums ten thousand rows, not a
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


class VendorOnboarding(SQLModel, table=True):
    """A vendor joining by invitation or sign-up, until a reviewer approves it."""

    __tablename__ = "vendor_onboarding"

    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(foreign_key="vendor.id", unique=True)
    source: str = Field(max_length=16)
    state: str = Field(max_length=24, index=True)
    invited_by_id: int | None = Field(default=None, foreign_key="user.id")
    submitted_at: datetime | None = Field(default=None)
    reviewed_at: datetime | None = Field(default=None)
    reviewed_by_id: int | None = Field(default=None, foreign_key="user.id")
    review_note: str | None = Field(default=None, max_length=1000)
    created_at: datetime = Field(default_factory=utcnow)


class VendorTaxForm(SQLModel, table=True):
    """The vendor's signed W-9, W-8BEN or W-8BEN-E: the latest one counts."""

    __tablename__ = "vendor_tax_form"

    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(foreign_key="vendor.id", unique=True)
    form: str = Field(max_length=8)
    name: str = Field(max_length=120)
    business_name: str | None = Field(default=None, max_length=120)
    classification: str = Field(max_length=40)
    country: str = Field(max_length=2)
    address: str = Field(sa_column=Column(Text, nullable=False))
    tin: str | None = Field(default=None, max_length=16)
    foreign_tin: str | None = Field(default=None, max_length=32)
    date_of_birth: date | None = Field(default=None)
    treaty_country: str | None = Field(default=None, max_length=2)
    chapter4_status: str | None = Field(default=None, max_length=40)
    giin: str | None = Field(default=None, max_length=19)
    signer_name: str = Field(max_length=120)
    signed_at: datetime = Field(default_factory=utcnow)
    signed_by_id: int | None = Field(default=None, foreign_key="user.id")


class VendorDocument(SQLModel, table=True):
    """A file a vendor gave us about itself (registration, bank letter), kept as stored."""

    __tablename__ = "vendor_document"

    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(foreign_key="vendor.id", index=True)
    document_id: int = Field(foreign_key="stored_document.id")
    kind: str = Field(max_length=16)
    uploaded_by_id: int | None = Field(default=None, foreign_key="user.id")
    uploaded_at: datetime = Field(default_factory=utcnow)


class VendorWidgetLink(SQLModel, table=True):
    """A link to a vendor's embeddable widget. Its signed token names this row, so the vendor
    and staff can list the links made and revoke one before it expires."""

    __tablename__ = "widget_link"

    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(foreign_key="vendor.id", index=True)
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    revoked_at: datetime | None = Field(default=None)
    revoked_by_id: int | None = Field(default=None, foreign_key="user.id")

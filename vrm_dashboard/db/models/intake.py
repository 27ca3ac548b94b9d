"""What came in: activity sources and their rows, rate rules, and every intake attempt."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Column, Index, Numeric, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from vrm_dashboard.db.models._base import utcnow


class ActivitySource(SQLModel, table=True):
    """Where activity data comes from: uploads of one kind of file, or a connector. The column
    mapping is chosen once and kept here; the cursor is how far a connector has read."""

    __tablename__ = "activity_source"
    # A source's name is its organization's own.
    __table_args__ = (UniqueConstraint("owner_id", "name", name="uq_activity_source_owner_name"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80)
    # The organization whose record this is: every read and write is scoped to it (services/platform/tenancy.py).
    owner_id: int | None = Field(default=None, foreign_key="organization.id", index=True, nullable=False)
    kind: str = Field(max_length=16)  # upload, drop_folder, http_json, sql
    column_mapping: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    config: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    cursor: str | None = Field(default=None, max_length=255)
    enabled: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ActivityRecord(SQLModel, table=True):
    """One row of activity: what a vendor did, keyed by its source and row identity so the same
    row imported twice is stored once."""

    __tablename__ = "activity_record"
    __table_args__ = (
        UniqueConstraint("source_id", "row_key"),
        Index("ix_activity_unbilled", "vendor_id", "invoice_id", "period"),
    )

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="activity_source.id")
    row_key: str = Field(max_length=64)
    intake_id: int = Field(foreign_key="intake.id")
    vendor_id: int = Field(foreign_key="vendor.id")
    activity_type: str = Field(max_length=40)
    occurred_on: date
    period: str = Field(max_length=7)  # YYYY-MM
    quantity: Decimal = Field(sa_column=Column(Numeric(18, 6), nullable=False))
    revenue_minor: int = Field(sa_column=Column(BigInteger, nullable=False))
    currency: str = Field(max_length=3)
    # Found through ix_activity_unbilled, always with the vendor: one index less to keep up
    # when a million rows are billed at once.
    invoice_id: int | None = Field(default=None, foreign_key="invoice.id")


class RateCard(SQLModel, table=True):
    """A vendor's terms for self-billing: currency, a flat fee per period, and the minimum
    amount below which nothing is invoiced (the activity carries over to the next period)."""

    __tablename__ = "rate_card"

    vendor_id: int = Field(foreign_key="vendor.id", primary_key=True)
    currency: str = Field(max_length=3)
    flat_fee_minor: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    minimum_payout_minor: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow)


class RateRule(SQLModel, table=True):
    """What one kind of activity earns a vendor: a rate per unit, a share of revenue, or both."""

    __tablename__ = "rate_rule"
    __table_args__ = (UniqueConstraint("vendor_id", "activity_type"),)

    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(foreign_key="vendor.id")
    activity_type: str = Field(max_length=40)
    per_unit_rate: Decimal | None = Field(default=None, sa_column=Column(Numeric(18, 6), nullable=True))
    revenue_share_percent: Decimal | None = Field(default=None, sa_column=Column(Numeric(9, 4), nullable=True))


class Intake(SQLModel, table=True):
    """Every file or message that arrived, accepted or not, with what became of it."""

    __tablename__ = "intake"

    id: int | None = Field(default=None, primary_key=True)
    # The organization whose record this is: every read and write is scoped to it (services/platform/tenancy.py).
    owner_id: int | None = Field(default=None, foreign_key="organization.id", index=True, nullable=False)
    channel: str = Field(max_length=16)  # upload, api, cli, mailbox, portal, connector
    kind: str = Field(max_length=16)  # activity, vendors, invoice
    filename: str = Field(max_length=255)
    sha256: str = Field(max_length=64, index=True)
    size_bytes: int = Field(default=0)
    status: str = Field(max_length=16, index=True)  # accepted, failed, duplicate
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    rows_total: int = Field(default=0)
    rows_new: int = Field(default=0)
    source_id: int | None = Field(default=None, foreign_key="activity_source.id")
    document_id: int | None = Field(default=None, foreign_key="stored_document.id")
    invoice_id: int | None = Field(default=None, foreign_key="invoice.id")
    sender: str | None = Field(default=None, max_length=254)
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow, index=True)


class InvoiceExtraction(SQLModel, table=True):
    """What the parser read off a vendor's invoice, field by field with its confidence, the
    vendor suggestions, and why the invoice is still a Draft (if it is)."""

    __tablename__ = "invoice_extraction"

    invoice_id: int = Field(foreign_key="invoice.id", primary_key=True)
    intake_id: int = Field(foreign_key="intake.id")
    method: str = Field(max_length=16)  # einvoice, text
    fields: str = Field(sa_column=Column(Text, nullable=False))
    suggestions: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    problems: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    sender_email: str | None = Field(default=None, max_length=254)
    # A PDF's printed text with its places (parsing/extraction.Layout as JSON), kept so a person's
    # correction can be looked up on the page it was read from (parsing/hints); None for an e-invoice.
    layout: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class VendorReadingHint(SQLModel, table=True):
    """Where a vendor prints a field, learned from a person's correction of one of its invoices
    (parsing/hints.Hint): read there first on its next invoices. A vendor's own: it is scoped
    through its vendor, and one vendor's corrections never change another's reading."""

    __tablename__ = "vendor_reading_hint"
    __table_args__ = (UniqueConstraint("vendor_id", "field", name="uq_vendor_reading_hint_vendor_field"),)

    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(foreign_key="vendor.id", index=True)
    field: str = Field(max_length=32)  # the reader's name: invoice_number, issue_date, total, ...
    relation: str = Field(max_length=16)  # inline, right, below (of its label), region
    label: str | None = Field(default=None, max_length=120)
    page: int = Field(default=0)  # from 0
    # Its box as fractions of the page: x0, top, x1, bottom.
    x0: float = Field(default=0.0)
    top: float = Field(default=0.0)
    x1: float = Field(default=0.0)
    bottom: float = Field(default=0.0)
    format: str | None = Field(default=None, max_length=120)  # a date's order, a number's shape
    # The invoice whose correction taught it, by number (it may be deleted since: no key).
    learned_from: str = Field(max_length=64)
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by_id: int | None = Field(default=None, foreign_key="user.id")

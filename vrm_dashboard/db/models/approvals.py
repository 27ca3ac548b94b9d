"""What the approval flow records beside the invoice: approvals, reconciliation flags,
per-status rollups, settings, per-user preferences and notifications."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from vrm_dashboard.db.models._base import utcnow


class InvoiceApproval(SQLModel, table=True):
    """One approver's approval; two distinct rows are needed above the threshold."""

    __tablename__ = "invoice_approval"
    __table_args__ = (UniqueConstraint("invoice_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    invoice_id: int = Field(foreign_key="invoice.id", index=True)
    user_id: int = Field(foreign_key="user.id")
    user_label: str = Field(max_length=254)
    at: datetime = Field(default_factory=utcnow)


class InvoiceFlag(SQLModel, table=True):
    """A reconciliation finding on an invoice (amount_mismatch, missing_source, duplicate)."""

    __tablename__ = "invoice_flag"
    __table_args__ = (Index("ix_invoice_flag_flag_invoice", "flag", "invoice_id"),)

    invoice_id: int = Field(foreign_key="invoice.id", primary_key=True)
    flag: str = Field(max_length=24, primary_key=True)
    detail: str = Field(default="", max_length=255)


class InvoiceRollup(SQLModel, table=True):
    """Invoice count and amount per vendor, currency and status.

    Dashboards sum this small table instead of scanning every invoice; the invoice services
    refresh it for the vendors they touch in the same transaction (services.invoices.rollup).
    """

    __tablename__ = "invoice_rollup"
    # Cover the status totals, so they are read in index order instead of sorted per request:
    # one organization's (its own range) and the installation's (a platform admin's overview).
    __table_args__ = (
        Index("ix_invoice_rollup_owner_status", "owner_id", "status", "currency", "invoice_count", "amount_minor"),
        Index("ix_invoice_rollup_status", "status", "currency", "invoice_count", "amount_minor"),
    )

    vendor_id: int = Field(foreign_key="vendor.id", primary_key=True)
    # The vendor's owner, kept here so an organization's totals are one index range rather than
    # a lookup of each of its vendors.
    owner_id: int = Field(foreign_key="organization.id")
    currency: str = Field(max_length=3, primary_key=True)
    status: str = Field(max_length=16, primary_key=True)
    invoice_count: int = Field(default=0)
    amount_minor: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))


class AppSetting(SQLModel, table=True):
    """A setting of the installation (JSON value): an installation-wide one, or the value of a
    business setting for every organization that has not set its own."""

    __tablename__ = "app_setting"

    key: str = Field(max_length=80, primary_key=True)
    value: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by_id: int | None = Field(default=None, foreign_key="user.id")


class OrganizationSetting(SQLModel, table=True):
    """One organization's own value of a business setting (JSON value): its approval thresholds,
    payout controls, branding, reminder days."""

    __tablename__ = "organization_setting"

    owner_id: int = Field(foreign_key="organization.id", primary_key=True)
    key: str = Field(max_length=80, primary_key=True)
    value: str = Field(sa_column=Column(Text, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by_id: int | None = Field(default=None, foreign_key="user.id")


class UserPreference(SQLModel, table=True):
    __tablename__ = "user_preference"

    user_id: int = Field(foreign_key="user.id", primary_key=True)
    key: str = Field(max_length=80, primary_key=True)
    value: str = Field(sa_column=Column(Text, nullable=False))


class Notification(SQLModel, table=True):
    """A message for a vendor (its portal) or a user; e-mail delivery builds on it."""

    id: int | None = Field(default=None, primary_key=True)
    # The organization whose record this is: every read and write is scoped to it (services/platform/tenancy.py).
    owner_id: int | None = Field(default=None, foreign_key="organization.id", index=True, nullable=False)
    vendor_id: int | None = Field(default=None, foreign_key="vendor.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    invoice_id: int | None = Field(default=None, foreign_key="invoice.id")
    subject: str = Field(max_length=200)
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    read_at: datetime | None = Field(default=None)

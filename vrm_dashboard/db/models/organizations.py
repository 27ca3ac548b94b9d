from __future__ import annotations

from datetime import datetime
from enum import Enum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from vrm_dashboard.db.models._base import utcnow


class OrganizationTier(str, Enum):
    DISTRIBUTOR = "distributor"
    DIRECT_CUSTOMER = "direct_customer"
    SELLER = "seller"
    END_CUSTOMER = "end_customer"


class Organization(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120, index=True)
    tier: str = Field(max_length=20, index=True)
    parent_id: int | None = Field(default=None, foreign_key="organization.id", index=True)
    erp_id: str | None = Field(default=None, max_length=64, unique=True)
    country: str = Field(max_length=2)
    # None means "uses the system default", so a change of default reaches it.
    payment_terms_days: int | None = Field(default=None)
    is_active: bool = Field(default=True)
    billing_email: str | None = Field(default=None, max_length=254)
    # Printed on its invoices, one line per address line.
    billing_address: str | None = Field(default=None, max_length=500)
    # The customer needs EU e-invoices: its invoice PDFs carry Factur-X XML.
    wants_einvoice: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    # What the collector may charge: "credit_card" or "ach" (a direct-debit mandate); None:
    # the customer pays by wire transfer, which only a bank statement confirms.
    collection_method: str | None = Field(default=None, max_length=16)
    # Its invoices of a month are gathered into one consolidated invoice.
    consolidates_monthly: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    reminders_stopped: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    # Who last changed the terms; no foreign key, as users also point at organizations.
    updated_by_id: int | None = Field(default=None)

"""Everything printed on an invoice or credit note, as plain values: the renderers read only
this, so they need no database and a test can build one by hand."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class Party:
    name: str
    address_lines: tuple[str, ...] = ()
    country: str = ""
    tax_id: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class DocumentLine:
    description: str
    quantity: Decimal
    unit_price_minor: int
    amount_minor: int


@dataclass(frozen=True)
class Branding:
    company_name: str
    address_lines: tuple[str, ...] = ()
    contact_email: str = ""
    # "#RRGGBB"
    colour: str = "#1F4E79"
    logo: bytes | None = None
    terms: str = ""


@dataclass(frozen=True)
class InvoiceDocument:
    number: str
    issue_date: date
    due_date: date | None
    currency: str
    seller: Party
    buyer: Party
    lines: tuple[DocumentLine, ...]
    subtotal_minor: int
    tax_minor: int
    total_minor: int
    payment_status: str
    payment_method: str
    branding: Branding
    is_credit_note: bool = False
    # "vendor": the self-billing variant a vendor receives; "customer": a customer's invoice.
    audience: str = "customer"
    transaction_reference: str | None = None
    payment_terms_days: int | None = None
    order_numbers: tuple[str, ...] = ()
    billing_period: str | None = None
    corrects_number: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def title(self) -> str:
        if self.is_credit_note:
            return "CREDIT NOTE"
        return "SELF-BILLING INVOICE" if self.audience == "vendor" else "INVOICE"

    @property
    def tax_rate_percent(self) -> Decimal:
        if not self.subtotal_minor:
            return Decimal(0)
        return (Decimal(self.tax_minor) * 100 / Decimal(self.subtotal_minor)).quantize(Decimal("0.01"))

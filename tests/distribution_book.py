"""Invoices ready to be distributed: a vendor's self-billing invoices and a customer's invoice."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlmodel import Session

from tests.helpers import SYSTEM, vendor_input
from vrm_dashboard.db.models import Invoice, InvoiceLine, Organization, Vendor
from vrm_dashboard.services.vendors import records as vendors


@dataclass
class DistributionBook:
    vendor: Vendor
    organization: Organization
    paid: Invoice  # self-billing, payment confirmed
    approved: Invoice  # self-billing, not paid yet
    customer: Invoice  # a customer's invoice, approved (order completed)


def add_invoice(session: Session, number: str, status: str, vendor_id: int | None = None,
                organization_id: int | None = None, lines: tuple[tuple[str, str, int], ...] = (
                    ("Sponsored post", "2", 10_000), ("Banner campaign", "1", 5_000)),
                tax_rate_percent: int = 19, kind: str = "self_generated") -> Invoice:
    subtotal = sum(int(Decimal(q) * price) for _d, q, price in lines)
    tax = subtotal * tax_rate_percent // 100
    invoice = Invoice(number=number, kind=kind, vendor_id=vendor_id, organization_id=organization_id,
                      currency="EUR", subtotal_minor=subtotal, tax_minor=tax, total_minor=subtotal + tax,
                      issue_date=date(2026, 11, 2), due_date=date(2026, 12, 2), payment_terms_days=30,
                      payment_method="sepa", status=status, billing_period="2026-10")
    session.add(invoice)
    session.flush()
    for position, (description, quantity, price) in enumerate(lines, start=1):
        session.add(InvoiceLine(invoice_id=invoice.id, position=position, description=description,
                                quantity=Decimal(quantity), unit_price_minor=price,
                                amount_minor=int(Decimal(quantity) * price)))
    session.flush()
    return invoice


def distribution_book(session: Session) -> DistributionBook:
    vendor = vendors.create_vendor(session, SYSTEM, vendor_input(vat_id="DE136695976"))
    organization = Organization(name="Globex Trading", tier="direct_customer", country="FR",
                                billing_email="billing@globex.example",
                                billing_address="1 rue de la Paix\n75001 Paris")
    session.add(organization)
    session.flush()
    book = DistributionBook(
        vendor, organization,
        paid=add_invoice(session, "SB-2026-0001", "paid", vendor_id=vendor.id),
        approved=add_invoice(session, "SB-2026-0002", "approved", vendor_id=vendor.id),
        customer=add_invoice(session, "AR-2026-0042", "approved", organization_id=organization.id),
    )
    session.commit()
    return book

"""An invoice as the document its recipient receives: who it is from and to, under our
branding, rendered as PDF (with Factur-X XML for customers who ask for e-invoices)."""
from __future__ import annotations

from typing import TypeVar

from sqlalchemy import select
from sqlmodel import Session, col

from vrm_dashboard.db import tenancy
from vrm_dashboard.db.models import (
    DocumentType,
    Invoice,
    InvoiceLine,
    Organization,
    PaymentTransaction,
    Payout,
    Vendor,
    stored_id,
)
from vrm_dashboard.domain.distribution_rules import InvoiceType, invoice_type
from vrm_dashboard.domain.invoice_status import InvoiceStatus
from vrm_dashboard.domain.vendor_rules import PAYMENT_METHOD_LABELS, PaymentMethod
from vrm_dashboard.rendering.invoice_document import Branding, DocumentLine, InvoiceDocument, Party
from vrm_dashboard.services.distribution import branding

# What the recipient reads as the payment status.
PAYMENT_STATUS = {
    InvoiceStatus.PAID.value: "Paid", InvoiceStatus.PROCESSING.value: "Payment in progress",
    InvoiceStatus.FAILED.value: "Unpaid", InvoiceStatus.ARCHIVED.value: "Cancelled",
}


def _lines(session: Session, ids: list[int]) -> dict[int, tuple[DocumentLine, ...]]:
    found: dict[int, list[DocumentLine]] = {}
    for r in session.execute(select(InvoiceLine).where(col(InvoiceLine.invoice_id).in_(ids))
                             .order_by(col(InvoiceLine.invoice_id), col(InvoiceLine.position), col(InvoiceLine.id))
                             ).scalars():
        found.setdefault(r.invoice_id, []).append(DocumentLine(r.description, r.quantity, r.unit_price_minor,
                                                               r.amount_minor))
    return {i: tuple(found.get(i, ())) for i in ids}


def _references(session: Session, ids: list[int]) -> dict[int, str]:
    """The reference of the transfer that pays each invoice, once there is one (the latest)."""
    rows = session.execute(select(col(Payout.invoice_id), col(PaymentTransaction.reference))
                           .join(PaymentTransaction, col(PaymentTransaction.id) == Payout.transaction_id)
                           .where(col(Payout.invoice_id).in_(ids)).order_by(col(Payout.id))).all()
    return {invoice_id: reference for invoice_id, reference in rows if reference}


def _method(invoice: Invoice) -> str:
    try:
        return PAYMENT_METHOD_LABELS[PaymentMethod(invoice.payment_method)]
    except ValueError:
        return "Bank transfer"


def _vendor_party(vendor: Vendor) -> Party:
    return Party(vendor.legal_name or vendor.name, (), vendor.country, vendor.vat_id or vendor.tax_id, vendor.email)


def _our_party(brand: Branding) -> Party:
    return Party(brand.company_name, brand.address_lines, "", None, brand.contact_email)


def documents_of(session: Session, invoices: list[Invoice], brand: Branding | None = None) -> dict[int, InvoiceDocument]:
    """Each invoice as its recipient's document, under its owner's branding (or `brand`); a few
    queries for any number of invoices."""
    brands: dict[int, Branding] = {}

    def brand_of(invoice: Invoice) -> Branding:
        if brand is not None:
            return brand
        owner = tenancy.owner(invoice)
        if owner not in brands:
            brands[owner] = branding.current(session, owner)
        return brands[owner]

    ids = [stored_id(i) for i in invoices]
    lines, references = _lines(session, ids), _references(session, ids)
    # Held here, not only in the session's (weak) identity map, so each is read once.
    vendors = _by_id(session, Vendor, {i.vendor_id for i in invoices if i.vendor_id and i.organization_id is None})
    organizations = _by_id(session, Organization, {i.organization_id for i in invoices if i.organization_id})
    corrected = _by_id(session, Invoice, {i.corrects_invoice_id for i in invoices if i.corrects_invoice_id})
    return {key: _document(invoice, brand_of(invoice), lines[key], references.get(key), vendors, organizations,
                           corrected)
            for key, invoice in zip(ids, invoices)}


_Row = TypeVar("_Row", Vendor, Organization, Invoice)


def _by_id(session: Session, model: type[_Row], ids: set[int]) -> dict[int | None, _Row]:
    """The rows with these ids, by id; keyed `int | None` as they are looked up by optional foreign keys."""
    if not ids:
        return {}
    return {row.id: row for row in session.execute(select(model).where(col(model.id).in_(ids))).scalars()}


def _document(invoice: Invoice, brand: Branding, lines: tuple[DocumentLine, ...], reference: str | None,
              vendors: dict[int | None, Vendor], organizations: dict[int | None, Organization],
              corrected: dict[int | None, Invoice]) -> InvoiceDocument:
    kind = invoice_type(invoice.kind, invoice.vendor_id, invoice.organization_id)
    if kind is InvoiceType.CUSTOMER:
        organization = organizations[invoice.organization_id]
        address = tuple(line.strip() for line in (organization.billing_address or "").splitlines() if line.strip())
        seller, buyer = _our_party(brand), Party(organization.name, address, organization.country, None,
                                                 organization.billing_email)
        audience = "customer"
    else:
        # Self-billing: the invoice is the vendor's, issued by us on its behalf and addressed to us.
        seller, buyer, audience = _vendor_party(vendors[invoice.vendor_id]), _our_party(brand), "vendor"
    corrects = corrected.get(invoice.corrects_invoice_id)
    return InvoiceDocument(
        number=invoice.number, issue_date=invoice.issue_date, due_date=invoice.due_date, currency=invoice.currency,
        seller=seller, buyer=buyer, lines=lines,
        subtotal_minor=invoice.subtotal_minor, tax_minor=invoice.tax_minor, total_minor=invoice.total_minor,
        payment_status=PAYMENT_STATUS.get(invoice.status, "Pending" if invoice.due_date is None else "Unpaid"),
        payment_method=_method(invoice), branding=brand,
        is_credit_note=invoice.document_type == DocumentType.CREDIT_NOTE.value, audience=audience,
        transaction_reference=reference, payment_terms_days=invoice.payment_terms_days,
        order_numbers=tuple(n for n in (invoice.vendor_invoice_number,) if n), billing_period=invoice.billing_period,
        corrects_number=corrects.number if corrects is not None else None,
    )


def einvoice_customers(session: Session, invoices: list[Invoice]) -> set[int]:
    """Which of these invoices' customers want Factur-X."""
    org_ids = {i.organization_id for i in invoices if i.organization_id is not None}
    if not org_ids:
        return set()
    return set(session.execute(select(col(Organization.id)).where(col(Organization.id).in_(org_ids),
                                                                  col(Organization.wants_einvoice))).scalars())


def filename_of(invoice: Invoice) -> str:
    prefix = "credit-note" if invoice.document_type == DocumentType.CREDIT_NOTE.value else "invoice"
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in invoice.number)
    return f"{prefix}-{safe}.pdf"

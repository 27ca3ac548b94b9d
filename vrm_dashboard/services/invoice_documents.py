"""An invoice as the document its recipient receives: who it is from and to, under our
branding, rendered as PDF (with Factur-X XML for customers who ask for e-invoices)."""
from __future__ import annotations

from sqlalchemy import select
from sqlmodel import Session

from vrm_dashboard.config import settings
from vrm_dashboard.db.models import (
    DocumentType,
    Invoice,
    InvoiceLine,
    Organization,
    PaymentTransaction,
    Payout,
    StoredDocument,
    Vendor,
)
from vrm_dashboard.domain.distribution_rules import InvoiceType, invoice_type
from vrm_dashboard.domain.invoice_status import InvoiceStatus
from vrm_dashboard.domain.vendor_rules import PAYMENT_METHOD_LABELS, PaymentMethod
from vrm_dashboard.rendering.einvoice_xml import with_einvoice
from vrm_dashboard.rendering.invoice_document import Branding, DocumentLine, InvoiceDocument, Party
from vrm_dashboard.rendering.invoice_pdf import render_invoice
from vrm_dashboard.services import app_settings as cfg

# What the recipient reads as the payment status.
PAYMENT_STATUS = {
    InvoiceStatus.PAID.value: "Paid", InvoiceStatus.PROCESSING.value: "Payment in progress",
    InvoiceStatus.FAILED.value: "Unpaid", InvoiceStatus.ARCHIVED.value: "Cancelled",
}


def branding(session: Session) -> Branding:
    logo_id = cfg.get(session, cfg.BRAND_LOGO)
    logo = session.get(StoredDocument, logo_id) if logo_id else None
    address = str(cfg.get(session, cfg.BRAND_ADDRESS) or "")
    return Branding(
        company_name=str(cfg.get(session, cfg.BRAND_NAME) or settings().payouts.payer_name),
        address_lines=tuple(line.strip() for line in address.splitlines() if line.strip()),
        contact_email=str(cfg.get(session, cfg.BRAND_CONTACT) or settings().smtp.sender),
        colour=str(cfg.get(session, cfg.BRAND_COLOUR)),
        logo=logo.content if logo is not None else None,
        terms=str(cfg.get(session, cfg.BRAND_TERMS) or ""),
    )


def _lines(session: Session, invoice: Invoice) -> tuple[DocumentLine, ...]:
    rows = session.execute(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id)
                           .order_by(InvoiceLine.position, InvoiceLine.id)).scalars().all()
    return tuple(DocumentLine(r.description, r.quantity, r.unit_price_minor, r.amount_minor) for r in rows)


def _payment(session: Session, invoice: Invoice) -> tuple[str, str | None]:
    """(how it is paid, the transfer's reference once one exists)."""
    reference = session.execute(select(PaymentTransaction.reference)
                                .join(Payout, Payout.transaction_id == PaymentTransaction.id)
                                .where(Payout.invoice_id == invoice.id).order_by(Payout.id.desc()).limit(1)).scalar()
    try:
        method = PAYMENT_METHOD_LABELS[PaymentMethod(invoice.payment_method)]
    except ValueError:
        method = "Bank transfer"
    return method, reference


def _vendor_party(vendor: Vendor) -> Party:
    return Party(vendor.legal_name or vendor.name, (), vendor.country, vendor.vat_id or vendor.tax_id, vendor.email)


def _our_party(brand: Branding) -> Party:
    return Party(brand.company_name, brand.address_lines, "", None, brand.contact_email)


def document_of(session: Session, invoice: Invoice, brand: Branding | None = None) -> InvoiceDocument:
    brand = brand or branding(session)
    kind = invoice_type(invoice.kind, invoice.vendor_id, invoice.organization_id)
    vendor = session.get(Vendor, invoice.vendor_id) if invoice.vendor_id else None
    if kind is InvoiceType.CUSTOMER:
        organization = session.get(Organization, invoice.organization_id)
        address = tuple(line.strip() for line in (organization.billing_address or "").splitlines() if line.strip())
        seller, buyer = _our_party(brand), Party(organization.name, address, organization.country, None,
                                                 organization.billing_email)
        audience = "customer"
    else:
        # Self-billing: the invoice is the vendor's, issued by us on its behalf and addressed to us.
        seller, buyer, audience = _vendor_party(vendor), _our_party(brand), "vendor"
    method, reference = _payment(session, invoice)
    corrects = session.get(Invoice, invoice.corrects_invoice_id) if invoice.corrects_invoice_id else None
    orders = tuple(n for n in (invoice.vendor_invoice_number,) if n)
    return InvoiceDocument(
        number=invoice.number, issue_date=invoice.issue_date, due_date=invoice.due_date, currency=invoice.currency,
        seller=seller, buyer=buyer, lines=_lines(session, invoice),
        subtotal_minor=invoice.subtotal_minor, tax_minor=invoice.tax_minor, total_minor=invoice.total_minor,
        payment_status=PAYMENT_STATUS.get(invoice.status, "Pending" if invoice.due_date is None else "Unpaid"),
        payment_method=method, branding=brand,
        is_credit_note=invoice.document_type == DocumentType.CREDIT_NOTE.value, audience=audience,
        transaction_reference=reference, payment_terms_days=invoice.payment_terms_days,
        order_numbers=orders, billing_period=invoice.billing_period,
        corrects_number=corrects.number if corrects is not None else None,
    )


def wants_einvoice(session: Session, invoice: Invoice) -> bool:
    if invoice.organization_id is None:
        return False
    organization = session.get(Organization, invoice.organization_id)
    return bool(organization and organization.wants_einvoice)


def render_pdf(session: Session, invoice: Invoice, brand: Branding | None = None) -> bytes:
    document = document_of(session, invoice, brand)
    pdf = render_invoice(document)
    return with_einvoice(pdf, document) if wants_einvoice(session, invoice) else pdf


def filename_of(invoice: Invoice) -> str:
    prefix = "credit-note" if invoice.document_type == DocumentType.CREDIT_NOTE.value else "invoice"
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in invoice.number)
    return f"{prefix}-{safe}.pdf"

"""The vendor's own invoices: newest first, filtered by number, date and payment status, each
one to view, download or print. Only ever the signed-in vendor's invoices."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, func, or_
from sqlmodel import Session, col, select

from vrm_dashboard.db.models import EmailDelivery, Invoice, StoredDocument, stored_id
from vrm_dashboard.domain.invoice_status import VENDOR_PAYMENT_STATUS, VendorPaymentStatus
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.rendering.invoice_file import render_file
from vrm_dashboard.services.distribution import invoice_documents
from vrm_dashboard.services.platform import documents
from vrm_dashboard.services.platform.actors import Actor, require
from vrm_dashboard.services.platform.errors import FieldErrors, NotFound, PermissionDenied

MAX_PAGE_SIZE = 100


@dataclass
class VendorInvoiceQuery:
    number: str = ""
    issued_from: date | None = None
    issued_to: date | None = None
    payment_status: str = ""
    page: int = 1
    page_size: int = 25


@dataclass
class VendorInvoicePage:
    rows: list[Invoice]
    total: int
    page: int
    page_size: int


def _vendor_id(actor: Actor) -> int:
    require(actor, Action.PORTAL_USE)
    if actor.vendor_id is None:
        raise PermissionDenied("Your account is not linked to a vendor")
    return actor.vendor_id


def _conditions(vendor_id: int, query: VendorInvoiceQuery) -> list[ColumnElement[bool]]:
    # A vendor's invoices are payables to it; customer invoices never belong to a vendor.
    found = [col(Invoice.vendor_id) == vendor_id, col(Invoice.organization_id).is_(None)]
    number = query.number.strip().lower()
    if number:
        like = f"%{number}%"
        found.append(or_(func.lower(Invoice.number).like(like), func.lower(Invoice.vendor_invoice_number).like(like)))
    if query.issued_from:
        found.append(col(Invoice.issue_date) >= query.issued_from)
    if query.issued_to:
        found.append(col(Invoice.issue_date) <= query.issued_to)
    if query.payment_status:
        try:
            group = VendorPaymentStatus(query.payment_status)
        except ValueError:
            raise FieldErrors({"payment_status": f"Unknown payment status {query.payment_status!r}"}) from None
        found.append(col(Invoice.status).in_([s.value for s in VENDOR_PAYMENT_STATUS[group]]))
    return found


def own_invoices(session: Session, actor: Actor, query: VendorInvoiceQuery) -> VendorInvoicePage:
    vendor_id = _vendor_id(actor)
    if query.issued_from and query.issued_to and query.issued_from > query.issued_to:
        raise FieldErrors({"issued_to": "The end date is before the start date"})
    size = max(1, min(query.page_size, MAX_PAGE_SIZE))
    conditions = _conditions(vendor_id, query)
    total = session.exec(select(func.count()).select_from(Invoice).where(*conditions)).one()
    page = max(1, min(query.page, max(1, -(-total // size))))
    rows = session.exec(select(Invoice).where(*conditions)
                        .order_by(col(Invoice.issue_date).desc(), col(Invoice.id).desc())
                        .offset((page - 1) * size).limit(size)).all()
    return VendorInvoicePage(list(rows), total, page, size)


@dataclass
class InvoiceFile:
    content: bytes
    filename: str
    content_type: str


def own_invoice_file(session: Session, actor: Actor, invoice_id: int) -> InvoiceFile:
    """The invoice as a file: the vendor's own original where it sent one, else our PDF as it
    was e-mailed, else our PDF as it stands now."""
    vendor_id = _vendor_id(actor)
    invoice = session.get(Invoice, invoice_id)
    if invoice is None or invoice.vendor_id != vendor_id or invoice.organization_id is not None:
        # The same answer whether it exists or not: another vendor learns nothing.
        raise NotFound("No such invoice of yours")
    document_id = invoice.document_id or session.exec(
        select(EmailDelivery.document_id).where(EmailDelivery.invoice_id == invoice.id,
                                                col(EmailDelivery.sent_at).is_not(None))).first()
    if document_id is not None:
        stored = session.get(StoredDocument, document_id)
        assert stored is not None, "invoice.document_id and email_delivery.document_id are foreign keys"
        # Identical bytes are stored once under their first name, perhaps another organization's.
        name = (documents.original_filename(session, invoice, stored) if document_id == invoice.document_id
                else invoice_documents.filename_of(invoice))
        return InvoiceFile(stored.content, name, stored.content_type)
    document = invoice_documents.documents_of(session, [invoice])[stored_id(invoice)]
    return InvoiceFile(render_file(document), invoice_documents.filename_of(invoice), "application/pdf")


"""Invoice status changes, through the one status machine."""
from __future__ import annotations

from sqlmodel import Session

from vrm_dashboard.db.models import Invoice, utcnow
from vrm_dashboard.domain.invoice_status import InvoiceStatus, check_move, parse_status
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services import audit, invoice_rollup
from vrm_dashboard.services.actors import Actor, require
from vrm_dashboard.services.errors import NotFound

_PERMISSION_FOR_TARGET = {
    InvoiceStatus.APPROVED: Action.INVOICE_APPROVE,
    InvoiceStatus.REJECTED: Action.INVOICE_REJECT,
}


def get_invoice(session: Session, invoice_id: int) -> Invoice:
    invoice = session.get(Invoice, invoice_id)
    if invoice is None:
        raise NotFound(f"No invoice with id {invoice_id}")
    return invoice


def move_invoice(session: Session, actor: Actor, invoice_id: int, target: InvoiceStatus | str) -> Invoice:
    """Move an invoice to another status; an illegal move raises and changes nothing."""
    target = parse_status(target) if isinstance(target, str) else target
    require(actor, _PERMISSION_FOR_TARGET.get(target, Action.INVOICE_EDIT))
    invoice = get_invoice(session, invoice_id)
    check_move(InvoiceStatus(invoice.status), target)
    before = audit.snapshot(invoice)
    invoice.status = target.value
    invoice.updated_by_id = actor.user_id
    invoice.updated_at = utcnow()
    session.add(invoice)
    session.flush()
    audit.record(session, actor, f"invoice.{target.value}", "invoice", invoice.id, before=before, after=invoice)
    if invoice.vendor_id is not None:
        invoice_rollup.refresh(session, [invoice.vendor_id])
    return invoice

"""The invoices as their recipients received them: the stored PDF that was sent, opened from
the portal or from the e-mail's link. A recipient's first opening marks the delivery viewed."""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session, col

from vrm_dashboard.db import tenancy
from vrm_dashboard.db.models import EmailDelivery, Invoice, InvoiceDispute, StoredDocument, utcnow
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.platform.actors import Actor, require
from vrm_dashboard.services.platform.errors import NotFound, PermissionDenied


@dataclass
class SentDocument:
    invoice_id: int
    number: str
    document_type: str
    currency: str
    total_minor: int
    status: str
    sent_at: str
    viewed: bool
    disputed: bool


def own_documents(session: Session, actor: Actor, limit: int = 50) -> list[SentDocument]:
    """What was sent to this vendor, newest first."""
    require(actor, Action.PORTAL_USE)
    if actor.vendor_id is None:
        raise PermissionDenied("Your account is not linked to a vendor")
    rows = session.execute(
        select(Invoice, col(EmailDelivery.sent_at), col(EmailDelivery.viewed_at))
        .join(EmailDelivery, col(EmailDelivery.invoice_id) == Invoice.id)
        .where(col(Invoice.vendor_id) == actor.vendor_id, col(Invoice.organization_id).is_(None),
               col(EmailDelivery.sent_at).is_not(None))
        .order_by(col(EmailDelivery.sent_at).desc(), col(Invoice.id).desc()).limit(limit)).all()
    disputed = set(session.execute(select(col(InvoiceDispute.invoice_id)).where(
        col(InvoiceDispute.invoice_id).in_([i.id for i, *_ in rows]))).scalars()) if rows else set()
    return [SentDocument(i.id, i.number, i.document_type, i.currency, i.total_minor, i.status,
                         f"{sent:%Y-%m-%d %H:%M}", viewed is not None, i.id in disputed)
            for i, sent, viewed in rows]


def _document(session: Session, delivery: EmailDelivery | None) -> StoredDocument:
    if delivery is None or delivery.sent_at is None or delivery.document_id is None:
        raise NotFound("This invoice has not been sent")
    document = session.get(StoredDocument, delivery.document_id)
    if document is None:
        raise NotFound("This invoice has not been sent")
    return document


def _mark_viewed(session: Session, delivery: EmailDelivery) -> None:
    if delivery.viewed_at is None:
        delivery.viewed_at = utcnow()
        session.add(delivery)


def sent_pdf(session: Session, actor: Actor, invoice_id: int) -> StoredDocument:
    """The PDF as sent: for its vendor (which marks it viewed) or for staff."""
    delivery = session.execute(select(EmailDelivery).where(col(EmailDelivery.invoice_id) == invoice_id)) \
        .scalar_one_or_none()
    invoice = session.get(Invoice, invoice_id)
    own = (invoice is not None and actor.can(Action.PORTAL_USE) and actor.vendor_id is not None
           and invoice.vendor_id == actor.vendor_id and invoice.organization_id is None)
    if not (own or actor.can(Action.DISTRIBUTION_VIEW)):
        raise PermissionDenied("You may not open this invoice")
    document = _document(session, delivery)
    assert delivery is not None, "_document() refuses a missing delivery"
    if own:
        _mark_viewed(session, delivery)
    return document


# The secret in the e-mail's links (dispatch: secrets.token_urlsafe(24)). Anything else is looked
# up nowhere: a crafted one (a NUL fails on PostgreSQL) is simply not found.
LINK_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


def delivery_of_link(session: Session, token: str) -> EmailDelivery | None:
    """The delivery whose e-mail carried this link token, if any."""
    if not isinstance(token, str) or not LINK_TOKEN.fullmatch(token):
        return None
    # The token is its own authority: the delivery it names decides the scope, which the session
    # then keeps (the recipient reaches that organization's records, and only them).
    with tenancy.looking_past_scope(session):
        delivery = session.execute(select(EmailDelivery).where(col(EmailDelivery.token) == token)).scalar_one_or_none()
    if delivery is not None:
        tenancy.scope_to(session, tenancy.Scope.of(tenancy.owner(delivery)))
    return delivery


def pdf_by_link(session: Session, token: str) -> StoredDocument:
    """The PDF behind the e-mail's link; the token proves it went to this recipient."""
    delivery = delivery_of_link(session, token)
    document = _document(session, delivery)
    assert delivery is not None, "_document() refuses a missing delivery"
    _mark_viewed(session, delivery)
    return document


def invoice_of_link(session: Session, token: str) -> Invoice:
    delivery = delivery_of_link(session, token)
    if delivery is None or delivery.invoice_id is None or delivery.sent_at is None:
        raise NotFound("This link is not valid")
    invoice = session.get(Invoice, delivery.invoice_id)
    if invoice is None:
        raise NotFound("This link is not valid")
    return invoice

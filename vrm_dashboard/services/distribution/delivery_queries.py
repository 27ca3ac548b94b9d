"""The distribution screen's list: one page of invoice deliveries, filtered, newest first,
and the count per delivery status, both from SQL."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select
from sqlmodel import Session, col

from vrm_dashboard.db.models import EmailDelivery, Invoice
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.platform.actors import Actor, require

PAGE_SIZE = 25


@dataclass
class DeliveryRow:
    id: int
    invoice_id: int
    number: str
    document_type: str
    recipient: str
    status: str
    hold_reasons: str
    attempts: int
    last_error: str
    created_at: str
    sent_at: str
    viewed_at: str
    invoice_status: str


@dataclass
class DeliveryPage:
    rows: list[DeliveryRow]
    page: int
    page_count: int
    total_rows: int
    counts: dict[str, int]


def _day(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else ""


def list_deliveries(session: Session, actor: Actor, status: str = "", search: str = "", page: int = 1,
                    page_size: int = PAGE_SIZE) -> DeliveryPage:
    require(actor, Action.DISTRIBUTION_VIEW)
    where: list[ColumnElement[bool]] = [col(EmailDelivery.invoice_id).is_not(None)]
    if status:
        where.append(col(EmailDelivery.status) == status)
    if search.strip():
        term = search.strip()
        where.append(or_(col(Invoice.number).startswith(term),
                         col(EmailDelivery.recipient).startswith(term.lower())))
    total = int(session.execute(select(func.count()).select_from(EmailDelivery)
                                .join(Invoice, col(Invoice.id) == EmailDelivery.invoice_id).where(*where))
                .scalar() or 0)
    page_count = max(1, -(-total // page_size))
    page = min(max(1, page), page_count)
    rows = session.execute(
        select(EmailDelivery, col(Invoice.number), col(Invoice.document_type), col(Invoice.status))
        .join(Invoice, col(Invoice.id) == EmailDelivery.invoice_id).where(*where)
        .order_by(col(EmailDelivery.id).desc()).limit(page_size).offset((page - 1) * page_size)).all()
    counts: dict[str, int] = dict(
        session.execute(select(col(EmailDelivery.status), func.count())
                        .where(col(EmailDelivery.invoice_id).is_not(None))
                        .group_by(col(EmailDelivery.status))).all())
    return DeliveryPage(
        [DeliveryRow(d.id, d.invoice_id, number, kind, d.recipient, d.status, d.hold_reasons or "", d.attempts,
                     d.last_error or "", _day(d.created_at), _day(d.sent_at), _day(d.viewed_at), invoice_status)
         for d, number, kind, invoice_status in rows],
        page, page_count, total, {k: int(v) for k, v in counts.items()})

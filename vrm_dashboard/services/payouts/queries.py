"""The Pending Payouts dashboard: one page of payouts and the totals per status and currency,
both from SQL."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from vrm_dashboard.db.models import Invoice, PaymentTransaction, Payout, User, Vendor
from vrm_dashboard.domain.payout_rules import (
    PAYOUT_STATUS_LABELS,
    TOTAL_GROUPS,
    awaits_confirmation,
    cooling_off_ends,
)
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.platform import settings as app_settings
from vrm_dashboard.services.platform.actors import Actor, require
from vrm_dashboard.services.reporting.status_counts import StatusTotal

PAGE_SIZES = (25, 50, 100)


@dataclass
class PayoutQuery:
    status: str = ""
    rail: str = ""
    currency: str = ""
    vendor: str = ""
    page: int = 1
    page_size: int = 25


@dataclass
class PayoutRow:
    id: int
    invoice_id: int
    invoice_number: str
    vendor_code: str
    vendor_name: str
    rail: str
    due_date: date | None
    pay_date: date
    amount_minor: int
    currency: str
    status: str
    invoice_approver: str
    payout_approver: str
    failure_reason: str
    transaction_id: int | None
    transaction_status: str
    reference: str
    held_until: datetime | None
    confirmable: bool = False


@dataclass
class PayoutPage:
    rows: list[PayoutRow]
    total_rows: int
    page: int
    page_count: int
    totals: list[StatusTotal] = field(default_factory=list)


def _conditions(query: PayoutQuery) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if query.status:
        where.append(col(Payout.status) == query.status)
    if query.rail:
        where.append(col(Payout.rail) == query.rail)
    if query.currency:
        where.append(col(Payout.currency) == query.currency.upper())
    if query.vendor.strip():
        text = query.vendor.strip()
        where.append(col(Payout.vendor_id).in_(select(col(Vendor.id)).where(or_(
            col(Vendor.vendor_code) == text.upper(), col(Vendor.name).ilike(f"%{text}%")))))
    return where


def totals(session: Session, actor: Actor) -> list[StatusTotal]:
    """Count and amount per status and currency: an index-only grouped scan."""
    require(actor, Action.PAYOUT_VIEW)
    rows = session.execute(select(col(Payout.status), col(Payout.currency), func.count(),
                                  func.sum(Payout.amount_minor))
                           .group_by(Payout.status, Payout.currency).order_by(Payout.status, Payout.currency)).all()
    return [StatusTotal(s, c, int(n), int(a or 0)) for s, c, n, a in rows]


def list_payouts(session: Session, actor: Actor, query: PayoutQuery) -> PayoutPage:
    require(actor, Action.PAYOUT_VIEW)
    size = query.page_size if query.page_size in PAGE_SIZES else PAGE_SIZES[0]
    where = _conditions(query)
    total_rows = int(session.execute(select(func.count()).select_from(Payout).where(*where)).scalar_one())
    page_count = max(1, -(-total_rows // size))
    page = min(max(1, query.page), page_count)
    invoice_approver = aliased(User)
    payout_approver = aliased(User)
    result = session.execute(
        select(Payout, col(Invoice.number), col(Invoice.due_date), col(Vendor.vendor_code), col(Vendor.name),
               col(Vendor.bank_details_changed_at), col(invoice_approver.email), col(payout_approver.email),
               col(PaymentTransaction.status), col(PaymentTransaction.reference))
        .join(Invoice, col(Invoice.id) == Payout.invoice_id)
        .join(Vendor, col(Vendor.id) == Payout.vendor_id)
        .outerjoin(invoice_approver, col(invoice_approver.id) == Payout.created_by_id)
        .outerjoin(payout_approver, col(payout_approver.id) == Payout.approved_by_id)
        .outerjoin(PaymentTransaction, col(PaymentTransaction.id) == Payout.transaction_id)
        .where(*where)
        .order_by(col(Payout.pay_date).desc(), col(Payout.id).desc())
        .offset((page - 1) * size).limit(size)
    ).all()
    hours = int(app_settings.get(session, app_settings.COOLING_OFF_HOURS))
    now = datetime.now().astimezone()
    rows = []
    for p, number, due, code, name, changed, inv_approver, po_approver, t_status, reference in result:
        ends = cooling_off_ends(changed, hours)
        held = ends if ends is not None and ends > now and p.status == "awaiting_payout" else None
        rows.append(PayoutRow(
            id=p.id, invoice_id=p.invoice_id, invoice_number=number, vendor_code=code, vendor_name=name,
            rail=p.rail, due_date=due, pay_date=p.pay_date, amount_minor=p.amount_minor, currency=p.currency,
            status=p.status, invoice_approver=inv_approver or "", payout_approver=po_approver or "",
            failure_reason=p.failure_reason or "", transaction_id=p.transaction_id,
            transaction_status=t_status or "", reference=reference or "", held_until=held,
            confirmable=p.transaction_id is not None and awaits_confirmation(t_status or "", p.rail),
        ))
    return PayoutPage(rows=rows, total_rows=total_rows, page=page, page_count=page_count,
                      totals=totals(session, actor))


@dataclass
class GroupTotal:
    key: str
    label: str
    count: int
    amounts_minor: dict[str, int]  # currency -> amount


def grouped(totals: list[StatusTotal]) -> list[GroupTotal]:
    """The dashboard's figures (awaiting, processing, paid, failed) per currency."""
    result = []
    for key, label, statuses in TOTAL_GROUPS:
        amounts: dict[str, int] = {}
        count = 0
        for t in totals:
            if t.status in statuses:
                amounts[t.currency] = amounts.get(t.currency, 0) + t.amount_minor
                count += t.count
        result.append(GroupTotal(key, label, count, dict(sorted(amounts.items()))))
    return result


def status_label(status: str) -> str:
    return PAYOUT_STATUS_LABELS.get(status, status)



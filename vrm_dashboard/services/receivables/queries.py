"""Reading customer invoices: what the actor's organization bills its customers (outgoing)
and what it is billed by the organization above it (incoming), filtered, sorted and paged."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Mapped, aliased
from sqlmodel import Session, col

from vrm_dashboard.db import tenancy
from vrm_dashboard.db.models import Invoice, Organization
from vrm_dashboard.domain.collection_rules import COLLECTABLE_STATUSES, OPEN_STATUSES, CustomerPaymentMethod
from vrm_dashboard.domain.invoice_status import InvoiceStatus
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.domain.terms_rules import TermsError, parse_terms
from vrm_dashboard.services.platform.actors import Actor, require
from vrm_dashboard.services.platform.errors import FieldErrors
from vrm_dashboard.services.receivables import organizations

MAX_PAGE_SIZE = 200
INCOMING, OUTGOING = "incoming", "outgoing"
SORTABLE: dict[str, Mapped[object]] = {
    "number": col(Invoice.number), "organization": col(Organization.name), "issue_date": col(Invoice.issue_date),
    "posting_date": col(Invoice.posting_date), "terms": col(Invoice.payment_terms_days),
    "due_date": col(Invoice.due_date), "payment_method": col(Invoice.payment_method),
    "amount": col(Invoice.total_minor), "status": col(Invoice.status),
}


@dataclass
class ReceivableQuery:
    direction: str = OUTGOING
    search: str = ""
    status: str = ""
    payment_method: str = ""
    overdue_only: bool = False
    due_from: str = ""
    due_to: str = ""
    posted_from: str = ""
    posted_to: str = ""
    # Whole days, e.g. "30": invoices carrying exactly these terms.
    terms: str = ""
    sort: str = "due_date"
    descending: bool = False
    page: int = 1
    page_size: int = 25


@dataclass
class ReceivableRow:
    id: int
    number: str
    organization_id: int
    organization: str
    issue_date: date
    posting_date: date | None
    payment_terms_days: int | None
    due_date: date | None
    payment_method: str
    total_minor: int
    currency: str
    status: str
    reminders_stopped: bool
    consolidated_into: str
    # Still owed and past its due date (what collection and reminders act on).
    overdue: bool


@dataclass
class ReceivablePage:
    rows: list[ReceivableRow]
    total_rows: int
    page: int
    page_count: int
    # Open amounts per currency in the view (SQL, not the page).
    open_amounts: dict[str, int]


def _day(value: str, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FieldErrors({name: "A date is written YYYY-MM-DD"}) from None


def _conditions(actor: Actor, query: ReceivableQuery, today: date) -> list[ColumnElement[bool]]:
    scope: ColumnElement[bool]
    if query.direction == OUTGOING:
        scope = col(Invoice.organization_id).in_(select(col(Organization.id)).where(organizations.managed(actor)))
    elif query.direction == INCOMING:
        scope = col(Invoice.organization_id) == (actor.organization_id if actor.organization_id is not None else -1)
    else:
        raise FieldErrors({"direction": "Incoming or outgoing"})
    conditions: list[ColumnElement[bool]] = [scope, col(Invoice.organization_id).is_not(None)]
    text = query.search.strip().lower()
    if text:
        conditions.append(or_(func.lower(Invoice.number).like(f"%{text}%"),
                              func.lower(Organization.name).like(f"%{text}%")))
    if query.status:
        if query.status not in {s.value for s in InvoiceStatus}:
            raise FieldErrors({"status": f"Unknown status {query.status!r}"})
        conditions.append(col(Invoice.status) == query.status)
    if query.payment_method:
        if query.payment_method not in {m.value for m in CustomerPaymentMethod}:
            raise FieldErrors({"payment_method": f"Unknown payment method {query.payment_method!r}"})
        conditions.append(col(Invoice.payment_method) == query.payment_method)
    if query.overdue_only:
        conditions += [col(Invoice.due_date) < today, col(Invoice.status).in_(OPEN_STATUSES),
                       col(Invoice.consolidated_into_id).is_(None)]
    for column, (low, high) in ((col(Invoice.due_date), ("due_from", "due_to")),
                                (col(Invoice.posting_date), ("posted_from", "posted_to"))):
        start, end = _day(getattr(query, low), low), _day(getattr(query, high), high)
        if start:
            conditions.append(column >= start)
        if end:
            conditions.append(column <= end)
    if query.terms.strip():
        try:
            conditions.append(col(Invoice.payment_terms_days) == parse_terms(query.terms))
        except TermsError as exc:
            raise FieldErrors({"terms": str(exc)}) from None
    return conditions


def list_receivables(session: Session, actor: Actor, query: ReceivableQuery | None = None,
                     today: date | None = None) -> ReceivablePage:
    require(actor, Action.INVOICE_VIEW)
    query = query or ReceivableQuery()
    today = today or date.today()
    if query.sort not in SORTABLE:
        raise FieldErrors({"sort": f"Cannot sort by {query.sort!r}"})
    size = max(1, min(MAX_PAGE_SIZE, int(query.page_size)))
    conditions = _conditions(actor, query, today)
    if query.direction == INCOMING:
        # What the organization above bills us is its record, not ours: read here, past the
        # scope, by the condition that names our organization as the one billed (_conditions).
        with tenancy.looking_past_scope(session):
            return _page(session, query, conditions, size, today)
    return _page(session, query, conditions, size, today)


def _page(session: Session, query: ReceivableQuery, conditions: list[ColumnElement[bool]], size: int,
          today: date) -> ReceivablePage:
    base = select(col(Invoice.id)).join(Organization, col(Organization.id) == Invoice.organization_id) \
        .where(*conditions)
    total = int(session.execute(select(func.count()).select_from(base.subquery())).scalar_one())
    page_count = max(1, -(-total // size))
    page = max(1, min(int(query.page), page_count))
    column = SORTABLE[query.sort]
    into = aliased(Invoice)
    rows = session.execute(
        select(Invoice, col(Organization.name), col(into.number))
        .join(Organization, col(Organization.id) == Invoice.organization_id)
        .outerjoin(into, col(into.id) == Invoice.consolidated_into_id)
        .where(*conditions)
        .order_by(column.desc() if query.descending else column.asc(),
                  col(Invoice.id).desc() if query.descending else col(Invoice.id))
        .offset((page - 1) * size).limit(size)).all()
    # PostgreSQL sums integers as numeric (Decimal), SQLite as int.
    amounts: dict[str, int | Decimal] = dict(session.execute(
        select(col(Invoice.currency), func.sum(Invoice.total_minor))
        .join(Organization, col(Organization.id) == Invoice.organization_id)
        .where(*conditions, col(Invoice.status).in_(OPEN_STATUSES), col(Invoice.consolidated_into_id).is_(None))
        .group_by(col(Invoice.currency))).all())
    return ReceivablePage(
        [ReceivableRow(i.id, i.number, i.organization_id, name, i.issue_date, i.posting_date, i.payment_terms_days,
                       i.due_date, i.payment_method, i.total_minor, i.currency, i.status, i.reminders_stopped,
                       into_number or "",
                       bool(i.due_date and i.due_date < today and i.status in COLLECTABLE_STATUSES and not into_number))
         for i, name, into_number in rows],
        total, page, page_count, {c: int(a) for c, a in amounts.items()})

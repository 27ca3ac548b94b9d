"""Reading invoices: the filtered, sorted, paged Pending Invoices list with its totals,
and one invoice's detail."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, Callable

from babel.numbers import list_currencies
from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Mapped, aliased
from sqlmodel import Session, col

from vrm_dashboard.db import tenancy
from vrm_dashboard.db.models import (
    Invoice,
    InvoiceApproval,
    InvoiceFlag,
    InvoiceLine,
    InvoiceRollup,
    StoredDocument,
    User,
    Vendor,
    stored_id,
)
from vrm_dashboard.domain.invoice_status import InvoiceStatus
from vrm_dashboard.domain.money import MoneyError, exponent
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.invoices import flags as invoice_flags
from vrm_dashboard.services.platform import audit, documents
from vrm_dashboard.services.platform.actors import Actor, require
from vrm_dashboard.services.platform.errors import FieldErrors, NotFound
from vrm_dashboard.services.reporting.status_counts import StatusTotal

MAX_PAGE_SIZE = 200
SORTABLE: dict[str, Mapped[object]] = {
    "number": col(Invoice.number),
    "kind": col(Invoice.kind),
    "amount": col(Invoice.total_minor),
    "currency": col(Invoice.currency),
    "issue_date": col(Invoice.issue_date),
    "due_date": col(Invoice.due_date),
    "status": col(Invoice.status),
    "vendor": col(Vendor.name),
}


@dataclass
class InvoiceQuery:
    """A view of the invoice list; the same object drives the page, the totals and exports."""

    search: str = ""
    statuses: list[str] = field(default_factory=list)
    vendor: str = ""
    kind: str = ""
    issued_from: str = ""
    issued_to: str = ""
    amount_min: str = ""
    amount_max: str = ""
    payment_method: str = ""
    flag: str = ""
    sort: str = "issue_date"
    descending: bool = True
    page: int = 1
    page_size: int = 25


@dataclass
class InvoiceRow:
    id: int
    number: str
    kind: str
    vendor_id: int | None
    vendor_name: str
    vendor_code: str
    total_minor: int
    currency: str
    issue_date: date
    due_date: date | None
    status: str
    submitted_by: str
    approvers: list[str]
    flags: list[str]
    payment_method: str


@dataclass
class InvoicePage:
    rows: list[InvoiceRow]
    total_rows: int
    page: int
    page_count: int
    totals: list[StatusTotal]


def owned_invoices(session: Session) -> ColumnElement[bool]:
    """The invoices the session's organizations own, as a WHERE condition for Core statements:
    the ones they may change (a customer never approves, rejects, pays or settles its supplier's
    invoice). True for an unscoped (system) session, false for a scope of nobody."""
    return tenancy.owned(Invoice, session)


def owns(session: Session, invoice: Invoice) -> bool:
    """Whether the session's organizations own this invoice (see `owned_invoices`)."""
    scope = tenancy.scope_of(session)
    return scope is None or scope.includes(invoice.owner_id)


@lru_cache(maxsize=1)
def currencies_by_exponent() -> dict[int, tuple[str, ...]]:
    """Every ISO 4217 currency grouped by its exponent (JPY 0, EUR 2, BHD 3)."""
    grouped: dict[int, list[str]] = {}
    for code in list_currencies():
        try:
            grouped.setdefault(exponent(code), []).append(code)
        except MoneyError:
            continue
    return {places: tuple(sorted(codes)) for places, codes in grouped.items()}


def _amount_bound(text: str, label: str,
                  compare: Callable[[Mapped[int], int], ColumnElement[bool]]) -> ColumnElement[bool]:
    """An amount bound in major units, compared with each row in its own currency's minor units."""
    try:
        value = Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        raise FieldErrors({label: f"{text!r} is not an amount"}) from None
    return or_(*[
        and_(col(Invoice.currency).in_(codes), compare(col(Invoice.total_minor), int(value.scaleb(places))))
        for places, codes in currencies_by_exponent().items()
    ])


def _search_terms(term: str) -> tuple[Select[int | None], ColumnElement[bool]]:
    """A search's two halves: the vendors it names (by name or vendor ID) and the invoices it
    names by number (ours, or the vendor's own)."""
    # Vendors matched through a subquery, not a join, so invoices with no vendor yet (parsed,
    # unmatched) are found by their numbers too.
    pattern = f"%{term.lower()}%"
    vendors = select(col(Vendor.id)).where(or_(func.lower(Vendor.name).like(pattern),
                                               func.lower(Vendor.vendor_code) == term.lower()))
    # Number prefixes as index ranges (as typed, and upper-cased as our numbers are), so
    # each branch of the OR is an index lookup rather than a scan of every invoice.
    prefixes = {term, term.upper()}
    number_ranges = [col(Invoice.number).between(p, p + "\uffff") for p in prefixes]
    return vendors, or_(*number_ranges, col(Invoice.vendor_invoice_number) == term)


def conditions(query: InvoiceQuery) -> tuple[list[ColumnElement[bool]], bool]:
    """SQL conditions for a view, and whether they need the vendor table joined."""
    where: list[ColumnElement[bool]] = []
    needs_vendor = False
    term = query.search.strip()
    if term:
        vendors, by_number = _search_terms(term)
        where.append(or_(by_number, col(Invoice.vendor_id).in_(vendors)))
    statuses = [s for s in query.statuses if s in {x.value for x in InvoiceStatus}]
    if statuses:
        where.append(col(Invoice.status).in_(statuses))
    if query.vendor.strip():
        needs_vendor = True
        v = query.vendor.strip().lower()
        where.append(or_(func.lower(Vendor.vendor_code) == v, func.lower(Vendor.name).like(f"%{v}%")))
    if query.kind:
        where.append(col(Invoice.kind) == query.kind)
    if query.payment_method:
        needs_vendor = True
        where.append(col(Vendor.payment_method) == query.payment_method)
    for text, key, op in ((query.issued_from, "issued_from", lambda c, d: c >= d),
                          (query.issued_to, "issued_to", lambda c, d: c <= d)):
        if text.strip():
            try:
                where.append(op(col(Invoice.issue_date), date.fromisoformat(text.strip())))
            except ValueError:
                raise FieldErrors({key: f"{text!r} is not a date like 2026-11-30"}) from None
    if query.amount_min.strip():
        where.append(_amount_bound(query.amount_min, "amount_min", lambda c, v: c >= v))
    if query.amount_max.strip():
        where.append(_amount_bound(query.amount_max, "amount_max", lambda c, v: c <= v))
    if query.flag:
        if query.flag == "none":
            where.append(
                ~select(col(InvoiceFlag.invoice_id)).where(col(InvoiceFlag.invoice_id) == Invoice.id).exists())
        else:
            where.append(col(Invoice.id).in_(
                select(col(InvoiceFlag.invoice_id)).where(col(InvoiceFlag.flag) == query.flag)))
    return where, needs_vendor


def _per_invoice_filters(query: InvoiceQuery) -> bool:
    """Whether the view filters on something the rollup does not keep (a search aside)."""
    return any([query.kind, query.issued_from.strip(), query.issued_to.strip(), query.amount_min.strip(),
                query.amount_max.strip(), query.flag])


def _rollup_totals(query: InvoiceQuery, *where: ColumnElement[bool]) -> Select[str, str, int, int]:
    r = InvoiceRollup
    stmt = select(col(r.status), col(r.currency), func.sum(col(r.invoice_count)), func.sum(col(r.amount_minor)))
    if query.vendor.strip() or query.payment_method:
        stmt = stmt.join(Vendor, col(Vendor.id) == r.vendor_id)
        stmt = stmt.where(*conditions(InvoiceQuery(vendor=query.vendor, payment_method=query.payment_method))[0])
    statuses = [s for s in query.statuses if s]
    if statuses:
        stmt = stmt.where(col(r.status).in_(statuses))
    return stmt.where(*where).group_by(r.status, r.currency)


def _invoice_totals(query: InvoiceQuery, *where: ColumnElement[bool]) -> Select[str, str, int, int]:
    found, needs_vendor = conditions(query)
    stmt = select(col(Invoice.status), col(Invoice.currency), func.count(), func.sum(col(Invoice.total_minor)))
    if needs_vendor:
        stmt = stmt.join(Vendor, col(Vendor.id) == Invoice.vendor_id)
    return stmt.where(*found, *where).group_by(Invoice.status, Invoice.currency)


def totals(session: Session, query: InvoiceQuery) -> list[StatusTotal]:
    """Count and amount per status and currency for the view, summed in SQL."""
    term = query.search.strip()
    rows: list[Any]
    if _per_invoice_filters(query):
        rows = list(session.execute(_invoice_totals(query).execution_options(**_found_by(query))).all())
    elif not term:
        rows = list(session.execute(_rollup_totals(query)).all())
    else:
        # A search: the vendors it names are summed from the rollup, and only the invoices it
        # names by number (and of no vendor it names) are read one by one, through their indexes.
        vendors, by_number = _search_terms(term)
        rows = [*session.execute(_rollup_totals(query, col(InvoiceRollup.vendor_id).in_(vendors))
                                 .execution_options(**{tenancy.SCOPE_FILTERS_ONLY: True})).all(),
                *session.execute(_invoice_totals(
                    replace(query, search=""), by_number,
                    or_(col(Invoice.vendor_id).is_(None), col(Invoice.vendor_id).not_in(vendors)))
                    .execution_options(**{tenancy.SCOPE_FILTERS_ONLY: True})).all()]
    summed: dict[tuple[str, str], list[int]] = {}
    for status, currency, count, amount in rows:
        total = summed.setdefault((status, currency), [0, 0])
        total[0] += int(count or 0)
        total[1] += int(amount or 0)
    order = {s.value: i for i, s in enumerate(InvoiceStatus)}
    found = [StatusTotal(s, c, n, a) for (s, c), (n, a) in summed.items() if n]
    return sorted(found, key=lambda t: (order.get(t.status, 99), t.currency))


def _found_by(query: InvoiceQuery, dense: bool = False) -> dict[str, bool]:
    """A search finds its invoices through the number and vendor indexes, the organization's
    scope then only filtering them (see tenancy.SCOPE_FILTERS_ONLY); unless they are dense
    among the view's invoices: then the newest page is found sooner by reading the
    organization's invoices newest first and keeping those that match."""
    return {tenancy.SCOPE_FILTERS_ONLY: True} if query.search.strip() and not dense else {}


# A search matching more than this share of its view's invoices reads them newest first.
_DENSE_SHARE = 0.01


def _dense(session: Session, query: InvoiceQuery, matching: int) -> bool:
    if not query.search.strip() or query.sort != "issue_date" or not query.descending:
        return False
    in_view = sum(t.count for t in totals(session, replace(query, search="")))
    return in_view > 0 and matching / in_view > _DENSE_SHARE


def submitter_id() -> ColumnElement[int | None]:
    """Who sent the invoice to approval: its submitter, or for one submitted before submitters
    were recorded, its creator (no one: an import or the mailbox)."""
    return func.coalesce(col(Invoice.submitted_by_id), col(Invoice.created_by_id))


def list_invoices(session: Session, actor: Actor, query: InvoiceQuery) -> InvoicePage:
    """One page of the view, with totals per status and currency."""
    require(actor, Action.INVOICE_VIEW)
    where, needs_vendor = conditions(query)
    summary = totals(session, query)
    total_rows = sum(t.count for t in summary)
    page_size = max(1, min(query.page_size, MAX_PAGE_SIZE))
    page_count = max(1, -(-total_rows // page_size))
    page = max(1, min(query.page, page_count))
    sort_column = SORTABLE.get(query.sort, col(Invoice.issue_date))
    submitter = aliased(User)
    stmt = (
        select(Invoice, col(Vendor.name), col(Vendor.vendor_code), col(Vendor.payment_method), col(submitter.email))
        .join(Vendor, col(Vendor.id) == Invoice.vendor_id, isouter=not needs_vendor)
        .join(submitter, col(submitter.id) == submitter_id(), isouter=True)
        .where(*where)
        .order_by(sort_column.desc() if query.descending else sort_column.asc(),
                  col(Invoice.id).desc() if query.descending else col(Invoice.id).asc())
        .offset((page - 1) * page_size)
        .limit(page_size)
        .execution_options(**_found_by(query, dense=_dense(session, query, total_rows)))
    )
    found = session.execute(stmt).all()
    ids = [stored_id(inv) for inv, *_ in found]
    approvals: dict[int, list[str]] = {}
    for invoice_id, label in session.execute(
        select(col(InvoiceApproval.invoice_id), col(InvoiceApproval.user_label))
        .where(col(InvoiceApproval.invoice_id).in_(ids)).order_by(col(InvoiceApproval.id))
    ).all():
        approvals.setdefault(invoice_id, []).append(label)
    flags = invoice_flags.flags_of(session, ids)
    rows = [
        InvoiceRow(
            id=invoice_id, number=inv.number, kind=inv.kind, vendor_id=inv.vendor_id,
            vendor_name=name or "", vendor_code=code or "", total_minor=inv.total_minor,
            currency=inv.currency, issue_date=inv.issue_date, due_date=inv.due_date,
            status=inv.status, submitted_by=submitted or "import", approvers=approvals.get(invoice_id, []),
            flags=flags.get(invoice_id, []), payment_method=method or "",
        )
        for invoice_id, (inv, name, code, method, submitted) in zip(ids, found)
    ]
    return InvoicePage(rows=rows, total_rows=total_rows, page=page, page_count=page_count, totals=summary)


@dataclass
class InvoiceDetail:
    invoice: Invoice
    vendor: Vendor | None
    lines: list[InvoiceLine]
    approvals: list[InvoiceApproval]
    flags: list[InvoiceFlag]
    document: StoredDocument | None
    history: list
    submitted_by: str
    # The original's name as this organization received it (see documents.original_filename).
    document_name: str = ""


def invoice_detail(session: Session, actor: Actor, invoice_id: int) -> InvoiceDetail:
    require(actor, Action.INVOICE_VIEW)
    invoice = session.get(Invoice, invoice_id)
    if invoice is None:
        raise NotFound(f"No invoice with id {invoice_id}")
    submitter_of = invoice.submitted_by_id or invoice.created_by_id
    submitter = session.get(User, submitter_of) if submitter_of else None
    document = None
    if invoice.document_id:
        # Only the metadata here; the bytes are served by the document route.
        document = session.execute(
            select(StoredDocument).where(col(StoredDocument.id) == invoice.document_id)
        ).scalars().first()
    return InvoiceDetail(
        invoice=invoice,
        vendor=session.get(Vendor, invoice.vendor_id) if invoice.vendor_id else None,
        lines=list(session.execute(select(InvoiceLine).where(col(InvoiceLine.invoice_id) == invoice_id)
                                   .order_by(col(InvoiceLine.position))).scalars().all()),
        approvals=list(session.execute(select(InvoiceApproval).where(col(InvoiceApproval.invoice_id) == invoice_id)
                                       .order_by(col(InvoiceApproval.id))).scalars().all()),
        flags=list(session.execute(select(InvoiceFlag).where(col(InvoiceFlag.invoice_id) == invoice_id))
                   .scalars().all()),
        document=document,
        history=audit.history(session, "invoice", invoice_id),
        submitted_by=submitter.email if submitter else "import",
        document_name=documents.original_filename(session, invoice, document) if document else "",
    )

"""Invoice reconciliation: each invoice checked against its source, flagged where it is off.

Flags: `missing_source` (nothing to check against), `amount_mismatch` (differs from the
source beyond the tolerance), `duplicate` (another live invoice of the same vendor with the
same amount and issue date). Set-based, so a million invoices reconcile in one pass.
"""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import ColumnElement, Select, and_, case, delete, func, insert, literal, or_, select
from sqlmodel import Session, col

from vrm_dashboard.db import tenancy
from vrm_dashboard.db.models import Invoice, InvoiceFlag
from vrm_dashboard.domain.invoice_status import InvoiceStatus
from vrm_dashboard.services.platform import settings as app_settings

FLAG_LABELS = {
    "missing_source": "Missing source",
    "amount_mismatch": "Amount differs",
    "duplicate": "Possible duplicate",
    "paid_twice": "Paid twice",
    "two_channels": "Paid by two channels?",
}
# Raised by what happened to an invoice's money rather than recomputed from its fields:
# reconciling leaves them for a person to clear.
EVENT_FLAGS = frozenset({"paid_twice", "two_channels"})
_DEAD = (InvoiceStatus.ARCHIVED.value, InvoiceStatus.REJECTED.value)
_CHUNK = 5_000


def _flag_rows(scope: ColumnElement[bool], tolerance_bps: ColumnElement[int] | int
               ) -> tuple[Select[int | None, str, str], ...]:
    """(invoice_id, flag, detail) selects for the invoices in `scope`."""
    live = col(Invoice.status).not_in(_DEAD)
    missing = col(Invoice.source_amount_minor).is_(None)
    difference = func.abs(col(Invoice.total_minor) - Invoice.source_amount_minor)
    # Missing and mismatched sources exclude each other, so one scan finds both.
    against_source = select(
        col(Invoice.id),
        case((missing, literal("missing_source")), else_=literal("amount_mismatch")),
        case((missing, literal("No activity data, contract or PO amount recorded")),
             else_=literal("Total differs from the source amount beyond the tolerance")),
    ).where(scope, live, or_(
        missing,
        and_(difference > 0, difference * 10_000 > func.abs(Invoice.source_amount_minor) * tolerance_bps),
    ))
    # Keys shared by two or more live invoices: one grouped pass over the duplicate-key index.
    shared = (
        select(col(Invoice.vendor_id), col(Invoice.total_minor), col(Invoice.issue_date))
        .where(live, col(Invoice.vendor_id).is_not(None))
        .group_by(col(Invoice.vendor_id), col(Invoice.total_minor), col(Invoice.issue_date))
        .having(func.count() > 1)
        .subquery()
    )
    duplicate = select(col(Invoice.id), literal("duplicate"),
                       literal("Same vendor, amount and issue date as another invoice")).join(
        shared, and_(shared.c.vendor_id == Invoice.vendor_id, shared.c.total_minor == Invoice.total_minor,
                     shared.c.issue_date == Invoice.issue_date),
    ).where(scope, live)
    return (against_source, duplicate)


def reconcile(session: Session, invoice_ids: Iterable[int] | None = None) -> None:
    """Recompute the flags of these invoices (all when None)."""
    # Each invoice by its owner's tolerance (its own, or the installation's).
    installation, own = app_settings.by_organization(session, app_settings.RECONCILIATION_TOLERANCE_BPS)
    tolerance: ColumnElement[int] | int = int(installation)
    if own:
        tolerance = case(*((col(Invoice.owner_id) == owner, int(bps)) for owner, bps in own.items()),
                         else_=int(installation))
    columns = ["invoice_id", "flag", "detail"]
    # The deletes pass the session's scoping hook; an INSERT's select does not, so it takes
    # the same scope itself: flags are rebuilt exactly for the invoices whose flags went.
    visible = tenancy.owned(Invoice, session)
    if invoice_ids is None:
        session.execute(delete(InvoiceFlag).where(col(InvoiceFlag.flag).not_in(EVENT_FLAGS)))
        for query in _flag_rows(visible, tolerance):
            session.execute(insert(InvoiceFlag).from_select(columns, query))
        return
    ids = sorted(set(invoice_ids))
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        session.execute(delete(InvoiceFlag).where(col(InvoiceFlag.invoice_id).in_(chunk),
                                                  col(InvoiceFlag.flag).not_in(EVENT_FLAGS)))
        for query in _flag_rows(and_(col(Invoice.id).in_(chunk), visible), tolerance):
            session.execute(insert(InvoiceFlag).from_select(columns, query))


def flag(session: Session, invoices: ColumnElement[bool], flag: str, detail: str) -> None:
    """Flag the session's organizations' invoices matching `invoices` for a person (an event flag)."""
    flagged = select(col(InvoiceFlag.invoice_id)).where(col(InvoiceFlag.invoice_id) == Invoice.id,
                                                        col(InvoiceFlag.flag) == flag).exists()
    session.connection().execute(insert(InvoiceFlag).from_select(
        ["invoice_id", "flag", "detail"],
        select(col(Invoice.id), literal(flag), literal(detail[:255]))
        .where(invoices, ~flagged, tenancy.owned(Invoice, session))))


def duplicate_partners(session: Session, invoice: Invoice) -> list[int]:
    """Invoices that share the duplicate key with this one (their flags change with it)."""
    return list(session.execute(
        select(col(Invoice.id)).where(
            and_(col(Invoice.vendor_id) == invoice.vendor_id, col(Invoice.total_minor) == invoice.total_minor,
                 col(Invoice.issue_date) == invoice.issue_date, col(Invoice.id) != invoice.id)
        )
    ).scalars().all())


def flags_of(session: Session, invoice_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for invoice_id, flag in session.execute(
        select(col(InvoiceFlag.invoice_id), col(InvoiceFlag.flag)).where(col(InvoiceFlag.invoice_id).in_(invoice_ids))
        .order_by(col(InvoiceFlag.invoice_id), InvoiceFlag.flag)
    ).all():
        found.setdefault(invoice_id, []).append(flag)
    return found




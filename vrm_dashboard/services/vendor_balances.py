"""The per-vendor rollup of invoices and payments that the vendor dashboard totals read.

Any service that creates invoices or changes their status or amount calls `refresh` for
the vendors it touched, in the same transaction, so the rollup never disagrees with the
invoices. Recomputing from the invoices (rather than adding deltas) keeps it self-healing.
"""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import and_, case, delete, func, insert, literal_column, select
from sqlmodel import Session

from vrm_dashboard.db.models import Invoice, VendorBalance
from vrm_dashboard.domain.invoice_status import InvoiceStatus as S

# What counts where: rejected and archived invoices are owed by nobody.
INVOICED = (S.DRAFT, S.DRAFT_VALID, S.PENDING, S.APPROVED, S.PROCESSING, S.FAILED, S.PAID)
OPEN = (S.PENDING, S.APPROVED, S.PROCESSING, S.FAILED)
_CHUNK = 500


def _rollup(vendor_filter):  # type: ignore[no-untyped-def]
    invoiced = Invoice.status.in_([s.value for s in INVOICED])
    paid = Invoice.status == S.PAID.value
    open_ = Invoice.status.in_([s.value for s in OPEN])
    return (
        select(
            Invoice.vendor_id,
            Invoice.currency,
            func.sum(case((invoiced, 1), else_=0)),
            func.coalesce(func.sum(case((invoiced, Invoice.total_minor), else_=0)), 0),
            func.sum(case((paid, 1), else_=0)),
            func.coalesce(func.sum(case((paid, Invoice.total_minor), else_=0)), 0),
            func.coalesce(func.sum(case((open_, Invoice.total_minor), else_=0)), 0),
        )
        .where(and_(Invoice.vendor_id.is_not(None), vendor_filter))
        .group_by(Invoice.vendor_id, Invoice.currency)
    )


_COLUMNS = ["vendor_id", "currency", "invoice_count", "invoiced_minor", "paid_count",
            "paid_minor", "open_minor"]


def refresh(session: Session, vendor_ids: Iterable[int] | None = None) -> None:
    """Recompute the rollup for these vendors (all vendors when None)."""
    if vendor_ids is None:
        session.execute(delete(VendorBalance))
        session.execute(insert(VendorBalance).from_select(_COLUMNS, _rollup(literal_column("1") == 1)))
        return
    ids = sorted({int(v) for v in vendor_ids if v is not None})
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        session.execute(delete(VendorBalance).where(VendorBalance.vendor_id.in_(chunk)))
        session.execute(
            insert(VendorBalance).from_select(_COLUMNS, _rollup(Invoice.vendor_id.in_(chunk)))
        )

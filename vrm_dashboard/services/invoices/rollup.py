"""Rollups that dashboard totals read instead of scanning every invoice.

`invoice_rollup` holds count and amount per vendor, currency and status (the invoice
screens' totals); `vendor_balance` folds it per vendor and currency into invoiced, paid and
open amounts (the vendor screens' totals). Services that create invoices or change their
status or amount keep both right in the same transaction: `refresh` recomputes the touched
vendors from the invoices (self-healing, for single changes), `move` applies a set-based
status change as a delta (for bulk actions).

Both write only what the session's organizations own: a rollup row belongs to its vendor's
owner (kept on the row, so an organization's totals are one index range), and their deletes
pass the session's scoping hook, so the INSERT ... SELECT that rebuilds them
reads only the same organizations' invoices (an INSERT's select does not pass the hook).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import ColumnElement, Select, and_, bindparam, case, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from vrm_dashboard.db import tenancy
from vrm_dashboard.db.models import Invoice, InvoiceRollup, Vendor, VendorBalance
from vrm_dashboard.domain.invoice_status import InvoiceStatus as S
from vrm_dashboard.services.invoices.queries import owned_invoices

# What counts where: rejected and archived invoices are owed by nobody.
INVOICED = frozenset(s.value for s in (S.DRAFT, S.DRAFT_VALID, S.PENDING, S.APPROVED, S.PROCESSING, S.FAILED, S.PAID))
OPEN = frozenset(s.value for s in (S.PENDING, S.APPROVED, S.PROCESSING, S.FAILED))
PAID = frozenset({S.PAID.value})
_CHUNK = 500
_COLUMNS = ["vendor_id", "owner_id", "currency", "status", "invoice_count", "amount_minor"]


def _grouped(condition: ColumnElement[bool]) -> Select[int | None, int | None, str, str, int, int]:
    # A rollup row is its vendor's, so it is its vendor's owner's.
    return (
        select(col(Invoice.vendor_id), col(Vendor.owner_id), col(Invoice.currency), col(Invoice.status), func.count(),
               func.sum(col(Invoice.total_minor)))
        .join(Vendor, col(Vendor.id) == Invoice.vendor_id)
        .where(condition)
        .group_by(col(Invoice.vendor_id), col(Vendor.owner_id), Invoice.currency, Invoice.status)
    )


def refresh(session: Session, vendor_ids: Iterable[int] | None = None) -> None:
    """Recompute the rollup for these vendors (all vendors when None)."""
    owned = owned_invoices(session)
    if vendor_ids is None:
        session.execute(delete(InvoiceRollup))
        session.execute(insert(InvoiceRollup).from_select(_COLUMNS, _grouped(owned)))
        _refresh_balances(session, None)
        return
    ids = sorted({int(v) for v in vendor_ids if v is not None})
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        session.execute(delete(InvoiceRollup).where(col(InvoiceRollup.vendor_id).in_(chunk)))
        session.execute(insert(InvoiceRollup).from_select(
            _COLUMNS, _grouped(and_(col(Invoice.vendor_id).in_(chunk), owned))))
    _refresh_balances(session, ids)


_BALANCE_COLUMNS = ["vendor_id", "currency", "invoice_count", "invoiced_minor", "paid_count", "paid_minor",
                    "open_minor"]


def _refresh_balances(session: Session, vendor_ids: list[int] | None) -> None:
    """Fold the per-status rollup of these vendors into their balances."""
    r = InvoiceRollup

    def folded(condition: ColumnElement[bool]) -> Select[int, str, int, int, int, int, int]:
        invoiced_count, invoiced, paid, open_ = category_sums()
        paid_count = func.sum(case((col(r.status).in_(PAID), r.invoice_count), else_=0))
        return (select(col(r.vendor_id), col(r.currency), invoiced_count, invoiced, paid_count, paid, open_)
                .where(condition).group_by(col(r.vendor_id), r.currency))

    # The deletes pass the scoping hook; the selects feeding the inserts take the same scope.
    owned = tenancy.owned(InvoiceRollup, session)
    if vendor_ids is None:
        session.execute(delete(VendorBalance))
        session.execute(insert(VendorBalance).from_select(
            _BALANCE_COLUMNS, folded(and_(col(r.vendor_id).is_not(None), owned))))
        return
    for start in range(0, len(vendor_ids), _CHUNK):
        chunk = vendor_ids[start:start + _CHUNK]
        session.execute(delete(VendorBalance).where(col(VendorBalance.vendor_id).in_(chunk)))
        session.execute(insert(VendorBalance).from_select(
            _BALANCE_COLUMNS, folded(and_(col(r.vendor_id).in_(chunk), owned))))


def move(session: Session, invoice_filter: ColumnElement[bool], target: str) -> None:
    """Shift the invoices matching `invoice_filter` to `target` in the rollup.

    Call it just before the UPDATE that moves them, with the same filter.
    """
    conn = session.connection()  # Core executemany: the ORM would try to sync loaded objects
    # On the connection, past the scoping hook: the scope is part of the statement. Every
    # rollup row touched below comes from these groups.
    groups = conn.execute(_grouped(and_(invoice_filter, owned_invoices(session)))).all()
    if not groups:
        return
    conn.execute(
        update(InvoiceRollup)
        .where(col(InvoiceRollup.vendor_id) == bindparam("v"), col(InvoiceRollup.currency) == bindparam("c"),
               col(InvoiceRollup.status) == bindparam("s"))
        .values(invoice_count=InvoiceRollup.invoice_count - bindparam("n"),
                amount_minor=InvoiceRollup.amount_minor - bindparam("a")),
        [{"v": v, "c": c, "s": s, "n": n, "a": a} for v, _o, c, s, n, a in groups],
    )
    added: dict[tuple[int, int, str], list[int]] = {}
    for v, o, c, _s, n, a in groups:
        assert v is not None and o is not None, "_grouped reads invoices joined to their vendor"
        total = added.setdefault((v, o, c), [0, 0])
        total[0] += n
        total[1] += a
    dialect = session.get_bind().dialect.name
    upsert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(InvoiceRollup)
    upsert = upsert.on_conflict_do_update(
        index_elements=["vendor_id", "currency", "status"],
        set_={"invoice_count": InvoiceRollup.invoice_count + upsert.excluded.invoice_count,
              "amount_minor": InvoiceRollup.amount_minor + upsert.excluded.amount_minor},
    )
    conn.execute(upsert, [
        {"vendor_id": v, "owner_id": o, "currency": c, "status": target, "invoice_count": n, "amount_minor": a}
        for (v, o, c), (n, a) in added.items()
    ])
    _refresh_balances(session, sorted({v for v, _o, _c in added}))


@dataclass
class Balance:
    currency: str
    invoice_count: int
    invoiced_minor: int
    paid_minor: int
    open_minor: int


def category_sums() -> tuple[ColumnElement[int], ColumnElement[int], ColumnElement[int], ColumnElement[int]]:
    """Columns summing the rollup into invoiced / paid / open amounts."""
    r = InvoiceRollup
    return (
        func.sum(case((col(r.status).in_(INVOICED), r.invoice_count), else_=0)),
        func.coalesce(func.sum(case((col(r.status).in_(INVOICED), r.amount_minor), else_=0)), 0),
        func.coalesce(func.sum(case((col(r.status).in_(PAID), r.amount_minor), else_=0)), 0),
        func.coalesce(func.sum(case((col(r.status).in_(OPEN), r.amount_minor), else_=0)), 0),
    )


def vendor_balances(session: Session, vendor_id: int) -> list[Balance]:
    rows = session.execute(
        select(VendorBalance).where(col(VendorBalance.vendor_id) == vendor_id).order_by(VendorBalance.currency)
    ).scalars().all()
    return [Balance(b.currency, b.invoice_count, b.invoiced_minor, b.paid_minor, b.open_minor) for b in rows]

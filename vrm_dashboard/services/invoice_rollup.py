"""The per-vendor, per-currency, per-status rollup of invoices that dashboard totals read.

Services that create invoices or change their status or amount keep it right in the same
transaction: `refresh` recomputes the touched vendors from the invoices (self-healing, for
single changes), `move` applies a set-based status change as a delta (for bulk actions).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import bindparam, case, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from vrm_dashboard.db.models import Invoice, InvoiceRollup
from vrm_dashboard.domain.invoice_status import InvoiceStatus as S

# What counts where: rejected and archived invoices are owed by nobody.
INVOICED = frozenset(s.value for s in (S.DRAFT, S.DRAFT_VALID, S.PENDING, S.APPROVED, S.PROCESSING, S.FAILED, S.PAID))
OPEN = frozenset(s.value for s in (S.PENDING, S.APPROVED, S.PROCESSING, S.FAILED))
PAID = frozenset({S.PAID.value})
_CHUNK = 500
_COLUMNS = ["vendor_id", "currency", "status", "invoice_count", "amount_minor"]


def _grouped(condition):  # type: ignore[no-untyped-def]
    return (
        select(Invoice.vendor_id, Invoice.currency, Invoice.status, func.count(), func.sum(Invoice.total_minor))
        .where(Invoice.vendor_id.is_not(None), condition)
        .group_by(Invoice.vendor_id, Invoice.currency, Invoice.status)
    )


def refresh(session: Session, vendor_ids: Iterable[int] | None = None) -> None:
    """Recompute the rollup for these vendors (all vendors when None)."""
    if vendor_ids is None:
        session.execute(delete(InvoiceRollup))
        session.execute(insert(InvoiceRollup).from_select(_COLUMNS, _grouped(Invoice.id.is_not(None))))
        return
    ids = sorted({int(v) for v in vendor_ids if v is not None})
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        session.execute(delete(InvoiceRollup).where(InvoiceRollup.vendor_id.in_(chunk)))
        session.execute(insert(InvoiceRollup).from_select(_COLUMNS, _grouped(Invoice.vendor_id.in_(chunk))))


def move(session: Session, invoice_filter, target: str) -> None:  # type: ignore[no-untyped-def]
    """Shift the invoices matching `invoice_filter` to `target` in the rollup.

    Call it just before the UPDATE that moves them, with the same filter.
    """
    conn = session.connection()  # Core executemany: the ORM would try to sync loaded objects
    groups = conn.execute(_grouped(invoice_filter)).all()
    if not groups:
        return
    conn.execute(
        update(InvoiceRollup)
        .where(InvoiceRollup.vendor_id == bindparam("v"), InvoiceRollup.currency == bindparam("c"),
               InvoiceRollup.status == bindparam("s"))
        .values(invoice_count=InvoiceRollup.invoice_count - bindparam("n"),
                amount_minor=InvoiceRollup.amount_minor - bindparam("a")),
        [{"v": v, "c": c, "s": s, "n": n, "a": a} for v, c, s, n, a in groups],
    )
    added: dict[tuple[int, str], list[int]] = {}
    for v, c, _s, n, a in groups:
        total = added.setdefault((v, c), [0, 0])
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
        {"vendor_id": v, "currency": c, "status": target, "invoice_count": n, "amount_minor": a}
        for (v, c), (n, a) in added.items()
    ])


@dataclass
class Balance:
    currency: str
    invoice_count: int
    invoiced_minor: int
    paid_minor: int
    open_minor: int


def category_sums():  # type: ignore[no-untyped-def]
    """Columns summing the rollup into invoiced / paid / open amounts."""
    r = InvoiceRollup
    return (
        func.sum(case((r.status.in_(INVOICED), r.invoice_count), else_=0)),
        func.coalesce(func.sum(case((r.status.in_(INVOICED), r.amount_minor), else_=0)), 0),
        func.coalesce(func.sum(case((r.status.in_(PAID), r.amount_minor), else_=0)), 0),
        func.coalesce(func.sum(case((r.status.in_(OPEN), r.amount_minor), else_=0)), 0),
    )


def vendor_balances(session: Session, vendor_id: int) -> list[Balance]:
    rows = session.execute(
        select(InvoiceRollup.currency, *category_sums())
        .where(InvoiceRollup.vendor_id == vendor_id)
        .group_by(InvoiceRollup.currency).order_by(InvoiceRollup.currency)
    ).all()
    return [Balance(c, int(n or 0), int(i or 0), int(p or 0), int(o or 0)) for c, n, i, p, o in rows]

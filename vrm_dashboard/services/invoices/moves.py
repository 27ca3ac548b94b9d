"""The one way an invoice changes status.

Every path moves invoices here: a person's move, bulk approval and rejection, the payout run,
retries, settlement and returns, collection, bank statements and re-issue. The UPDATE itself
admits only the invoices whose current status may move to the target by the status machine
(payables by theirs, receivables by theirs: domain/invoice_status.py), and only the session's
organizations' own. So a path whose selection is stale or too wide moves nothing it should not,
whatever it believed about the invoices. The rollup follows in the same transaction, and each
moved invoice gets an audit entry with its actor and the status it left.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, or_, update
from sqlmodel import Session, col

from vrm_dashboard.db.models import Invoice, utcnow
from vrm_dashboard.db.row_locks import lock_rows
from vrm_dashboard.domain.invoice_status import InvoiceStatus, sources
from vrm_dashboard.services.invoices import rollup as invoice_rollup
from vrm_dashboard.services.invoices.queries import owned_invoices
from vrm_dashboard.services.platform import audit
from vrm_dashboard.services.platform.actors import Actor


def may_move_to(target: InvoiceStatus) -> ColumnElement[bool]:
    """The invoices the status machine lets move to `target`, as a WHERE condition."""
    payable = [s.value for s in sources(target)]
    receivable = [s.value for s in sources(target, receivable=True)]
    return or_(
        and_(col(Invoice.organization_id).is_(None), col(Invoice.status).in_(payable)),
        and_(col(Invoice.organization_id).is_not(None), col(Invoice.status).in_(receivable)),
    )


def move_invoices(session: Session, actor: Actor, which: ColumnElement[bool], target: InvoiceStatus | str, *,
                  action: str | None = None, detail: dict[str, Any] | None = None,
                  values: dict[str, Any] | None = None) -> int:
    """Move the invoices matching `which` to `target`, those the status machine allows; the
    rest stay as they are. `values` sets further columns on the moved invoices (a rejection's
    reason); `detail` joins the audit entry. Returns how many moved."""
    target = InvoiceStatus(target)
    moving = and_(which, may_move_to(target), owned_invoices(session))
    lock_rows(session, col(Invoice.id), moving)
    after = {"status": target.value, **(detail or {})}
    for source in sources(target) | sources(target, receivable=True):
        # Before the move, while each invoice still shows the status it leaves.
        audit.record_where(session, actor, action or f"invoice.{target.value}", "invoice", Invoice.id,
                           and_(moving, col(Invoice.status) == source.value), {"status": source.value}, after)
    invoice_rollup.move(session, moving, target.value)
    # On the connection: the ORM has no loaded invoices to keep in step (a caller holding one
    # refreshes it), and the scope is part of `moving`.
    moved = session.connection().execute(
        update(Invoice).where(moving).values(status=target.value, updated_at=utcnow(), **(values or {})))
    return int(moved.rowcount or 0)


def move_invoice(session: Session, actor: Actor, invoice: Invoice, target: InvoiceStatus | str, *,
                 action: str | None = None, detail: dict[str, Any] | None = None,
                 values: dict[str, Any] | None = None) -> bool:
    """Move one loaded invoice (see `move_invoices`); the object shows its new status after."""
    session.flush()
    moved = move_invoices(session, actor, col(Invoice.id) == invoice.id, target, action=action, detail=detail,
                          values=values)
    session.refresh(invoice)
    return moved == 1

"""The one way a payout, and a transfer, changes status, and voiding the payouts of an invoice
that will not be paid.

As for invoices (services/invoices/moves.py): the UPDATE admits only the payouts whose status
may move to the target by the payout status machine (domain/payout_rules.py) and only the
session's organizations' own; each moved payout gets an audit entry with the status it left.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, select, update
from sqlmodel import Session, col

from vrm_dashboard.db import tenancy
from vrm_dashboard.db.models import Invoice, PaymentTransaction, Payout, utcnow
from vrm_dashboard.db.models.payouts import PayoutStatus as P, TransactionStatus as T
from vrm_dashboard.db.row_locks import lock_rows
from vrm_dashboard.domain.payout_rules import payout_sources, transfer_sources
from vrm_dashboard.services.platform import audit
from vrm_dashboard.services.platform.actors import Actor
from vrm_dashboard.services.platform.errors import Conflict

# Money on its way: a payout in these is neither voided nor retried until the rail answers.
IN_FLIGHT = (P.PROCESSING.value, P.IN_REVIEW.value)


def move_payouts(session: Session, actor: Actor, which: ColumnElement[bool], target: P | str, *,
                 action: str | None = None, detail: dict[str, Any] | None = None,
                 values: dict[str, Any] | None = None) -> int:
    """Move the payouts matching `which` to `target`, those the status machine allows; the rest
    stay as they are. Returns how many moved."""
    target = P(target)
    allowed = sorted(payout_sources(target.value))
    moving = and_(which, col(Payout.status).in_(allowed), tenancy.owned(Payout, session))
    lock_rows(session, col(Payout.id), moving)
    after = {"status": target.value, **(detail or {})}
    for source in allowed:
        audit.record_where(session, actor, action or f"payout.{target.value}", "payout", Payout.id,
                           and_(moving, col(Payout.status) == source), {"status": source}, after)
    moved = session.connection().execute(
        update(Payout).where(moving).values(status=target.value, updated_at=utcnow(), **(values or {})))
    return int(moved.rowcount or 0)


def move_transfers(session: Session, actor: Actor, which: ColumnElement[bool], target: T | str, *,
                   action: str | None = None, detail: dict[str, Any] | None = None,
                   values: dict[str, Any] | None = None) -> list[int]:
    """Move the transfers matching `which` to `target`, those the transfer status machine allows
    (domain/payout_rules.TRANSFER_TRANSITIONS); the ids that moved, on which what follows is
    keyed. Each moved transfer is audited with the status it left."""
    target = T(target)
    allowed = sorted(transfer_sources(target.value))
    moving = and_(which, col(PaymentTransaction.status).in_(allowed), tenancy.owned(PaymentTransaction, session))
    lock_rows(session, col(PaymentTransaction.id), moving)
    after = {"status": target.value, **(detail or {})}
    for source in allowed:
        audit.record_where(session, actor, action or f"payment_transaction.{target.value}", "payment_transaction",
                           PaymentTransaction.id, and_(moving, col(PaymentTransaction.status) == source),
                           {"status": source}, after)
    rows = session.connection().execute(
        update(PaymentTransaction).where(moving).values(status=target.value, **{"updated_at": utcnow(), **(values or {})})
        .returning(col(PaymentTransaction.id))).all()
    return [int(tid) for (tid,) in rows if tid is not None]


def void_for_invoices(session: Session, actor: Actor, invoices: ColumnElement[bool], reason: str) -> int:
    """Void every open payout of these invoices (waiting or failed): an invoice archived, rejected,
    re-issued or sent back is not paid, whatever its payouts had reached. A payout whose money is
    on its way stops it: the invoice waits for the rail's answer."""
    of_invoices = col(Payout.invoice_id).in_(select(col(Invoice.id)).where(invoices))
    in_flight = session.connection().execute(select(col(Payout.id)).where(
        of_invoices, col(Payout.status).in_(IN_FLIGHT), tenancy.owned(Payout, session)).limit(1)).first()
    if in_flight is not None:
        raise Conflict("A payout run is already paying this invoice: wait for the payment's outcome")
    return move_payouts(session, actor, of_invoices, P.VOIDED, action="payout.voided", detail={"reason": reason},
                        values={"failure_reason": reason[:255]})

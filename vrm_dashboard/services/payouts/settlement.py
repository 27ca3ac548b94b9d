"""The end of a payment: a transaction and its payouts and invoices become Paid or Failed.

Set-based and idempotent: a callback, a status poll and a statement line may all report the
same outcome, and only the first one changes anything.

The statements run on the connection, past the session's scoping hook, so each states the
scope itself: a transaction of another organization (a foreign id in a statement line, a
crafted request) changes nothing, exactly as an id that does not exist.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import and_, bindparam, insert, literal, select, update
from sqlmodel import Session, col

from vrm_dashboard.db.models import (
    EmailDelivery,
    Invoice,
    Notification,
    PaymentTransaction,
    Payout,
    Vendor,
    table_of,
    utcnow,
)
from vrm_dashboard.db.models.payouts import PayoutStatus, TransactionStatus
from vrm_dashboard.domain.invoice_status import InvoiceStatus
from vrm_dashboard.services.invoices import moves as invoice_moves
from vrm_dashboard.services.payouts import moves as payout_moves
from vrm_dashboard.services.platform.actors import Actor

T = TransactionStatus
OPEN = (T.NEW.value, T.PROCESSING.value, T.IN_REVIEW.value)
_CHUNK = 5_000


def stored_ids(ids: Iterable[int | None]) -> list[int]:
    """Ids read back from the database: a primary key, or a foreign key the query keeps NOT NULL.

    SQLModel types ids `int | None` (a new row has none until flushed); a None here is a bug."""
    result: list[int] = []
    for i in ids:
        if i is None:
            raise ValueError("An id read back from the database is NULL")
        result.append(i)
    return result


def _move_invoices(session: Session, actor: Actor, transaction_ids: list[int], target: InvoiceStatus) -> None:
    """The invoices these transactions pay follow them, as far as their status machine allows."""
    invoice_moves.move_invoices(session, actor, col(Invoice.id).in_(select(col(Payout.invoice_id)).where(
        col(Payout.transaction_id).in_(transaction_ids))), target)


def _move_payouts(session: Session, actor: Actor, transaction_ids: list[int], target: PayoutStatus,
                  values: dict[str, Any]) -> None:
    payout_moves.move_payouts(session, actor, col(Payout.transaction_id).in_(transaction_ids), target, values=values)


def settle_paid(session: Session, actor: Actor, transaction_ids: list[int], confirmation: str | None = None,
                from_statuses: tuple[str, ...] = OPEN, confirmations: dict[int, str] | None = None) -> list[int]:
    """Mark these transactions paid (those still open); returns the ones that changed.

    `confirmation` is one reference for all; `confirmations` one per transaction.
    """
    done: list[int] = []
    for start in range(0, len(transaction_ids), _CHUNK):
        chunk = transaction_ids[start:start + _CHUNK]
        now = utcnow()
        values: dict[str, Any] = {"paid_at": now, "failure_reason": None}
        if confirmation:
            values["confirmation_reference"] = confirmation[:64]
        changed = payout_moves.move_transfers(
            session, actor, and_(col(PaymentTransaction.id).in_(chunk), col(PaymentTransaction.status).in_(from_statuses)),
            T.PAID, detail={"confirmation": confirmation}, values=values)
        if not changed:
            continue
        conn = session.connection()
        if confirmations:
            conn.execute(update(PaymentTransaction).where(col(PaymentTransaction.id) == bindparam("tid")).values(
                confirmation_reference=bindparam("ref")),
                [{"tid": t, "ref": confirmations[t][:64]} for t in changed if t in confirmations])
        _move_payouts(session, actor, changed, PayoutStatus.PAID, {"paid_at": now, "failure_reason": None})
        _move_invoices(session, actor, changed, InvoiceStatus.PAID)
        conn.execute(insert(Notification).from_select(
            ["owner_id", "vendor_id", "subject", "body", "created_at"],
            select(col(Vendor.owner_id), col(PaymentTransaction.vendor_id),
                   literal("Payment sent: ") + col(PaymentTransaction.reference),
                   literal("Your remittance advice lists the invoices this payment covers."),
                   literal(now, type_=table_of(Notification).c.created_at.type))
            .join(Vendor, col(Vendor.id) == PaymentTransaction.vendor_id)
            .where(col(PaymentTransaction.id).in_(changed)),
        ))
        # The remittance advice goes out by e-mail (services.mail.outgoing) as well.
        conn.execute(insert(EmailDelivery).from_select(
            ["owner_id", "transaction_id", "recipient", "subject", "status", "attempts", "created_at"],
            select(col(Vendor.owner_id), col(PaymentTransaction.id), col(Vendor.email),
                   literal("Remittance advice ") + col(PaymentTransaction.reference),
                   literal("queued"), literal(0), literal(now, type_=table_of(EmailDelivery).c.created_at.type))
            .join(Vendor, col(Vendor.id) == PaymentTransaction.vendor_id)
            .where(col(PaymentTransaction.id).in_(changed)),
        ))
        done.extend(changed)
    return done


def settle_failed(session: Session, actor: Actor, transaction_ids: list[int], reason: str,
                  from_statuses: tuple[str, ...] = OPEN, status: str = T.FAILED.value) -> list[int]:
    """Mark these transactions failed (or in review) with the reason; their payouts show it."""
    done: list[int] = []
    reason = reason[:255]
    payout_status = PayoutStatus.IN_REVIEW.value if status == T.IN_REVIEW.value else PayoutStatus.FAILED.value
    for start in range(0, len(transaction_ids), _CHUNK):
        chunk = transaction_ids[start:start + _CHUNK]
        changed = payout_moves.move_transfers(
            session, actor, and_(col(PaymentTransaction.id).in_(chunk), col(PaymentTransaction.status).in_(from_statuses)),
            status, detail={"reason": reason}, values={"failure_reason": reason})
        if not changed:
            continue
        _move_payouts(session, actor, changed, PayoutStatus(payout_status), {"failure_reason": reason, "paid_at": None})
        if status == T.FAILED.value:
            _move_invoices(session, actor, changed, InvoiceStatus.FAILED)
        done.extend(changed)
    return done

"""Payouts from approved invoices, the optional payout approval, and what people do when a
payment needs them: retry a failed one, record a manual one.

Controls as for invoices: the permission for the action; whoever approved, submitted, edited
or created the invoice (now or before an edit sent it round again) cannot approve its payout; a vendor on
hold is not paid; every move is audited.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import String, and_, case, cast, func, insert, literal, or_, select, update
from sqlalchemy.orm import Mapped
from sqlalchemy.sql.elements import ColumnElement, SQLColumnExpression
from sqlmodel import Session, col

from vrm_dashboard.db import tenancy
from vrm_dashboard.db.models import (
    AuditEntry,
    Invoice,
    InvoiceApproval,
    PaymentTransaction,
    Payout,
    PayoutApproval,
    Vendor,
    table_of,
    utcnow,
)
from vrm_dashboard.db.models.payouts import PayoutStatus, TransactionStatus
from vrm_dashboard.domain.invoice_status import InvoiceStatus
from vrm_dashboard.domain.payout_rules import RAIL_OF_METHOD, Rail, awaits_confirmation
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.domain.vendor_rules import ActivityStatus
from vrm_dashboard.services.invoices import moves as invoice_moves, queries as invoice_queries
from vrm_dashboard.services.payouts import moves as payout_moves
from vrm_dashboard.services.payouts.bank_accounts import changed_since_cleared
from vrm_dashboard.services.payouts.settlement import settle_failed, settle_paid, stored_ids
from vrm_dashboard.services.platform import audit, settings as app_settings
from vrm_dashboard.services.platform.actors import Actor, require
from vrm_dashboard.services.platform.bulk_outcome import REPORTED_REFUSALS, BulkResult, Refusal
from vrm_dashboard.services.platform.errors import Conflict, FieldErrors, NotFound, PermissionDenied
from vrm_dashboard.services.platform.thresholds import above_threshold

P = PayoutStatus
T = TransactionStatus


def rail_of_method_column(method: SQLColumnExpression[str]) -> ColumnElement[str]:
    """The rail for a payment-method column, in SQL (domain.payout_rules.RAIL_OF_METHOD)."""
    return case(*[(method == m.value, literal(r.value)) for m, r in RAIL_OF_METHOD.items()],
                else_=literal(Rail.MANUAL.value))
MAX_SELECTED = 10_000


def _audit_payouts(session: Session, actor: Actor, which: ColumnElement[bool], action: str,
                   before: dict[str, Any], after: dict[str, Any]) -> None:
    audit.record_where(session, actor, action, "payout", Payout.id, which, before, after)


def create_for_approved(session: Session, actor: Actor, invoices: ColumnElement[bool],
                        today: date | None = None) -> None:
    """A payout for every invoice matching `invoices` (just approved) that has none waiting.

    It waits for a payout approver when the flow is on and the amount is above the
    currency's threshold; it is paid on the invoice's due date, or at once when so set.
    """
    today = today or date.today()
    # Each organization's invoices by its own payout controls (a platform admin's, or a job's,
    # selection may hold several organizations').
    owners = session.connection().execute(select(col(Invoice.owner_id)).where(
        invoices, invoice_queries.owned_invoices(session)).distinct()).scalars().all()
    for owner in owners:
        _create_for_approved(session, actor, and_(invoices, col(Invoice.owner_id) == owner), owner, today)


def _create_for_approved(session: Session, actor: Actor, invoices: ColumnElement[bool], owner: int | None,
                         today: date) -> None:
    flow_on = bool(app_settings.get(session, app_settings.PAYOUT_APPROVAL_ENABLED, owner))
    thresholds = app_settings.get(session, app_settings.PAYOUT_APPROVAL_THRESHOLDS, owner)
    needs_approval = (above_threshold(thresholds, col(Invoice.currency), col(Invoice.total_minor)) if flow_on
                      else literal(False))
    pay_date: ColumnElement[date]
    if app_settings.get(session, app_settings.PAY_IMMEDIATELY, owner):
        pay_date = literal(today)
    else:
        pay_date = case((or_(col(Invoice.due_date).is_(None), col(Invoice.due_date) < today), literal(today)),
                        else_=col(Invoice.due_date))
    now = utcnow()
    waiting = select(col(Payout.id)).where(col(Payout.invoice_id) == Invoice.id,
                                           col(Payout.status).in_([P.PAYOUT_APPROVAL.value, P.AWAITING_PAYOUT.value]))
    # A re-approved invoice (approval withdrawn, then given again) keeps a fresh, unique key.
    earlier = select(func.count(col(Payout.id))).where(col(Payout.invoice_id) == Invoice.id).scalar_subquery()
    key = literal("invoice-") + cast(Invoice.id, String) + literal("-") + cast(earlier + 1, String)
    last_before = session.execute(select(func.coalesce(func.max(Payout.id), 0))).scalar_one()
    # Written on the connection, past the scoping hook: the scope is part of the statements.
    owned = invoice_queries.owned_invoices(session)
    payout = table_of(Payout)
    session.connection().execute(insert(Payout).from_select(
        ["invoice_id", "vendor_id", "amount_minor", "currency", "status", "rail", "pay_date", "idempotency_key",
         "created_by_id", "created_at", "updated_at"],
        select(col(Invoice.id), col(Invoice.vendor_id), col(Invoice.total_minor), col(Invoice.currency),
               case((needs_approval, literal(P.PAYOUT_APPROVAL.value)), else_=literal(P.AWAITING_PAYOUT.value)),
               rail_of_method_column(col(Vendor.payment_method)), pay_date, key, literal(actor.user_id),
               literal(now, type_=payout.c.created_at.type),
               literal(now, type_=payout.c.updated_at.type))
        .join(Vendor, col(Vendor.id) == Invoice.vendor_id)
        # A credit note (or any invoice of nothing or less) is owed to us, not by us: never a payout.
        .where(invoices, owned, col(Invoice.status) == InvoiceStatus.APPROVED.value, col(Invoice.total_minor) > 0,
               ~waiting.exists()),
    ))
    _audit_payouts(session, actor, and_(col(Payout.id) > last_before, col(Payout.invoice_id).in_(
        select(col(Invoice.id)).where(invoices, owned))), "payout.created", {},
                   {"status": "created from the approved invoice"})


def _scope(session: Session, payout_ids: list[int]) -> ColumnElement[bool]:
    """The selected payouts among the session's organizations' own. The statements acting on
    them run on the connection, past the scoping hook, so the scope is part of the selection:
    another organization's payout is left out as one that does not exist."""
    ids = sorted({int(i) for i in payout_ids})
    if not ids:
        raise FieldErrors({"selection": "Select at least one payout"})
    if len(ids) > MAX_SELECTED:
        raise FieldErrors({"selection": f"Select at most {MAX_SELECTED} payouts at a time"})
    return and_(col(Payout.id).in_(ids), tenancy.owned(Payout, session))


def _report(session: Session, scope: ColumnElement[bool], reason: ColumnElement[str | None],
            result: BulkResult) -> None:
    labelled = select(col(Payout.id).label("id"), reason.label("reason")).where(scope).subquery()
    for text, count in session.execute(select(labelled.c.reason, func.count()).where(labelled.c.reason.is_not(None))
                                       .group_by(labelled.c.reason)).all():
        result.refused_by_reason[text] = int(count)
    result.refused_count = sum(result.refused_by_reason.values())
    result.refused = [Refusal(f"Payout {pid}", text) for pid, text in session.execute(
        select(labelled.c.id, labelled.c.reason).where(labelled.c.reason.is_not(None))
        .order_by(labelled.c.id).limit(REPORTED_REFUSALS)).all()]


def _invoice_by(column: Mapped[int | None], uid: int) -> ColumnElement[bool]:
    """Whether the payout's invoice has `uid` in `column` (its creator, submitter, editor)."""
    return select(col(Invoice.id)).where(col(Invoice.id) == Payout.invoice_id, column == uid).exists()


def _in_invoice_history(uid: int, *actions: str) -> ColumnElement[bool]:
    """Whether `uid` ever did one of `actions` to the payout's invoice, as the audit log keeps
    it: an edit deletes the invoice's approvals and a new submission replaces its submitter,
    but the log keeps every one of them."""
    return select(col(AuditEntry.id)).where(
        col(AuditEntry.object_type) == "invoice", col(AuditEntry.object_id) == cast(Payout.invoice_id, String),
        col(AuditEntry.actor_user_id) == uid, col(AuditEntry.action).in_(actions)).exists()


def _own_work(uid: int) -> list[tuple[ColumnElement[bool], ColumnElement[str]]]:
    """What keeps `uid` from approving a payout (segregation of duties): having approved,
    submitted, edited or created its invoice, now or in an earlier round."""
    approved = or_(col(Payout.created_by_id) == uid,
                   select(col(InvoiceApproval.id)).where(col(InvoiceApproval.invoice_id) == Payout.invoice_id,
                                                         col(InvoiceApproval.user_id) == uid).exists(),
                   _in_invoice_history(uid, "invoice.approved", "invoice.approval_recorded"))
    submitted = or_(_invoice_by(col(Invoice.submitted_by_id), uid), _in_invoice_history(uid, "invoice.pending"))
    edited = or_(_invoice_by(col(Invoice.updated_by_id), uid), _in_invoice_history(uid, "invoice.edit"))
    return [(approved, literal("You approved its invoice (segregation of duties)")),
            (submitted, literal("You submitted its invoice (segregation of duties)")),
            (edited, literal("You edited its invoice (segregation of duties)")),
            (_invoice_by(col(Invoice.created_by_id), uid), literal("You created its invoice (segregation of duties)"))]


def approve(session: Session, actor: Actor, payout_ids: list[int]) -> BulkResult:
    """Clear payouts waiting in Payout Approval so the payout run pays them."""
    require(actor, Action.PAYOUT_APPROVE)
    if actor.user_id is None:
        raise PermissionDenied("Only a person can approve payouts")
    scope = _scope(session, payout_ids)
    # Each organization's payouts by its own controls: a platform admin's selection may hold several.
    result = BulkResult()
    payer = select(col(Vendor.owner_id)).where(col(Vendor.id) == Payout.vendor_id).scalar_subquery()
    for owner in session.connection().execute(select(payer).where(scope).distinct()).scalars().all():
        result.add(_approve(session, actor, and_(scope, payer == owner), owner))
    return result


def _approve(session: Session, actor: Actor, scope: ColumnElement[bool], owner: int | None) -> BulkResult:
    uid = actor.user_id
    assert uid is not None, "approve checked it is a person"
    on_hold = col(Payout.vendor_id).in_(select(col(Vendor.id)).where(
        col(Vendor.activity_status) == ActivityStatus.ON_HOLD.value))
    segregated = bool(app_settings.get(session, app_settings.SOD_PAYOUT_APPROVAL, owner))
    reason = case(
        (col(Payout.status) != P.PAYOUT_APPROVAL.value, literal("Not waiting for payout approval")),
        (on_hold, literal("Vendor is on hold")),
        *(_own_work(uid) if segregated else []),
        else_=None,
    )
    result = BulkResult()
    _report(session, scope, reason, result)
    conn = session.connection()
    ids = list(conn.execute(select(col(Payout.id)).where(scope, reason.is_(None))).scalars())
    if ids:
        now = utcnow()
        conn.execute(insert(PayoutApproval), [{"payout_id": i, "user_id": uid, "user_label": actor.label, "at": now}
                                              for i in ids])
        conn.execute(update(Payout).where(col(Payout.id).in_(ids), col(Payout.status) == P.PAYOUT_APPROVAL.value)
                     .values(status=P.AWAITING_PAYOUT.value, approved_by_id=uid, updated_at=now))
        _audit_payouts(session, actor, col(Payout.id).in_(ids), "payout.approved", {"status": P.PAYOUT_APPROVAL.value},
                       {"status": P.AWAITING_PAYOUT.value, "approved_by": actor.label})
    result.moved = len(ids)
    return result


def retry(session: Session, actor: Actor, payout_ids: list[int]) -> int:
    """Send failed (or reviewed, unpaid) payouts back to the payout run with a new transfer."""
    require(actor, Action.PAYOUT_MANAGE)
    scope = _scope(session, payout_ids)
    conn = session.connection()
    in_review = stored_ids(conn.execute(select(col(Payout.transaction_id)).where(
        scope, col(Payout.status) == P.IN_REVIEW.value, col(Payout.transaction_id).is_not(None)).distinct()).scalars())
    if in_review:
        # A person has confirmed with the provider that it did not pay; the old transfer is closed.
        settle_failed(session, actor, in_review, f"Closed by {actor.label}: not paid, retried",
                      from_statuses=(T.IN_REVIEW.value,))
    # The invoice and the vendor are checked again: an invoice archived or re-issued since the
    # failure is not paid, nor a vendor put on hold or deactivated.
    still_owed = col(Payout.invoice_id).in_(select(col(Invoice.id)).where(
        col(Invoice.status) == InvoiceStatus.FAILED.value))
    vendor_active = col(Payout.vendor_id).in_(select(col(Vendor.id)).where(
        col(Vendor.activity_status) == ActivityStatus.ACTIVE.value))
    ids = list(conn.execute(select(col(Payout.id)).where(
        scope, col(Payout.status) == P.FAILED.value, still_owed, vendor_active)).scalars())
    if not ids:
        return 0
    invoice_moves.move_invoices(
        session, actor, col(Invoice.id).in_(select(col(Payout.invoice_id)).where(col(Payout.id).in_(ids))),
        InvoiceStatus.APPROVED, action="invoice.payment_retried")
    return payout_moves.move_payouts(session, actor, col(Payout.id).in_(ids), P.AWAITING_PAYOUT,
                                     action="payout.retried", values={"transaction_id": None, "failure_reason": None})


def mark_paid(session: Session, actor: Actor, transaction_id: int, bank_reference: str) -> None:
    """A person confirms a transfer was paid (a wire they sent, a file the bank executed, or a
    provider payment checked by hand), with the bank's reference."""
    require(actor, Action.PAYOUT_MANAGE)
    bank_reference = " ".join((bank_reference or "").split())
    if not bank_reference:
        raise FieldErrors({"bank_reference": "Enter the bank's reference for this payment"})
    transaction = session.get(PaymentTransaction, transaction_id)
    if transaction is None:
        raise NotFound(f"No payment transaction {transaction_id}")
    if not awaits_confirmation(transaction.status, transaction.rail):
        if transaction.rail == Rail.PROVIDER.value and transaction.status == T.PROCESSING.value:
            raise Conflict("The provider confirms its own payments; only one in review can be marked by hand")
        raise Conflict(f"Transaction {transaction.reference} is {transaction.status}, not awaiting confirmation")
    if transaction.status == T.PROCESSING.value and changed_since_cleared(session, transaction):
        # The person may have wired to the new account, which has not cooled off: someone
        # checks with the vendor, through a known contact, which account got the money first.
        settle_failed(session, actor, [transaction_id], "The vendor's bank details changed after this payment was "
                      "cleared: check which account was paid, then mark it paid from review",
                      from_statuses=(T.PROCESSING.value,), status=T.IN_REVIEW.value)
        return
    settle_paid(session, actor, [transaction_id], confirmation=bank_reference,
                from_statuses=(T.PROCESSING.value, T.IN_REVIEW.value))
    audit.record(session, actor, "payment_transaction.marked_paid", "payment_transaction", transaction_id,
                 after={"bank_reference": bank_reference})


def withdraw_for_invoice(session: Session, actor: Actor, invoice_id: int,
                         reason: str = "Its invoice's approval was withdrawn") -> None:
    """Void the open payouts (waiting or failed) of an invoice that is not to be paid: its approval
    withdrawn, or it is archived."""
    claimed = session.execute(select(col(Payout.id)).where(
        col(Payout.invoice_id) == invoice_id, col(Payout.transaction_id).is_not(None),
        col(Payout.status).in_([P.PROCESSING.value, P.PAID.value, P.IN_REVIEW.value]))).first()
    if claimed is not None:
        raise Conflict("A payout run is already paying this invoice; its approval can no longer be withdrawn")
    payout_moves.void_for_invoices(session, actor, col(Invoice.id) == invoice_id, reason)
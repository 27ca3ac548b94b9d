"""Approving and rejecting invoices, one or thousands at a time, as set-based operations.

Controls: the permission for the action; segregation of duties (whoever created, submitted
or last edited an invoice cannot approve it); two distinct approvers above the configured amount;
no approval while the vendor is on hold. Invoices that may not move are reported back with
their reason and the rest move. Every moved invoice gets its audit entry.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

from sqlalchemy import (
    Column,
    ColumnElement,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from vrm_dashboard.db.models import (
    Invoice,
    InvoiceApproval,
    Notification,
    Vendor,
    table_of,
    utcnow,
)
from vrm_dashboard.domain.invoice_status import InvoiceStatus
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.domain.vendor_rules import ActivityStatus
from vrm_dashboard.services.invoices import (
    flags as invoice_flags,
    moves as invoice_moves,
    queries as invoice_queries,
)
from vrm_dashboard.services.payouts import records as payouts
from vrm_dashboard.services.platform import audit, settings as app_settings
from vrm_dashboard.services.platform.actors import Actor, require
from vrm_dashboard.services.platform.bulk_outcome import REPORTED_REFUSALS, BulkResult, Refusal
from vrm_dashboard.services.platform.errors import FieldErrors, PermissionDenied
from vrm_dashboard.services.platform.thresholds import above_threshold

PENDING = InvoiceStatus.PENDING.value
APPROVED = InvoiceStatus.APPROVED.value
REJECTED = InvoiceStatus.REJECTED.value
MAX_SELECTED = 10_000
REASON_MAX = 500
_CHUNK = 30_000  # ids per IN list: under SQLite's 32,766 bound variables


@dataclass
class Selection:
    """Either the rows a person ticked, or every invoice matching a view."""

    invoice_ids: list[int] = field(default_factory=list)
    query: invoice_queries.InvoiceQuery | None = None


def _scope(session: Session, selection: Selection) -> ColumnElement[bool]:
    """The selected invoices among those the session's organizations own. The statements that
    act on them run on the connection, past the session's scoping hook, so the scope is part
    of the selection itself: an id of another organization (or of a receivable the actor's
    organization is only billed by) is left out exactly like an id that does not exist."""
    owned = invoice_queries.owned_invoices(session)
    if selection.query is not None:
        where, needs_vendor = invoice_queries.conditions(selection.query)
        inner = select(col(Invoice.id))
        if needs_vendor:
            inner = inner.join(Vendor, col(Vendor.id) == Invoice.vendor_id)
        return and_(col(Invoice.id).in_(inner.where(*where)), owned)
    ids = sorted({int(i) for i in selection.invoice_ids})
    if not ids:
        raise FieldErrors({"selection": "Select at least one invoice"})
    if len(ids) > MAX_SELECTED:
        raise FieldErrors({"selection": f"Select at most {MAX_SELECTED} rows, or act on the whole filter"})
    return and_(col(Invoice.id).in_(ids), owned)


def _vendor_on_hold() -> ColumnElement[bool]:
    return col(Invoice.vendor_id).in_(
        select(col(Vendor.id)).where(col(Vendor.activity_status) == ActivityStatus.ON_HOLD.value))


def _approved_by(user_id: int) -> ColumnElement[bool]:
    return select(col(InvoiceApproval.id)).where(
        col(InvoiceApproval.invoice_id) == Invoice.id, col(InvoiceApproval.user_id) == user_id).exists()


def _report_refusals(session: Session, scope: ColumnElement[bool], reason: ColumnElement[str | None],
                     result: BulkResult) -> None:
    labelled = select(col(Invoice.number).label("number"), reason.label("reason")).where(scope).subquery()
    for text, count in session.execute(
        select(labelled.c.reason, func.count()).where(labelled.c.reason.is_not(None)).group_by(labelled.c.reason)
    ).all():
        result.refused_by_reason[text] = int(count)
    result.refused_count = sum(result.refused_by_reason.values())
    result.refused = [
        Refusal(number, text) for number, text in session.execute(
            select(labelled.c.number, labelled.c.reason).where(labelled.c.reason.is_not(None))
            .order_by(labelled.c.number).limit(REPORTED_REFUSALS)
        ).all()
    ]


def _report_batch_refusals(conn: Connection, batch: Table, result: BulkResult) -> None:
    refused = batch.c.reason.is_not(None)
    for text, count in conn.execute(select(batch.c.reason, func.count()).where(refused).group_by(batch.c.reason)):
        result.refused_by_reason[text] = int(count)
    result.refused_count = sum(result.refused_by_reason.values())
    result.refused = [Refusal(number, text) for number, text in conn.execute(
        select(col(Invoice.number), batch.c.reason).join(batch, batch.c.invoice_id == Invoice.id).where(refused)
        .order_by(col(Invoice.number)).limit(REPORTED_REFUSALS))]


def _needs_two_approvers(thresholds: dict[str, str]) -> ColumnElement[bool]:
    return above_threshold(thresholds, col(Invoice.currency), col(Invoice.total_minor))


def _audit_rows(session: Session, actor: Actor, which: ColumnElement[bool] | list[int], action: str,
                before: dict[str, str], after: dict[str, str]) -> None:
    """One audit entry per invoice matching `which` (a condition, or a list of ids)."""
    if isinstance(which, list):
        if not which:
            return
        which = col(Invoice.id).in_(which)
    audit.record_where(session, actor, action, "invoice", Invoice.id, which, before, after)


def _batch_table() -> Table:
    """A per-transaction scratch table of the invoices one approval acts on, so every step
    is a single set-based statement however many invoices there are."""
    return Table(
        "approval_batch", MetaData(),
        Column("invoice_id", Integer, primary_key=True),
        # Why it may not be approved (None: it may), and whether this approval completes it.
        Column("reason", String(120), nullable=True),
        Column("complete", Integer, nullable=False),
        prefixes=["TEMPORARY"],
    )


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start:start + _CHUNK]


def approve(session: Session, actor: Actor, selection: Selection) -> BulkResult:
    """Record the actor's approval on every eligible selected invoice; move those that are
    fully approved to Approved, where they join the payout queue."""
    require(actor, Action.INVOICE_APPROVE)
    if actor.user_id is None:
        raise PermissionDenied("Only a person can approve invoices")
    scope = _scope(session, selection)
    # Each organization's invoices by its own controls: a platform admin's selection may hold several.
    result = BulkResult()
    for owner in session.execute(select(col(Invoice.owner_id)).where(scope).distinct()).scalars().all():
        result.add(_approve(session, actor, and_(scope, col(Invoice.owner_id) == owner), owner))
    return result


def _approve(session: Session, actor: Actor, scope: ColumnElement[bool], owner: int | None) -> BulkResult:
    uid = actor.user_id
    assert uid is not None, "approve checked it is a person"
    segregated = bool(app_settings.get(session, app_settings.SOD_INVOICE_APPROVAL, owner))
    own_work = [(col(Invoice.updated_by_id) == uid, literal("You last edited it (segregation of duties)")),
                (col(Invoice.submitted_by_id) == uid, literal("You submitted it (segregation of duties)")),
                (col(Invoice.created_by_id) == uid, literal("You created it (segregation of duties)"))]
    reason = case(
        (col(Invoice.status) != PENDING, literal("Not in Pending")),
        (_vendor_on_hold(), literal("Vendor is on hold")),
        *(own_work if segregated else []),
        (_approved_by(uid), literal("You already approved it; a second approver is needed")),
        else_=None,
    )
    result = BulkResult()
    thresholds = app_settings.get(session, app_settings.TWO_APPROVER_THRESHOLDS, owner)
    someone_else_approved = (select(col(InvoiceApproval.id))
                             .where(col(InvoiceApproval.invoice_id) == Invoice.id).exists())
    # Complete: under the two-approver threshold, or someone else approved it already.
    completes = case((or_(~_needs_two_approvers(thresholds), someone_else_approved), 1), else_=0)
    now = utcnow()
    # Set-based statements go through the connection: the ORM has no loaded invoices to sync.
    conn = session.connection()
    batch = _batch_table()
    batch.create(conn)
    # One pass over the selection decides every invoice: refused (with the reason) or
    # approved, completing it or waiting for a second approver.
    conn.execute(insert(batch).from_select(["invoice_id", "reason", "complete"],
                                           select(col(Invoice.id), reason, completes).where(scope)))
    _report_batch_refusals(conn, batch, result)
    eligible = batch.c.reason.is_(None)
    # The batch holds only invoices in scope; every statement below reads its ids from it.
    complete = col(Invoice.id).in_(select(batch.c.invoice_id).where(eligible, batch.c.complete == 1))
    waiting = col(Invoice.id).in_(select(batch.c.invoice_id).where(eligible, batch.c.complete == 0))
    conn.execute(insert(InvoiceApproval).from_select(
        ["invoice_id", "user_id", "user_label", "at"],
        select(batch.c.invoice_id, literal(uid), literal(actor.label),
               literal(now, type_=table_of(InvoiceApproval).c.at.type)).where(eligible),
    ))
    invoice_moves.move_invoices(session, actor, complete, APPROVED, detail={"approved_by": actor.label})
    payouts.create_for_approved(session, actor, complete)
    _audit_rows(session, actor, waiting, "invoice.approval_recorded", {"status": PENDING},
                {"status": PENDING, "approved_by": actor.label, "note": "needs a second approver"})
    total, done = conn.execute(select(func.count(), func.coalesce(func.sum(batch.c.complete), 0))
                               .where(eligible)).one()
    batch.drop(conn)
    result.moved = int(done)
    result.awaiting_second_approval = int(total) - int(done)
    return result


def reject(session: Session, actor: Actor, selection: Selection, reason_text: str) -> BulkResult:
    """Reject every selected invoice in Pending with the reason; its vendor is told."""
    require(actor, Action.INVOICE_REJECT)
    reason_text = " ".join((reason_text or "").split())
    if not reason_text:
        raise FieldErrors({"reason": "Give the vendor a reason for the rejection"})
    if len(reason_text) > REASON_MAX:
        raise FieldErrors({"reason": f"The reason is at most {REASON_MAX} characters"})
    scope = _scope(session, selection)
    result = BulkResult()
    _report_refusals(session, scope, case((col(Invoice.status) != PENDING, literal("Not in Pending")), else_=None),
                     result)
    eligible = list(session.execute(
        select(col(Invoice.id)).where(scope, col(Invoice.status) == PENDING).order_by(col(Invoice.id))
    ).scalars().all())
    now = utcnow()
    conn = session.connection()
    for chunk in _chunks(eligible):
        # `eligible` came through `scope`: only the session's organizations' own invoices.
        in_chunk = col(Invoice.id).in_(chunk)
        invoice_moves.move_invoices(session, actor, in_chunk, REJECTED, detail={"rejection_reason": reason_text},
                                    values={"rejection_reason": reason_text})
        # Earlier approvals do not carry over if the invoice comes back corrected.
        conn.execute(delete(InvoiceApproval).where(col(InvoiceApproval.invoice_id).in_(chunk)))
        conn.execute(insert(Notification).from_select(
            ["owner_id", "vendor_id", "invoice_id", "subject", "body", "created_at"],
            select(col(Invoice.owner_id), col(Invoice.vendor_id), col(Invoice.id),
                   literal("Invoice ") + Invoice.number + literal(" was rejected"),
                   literal("Reason: ") + literal(reason_text),
                   literal(now, type_=table_of(Notification).c.created_at.type))
            .where(in_chunk, col(Invoice.vendor_id).is_not(None)),
        ))
        other = aliased(Invoice)
        partners = session.execute(select(col(other.id)).where(
            select(col(Invoice.id)).where(in_chunk, col(Invoice.vendor_id) == other.vendor_id,
                                          col(Invoice.total_minor) == other.total_minor,
                                          col(Invoice.issue_date) == other.issue_date).exists()
        )).scalars().all()
        invoice_flags.reconcile(session, set(chunk) | set(partners))
        result.moved += len(chunk)
    return result

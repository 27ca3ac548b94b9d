"""Collecting customers' overdue invoices through the payment collector.

A run works in batches. Each batch is first claimed (invoices Processing, one attempt per
invoice with its idempotency key, committed), then charged, then settled (Paid with the
method that paid, or Failed with the reason). A run that dies after claiming leaves its
attempts pending; the next run charges them again with the same keys, which the collector
answers without charging twice."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, func, insert, or_, select, update
from sqlmodel import Session, col

from vrm_dashboard.db import tenancy
from vrm_dashboard.db.models import CollectionAttempt, Invoice, Organization, table_of, utcnow
from vrm_dashboard.domain.collection_rules import (
    CHARGEABLE,
    COLLECTABLE_STATUSES,
    MAX_ATTEMPTS,
    RETRY_AFTER_DAYS,
    AttemptOutcome,
    CustomerPaymentMethod,
)
from vrm_dashboard.domain.invoice_status import InvoiceStatus as S
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.rails import registry
from vrm_dashboard.rails.base import Collector
from vrm_dashboard.services.invoices import flags as invoice_flags, moves as invoice_moves
from vrm_dashboard.services.platform import crash_points, settings as app_settings
from vrm_dashboard.services.platform.actors import Actor, require
from vrm_dashboard.services.platform.errors import FieldErrors
from vrm_dashboard.services.platform.job_runs import JobResult
from vrm_dashboard.services.receivables import organizations

BATCH = 5000
JOB = Actor.system("collect_overdue_invoices")


@dataclass
class Selection:
    """Which invoices to collect: those due on or before `on` ("due_date", the default today),
    or issued on or before it ("invoice_date")."""

    by: str = "due_date"
    on: date | None = None


@dataclass
class CollectionSummary:
    collected: int = 0
    failed: int = 0
    collected_amounts: dict[str, int] = field(default_factory=dict)
    failed_amounts: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)
    failures: list[tuple[str, str]] = field(default_factory=list)

    @property
    def attempted(self) -> int:
        return self.collected + self.failed

    def add(self, other: "CollectionSummary") -> None:
        self.collected += other.collected
        self.failed += other.failed
        for mine, theirs in ((self.collected_amounts, other.collected_amounts),
                             (self.failed_amounts, other.failed_amounts), (self.reasons, other.reasons)):
            for key, value in theirs.items():
                mine[key] = mine.get(key, 0) + value
        self.failures.extend(other.failures[:max(0, 50 - len(self.failures))])


def _collectable(actor: Actor, selection: Selection, today: date) -> list[ColumnElement[bool]]:
    on = selection.on or today
    if selection.by == "due_date":
        when = col(Invoice.due_date) <= on
    elif selection.by == "invoice_date":
        when = col(Invoice.issue_date) <= on
    else:
        raise FieldErrors({"by": "Collect by invoice date or by due date"})
    tries = select(func.count()).where(col(CollectionAttempt.invoice_id) == Invoice.id).scalar_subquery()
    last = select(func.max(CollectionAttempt.attempted_at)).where(
        col(CollectionAttempt.invoice_id) == Invoice.id).scalar_subquery()
    # The scheduler waits between tries; a person asking now is asking for now.
    retry_before = utcnow() - timedelta(days=RETRY_AFTER_DAYS if "system" in actor.roles else 0)
    return [
        col(Invoice.organization_id).in_(select(col(Organization.id)).where(organizations.managed(actor))),
        col(Invoice.consolidated_into_id).is_(None), when,
        col(Invoice.status).in_(COLLECTABLE_STATUSES),
        # A failed invoice is tried again after a pause, and not for ever.
        or_(col(Invoice.status) == S.APPROVED.value, and_(tries < MAX_ATTEMPTS, last <= retry_before)),
    ]


def _claim(session: Session, actor: Actor, conditions: list[ColumnElement[bool]], limit: int) -> list[int]:
    """Mark a batch Processing and write its pending attempts; committed before any charge."""
    rows = session.execute(
        select(col(Invoice.id), col(Invoice.status), col(Invoice.total_minor), col(Invoice.currency),
               col(Organization.collection_method),
               select(func.count()).where(col(CollectionAttempt.invoice_id) == Invoice.id).scalar_subquery())
        .join(Organization, col(Organization.id) == Invoice.organization_id)
        .where(*conditions).order_by(col(Invoice.id)).limit(limit)).all()
    if not rows:
        return []
    now = utcnow()
    ids = [r[0] for r in rows]
    claimed = invoice_moves.move_invoices(
        session, actor, and_(col(Invoice.id).in_(ids), col(Invoice.status).in_(COLLECTABLE_STATUSES)), S.PROCESSING,
        action="receivable.collect")
    if claimed != len(ids):
        # Another run took some of these meanwhile: give back ours and let the next batch decide.
        session.rollback()
        return []
    method_of = lambda m: m if m in CHARGEABLE else CustomerPaymentMethod.WIRE.value  # noqa: E731
    session.execute(insert(CollectionAttempt), [
        {"invoice_id": i, "idempotency_key": f"collect-{i}-{n + 1}", "attempted_at": now, "method": method_of(m),
         "outcome": AttemptOutcome.PENDING.value, "amount_minor": total, "currency": currency, "initiated_by_id": actor.user_id}
        for i, _status, total, currency, m, n in rows])
    session.commit()
    return ids


def _charge_pending(session: Session, actor: Actor, collector: Collector,
                    invoice_ids: list[int] | None) -> CollectionSummary:
    """Charge every pending attempt (of these invoices, or left by any earlier run) and settle."""
    where: list[ColumnElement[bool]] = [col(CollectionAttempt.outcome) == AttemptOutcome.PENDING.value]
    if invoice_ids is not None:
        where.append(col(CollectionAttempt.invoice_id).in_(invoice_ids))
    attempts = session.execute(
        select(col(CollectionAttempt.id), col(CollectionAttempt.invoice_id), col(CollectionAttempt.idempotency_key),
               col(CollectionAttempt.method), col(CollectionAttempt.amount_minor), col(CollectionAttempt.currency),
               col(Invoice.number))
        .join(Invoice, col(Invoice.id) == CollectionAttempt.invoice_id).where(*where)).all()
    summary = CollectionSummary()
    attempt_rows: list[dict[str, Any]] = []
    # (outcome, payment method) -> the invoices it settles
    settled: dict[tuple[str, str], list[int]] = {}
    collected_amounts: Counter[str] = Counter()
    failed_amounts: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    for attempt_id, invoice_id, key, method, amount, currency, number in attempts:
        charge = collector.charge(key, method, amount, currency)
        crash_points.reached("collection_charged")  # charged, nothing of it recorded yet
        outcome = AttemptOutcome.COLLECTED if charge.collected else AttemptOutcome.FAILED
        status = S.PAID.value if charge.collected else S.FAILED.value
        attempt_rows.append({"attempt_id": attempt_id, "outcome": outcome.value, "reference": charge.reference,
                             "failure_reason": charge.reason})
        settled.setdefault((status, method), []).append(invoice_id)
        if charge.collected:
            summary.collected += 1
            collected_amounts[currency] += amount
        else:
            summary.failed += 1
            failed_amounts[currency] += amount
            reasons[charge.reason or "Failed"] += 1
            if len(summary.failures) < 50:
                summary.failures.append((number, charge.reason or "Failed"))
    if attempt_rows:
        # One UPDATE per row, by id, in the session's scope: an ORM bulk UPDATE by primary key
        # would pass the session's scoping hook without its criteria.
        attempt = table_of(CollectionAttempt)
        conn = session.connection()
        conn.execute(update(attempt).where(attempt.c.id == bindparam("attempt_id"),
                                           tenancy.owned(CollectionAttempt, session)), attempt_rows)
        for (status, method), ids in settled.items():
            # Only what this collection still holds: an invoice the customer paid by wire
            # meanwhile is not moved again, and a charge that took its money twice is flagged.
            collecting = and_(col(Invoice.id).in_(ids), col(Invoice.status) == S.PROCESSING.value)
            if status == S.PAID.value:
                invoice_flags.flag(session, and_(col(Invoice.id).in_(ids), col(Invoice.status) == S.PAID.value),
                                   "paid_twice", "Collected by card while already paid by another channel: refund one")
            invoice_moves.move_invoices(session, actor, collecting, S(status), action="receivable.collected",
                                        detail={"payment_method": method}, values={"payment_method": method})
    summary.collected_amounts, summary.failed_amounts = dict(collected_amounts), dict(failed_amounts)
    summary.reasons = dict(reasons)
    return summary


def _collector(session: Session) -> Collector:
    return registry.collector(int(app_settings.get(session, app_settings.COLLECTOR_FAILURE_PERCENT)))


def collect(session: Session, actor: Actor, selection: Selection | None = None, today: date | None = None,
            batch: int = BATCH, collector: Collector | None = None) -> CollectionSummary:
    """Collect every applicable invoice of the actor's customers; committed batch by batch.
    `collector` defaults to the configured one (rails.registry)."""
    require(actor, Action.COLLECTION_MANAGE)
    selection = selection or Selection()
    today = today or date.today()
    conditions = _collectable(actor, selection, today)
    collector = collector or _collector(session)
    summary = CollectionSummary()
    # First whatever an interrupted run left pending (the scheduler's run only: a person's
    # run settles its own).
    if "system" in actor.roles:
        summary.add(_charge_pending(session, actor, collector, None))
        session.commit()
        crash_points.reached("collection_settled")
    while True:
        claimed = _claim(session, actor, conditions, batch)
        if not claimed:
            break
        crash_points.reached("collection_claimed")
        summary.add(_charge_pending(session, actor, collector, claimed))
        session.commit()
        crash_points.reached("collection_settled")
    return summary


def collect_overdue(session: Session) -> JobResult:
    """The scheduler job: every customer invoice past its due date, through the collector."""
    summary = collect(session, JOB, Selection("due_date", date.today() - timedelta(days=1)))
    return JobResult(summary.collected, errors=summary.failed,
                     detail=f"collected {summary.collected}, failed {summary.failed}")


@dataclass
class AttemptRow:
    attempted_at: datetime
    method: str
    outcome: str
    amount_minor: int
    currency: str
    reference: str
    failure_reason: str


def attempts_of(session: Session, actor: Actor, invoice_id: int) -> list[AttemptRow]:
    require(actor, Action.INVOICE_VIEW)
    invoice = session.get(Invoice, invoice_id)
    if invoice is None or invoice.organization_id is None:
        return []
    organizations.require_managed(session, actor, [invoice.organization_id])
    rows = session.execute(select(CollectionAttempt).where(col(CollectionAttempt.invoice_id) == invoice_id)
                           .order_by(col(CollectionAttempt.id).desc())).scalars()
    return [AttemptRow(a.attempted_at, a.method, a.outcome, a.amount_minor, a.currency, a.reference or "",
                       a.failure_reason or "") for a in rows]


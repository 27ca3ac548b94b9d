"""The managers' overview: the figures of every pipeline at once, summed in SQL, and a cheap
signature that tells whether any of them may have changed."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlmodel import Session, col

from vrm_dashboard.db.models import AuditEntry, EmailDelivery, Invoice, InvoiceRollup, Payout, utcnow
from vrm_dashboard.domain.invoice_status import InvoiceStatus
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.distribution import reports as distribution_reports
from vrm_dashboard.services.payouts import queries as payout_queries
from vrm_dashboard.services.platform.actors import Actor, require
from vrm_dashboard.services.receivables import aging
from vrm_dashboard.services.reporting.status_counts import StatusTotal

UPCOMING_DAYS = 14
HISTORY_DAYS = 30
# Every figure the session may see: the overview is the same for every manager of an
# organization, and the session's scope (db/tenancy.py) keeps it to that organization's book.
EVERYONE = Actor.system("overview")


@dataclass
class Overview:
    computed_at: datetime
    invoice_totals: list[StatusTotal]
    # Invoices waiting for approval (status Pending): count and amount per currency.
    pending_count: int
    pending_amounts: dict[str, int]
    payout_groups: list[payout_queries.GroupTotal]
    paid_this_month: dict[str, int]
    paid_this_month_count: int
    upcoming: list[tuple[date, str, int, int]]  # pay date, currency, payouts, amount
    paid_by_day: list[tuple[date, str, int]]  # day, currency, amount
    by_rail: list[tuple[str, str, int, int]]  # rail, currency, payouts, amount (last HISTORY_DAYS)
    aging: aging.AgingReport
    distribution: list[distribution_reports.ReportRow]


def _per_currency(amounts: Iterable[tuple[str, int]]) -> dict[str, int]:
    folded: dict[str, int] = {}
    for currency, amount in amounts:
        folded[currency] = folded.get(currency, 0) + amount
    return folded


def signature(session: Session) -> tuple[object, ...]:
    """Changes whenever a figure may have: every change is audited, invoices carry their last
    change, sent e-mails their time. Three index lookups, whatever the size of the book."""
    return tuple(session.execute(select(
        select(func.max(AuditEntry.id)).scalar_subquery(),
        select(func.max(Invoice.updated_at)).scalar_subquery(),
        select(func.max(EmailDelivery.sent_at)).scalar_subquery(),
    )).one())


def overview(session: Session, actor: Actor, today: date | None = None) -> Overview:
    require(actor, Action.PAYOUT_VIEW)
    return compute(session, today)


def compute(session: Session, today: date | None = None) -> Overview:
    """The figures, without a permission check: the live hub computes them once for every
    open page, each of which was checked when it subscribed."""
    today = today or date.today()
    month_start = datetime.combine(today.replace(day=1), datetime.min.time()).astimezone()
    since = datetime.combine(today - timedelta(days=HISTORY_DAYS), datetime.min.time()).astimezone()
    invoice_totals = [StatusTotal(s, c, int(n), int(a or 0)) for s, c, n, a in session.execute(
        select(col(InvoiceRollup.status), col(InvoiceRollup.currency), func.sum(InvoiceRollup.invoice_count),
               func.sum(InvoiceRollup.amount_minor))
        .group_by(InvoiceRollup.status, InvoiceRollup.currency).order_by(InvoiceRollup.status, InvoiceRollup.currency))]
    paid = col(Payout.status) == "paid"
    # Payouts loaded as history may lack the moment they were paid; their last change stands in.
    paid_at = func.coalesce(Payout.paid_at, Payout.updated_at)
    month = session.execute(select(col(Payout.currency), func.count(), func.sum(Payout.amount_minor))
                            .where(paid, paid_at >= month_start).group_by(Payout.currency)).all()
    upcoming = session.execute(
        select(col(Payout.pay_date), col(Payout.currency), func.count(), func.sum(Payout.amount_minor))
        .where(col(Payout.status).in_(("payout_approval", "awaiting_payout")), col(Payout.pay_date) >= today,
               col(Payout.pay_date) <= today + timedelta(days=UPCOMING_DAYS))
        .group_by(col(Payout.pay_date), col(Payout.currency))
        .order_by(col(Payout.pay_date), col(Payout.currency))).all()
    paid_day = func.date(paid_at)
    by_day = session.execute(select(paid_day, col(Payout.currency), func.sum(Payout.amount_minor))
                             .where(paid, paid_at >= since).group_by(paid_day, Payout.currency)
                             .order_by(paid_day)).all()
    by_rail = session.execute(select(col(Payout.rail), col(Payout.currency), func.count(),
                                     func.sum(Payout.amount_minor))
                              .where(paid, paid_at >= since).group_by(Payout.rail, Payout.currency)).all()
    return Overview(
        computed_at=utcnow(),
        invoice_totals=invoice_totals,
        pending_count=sum(t.count for t in invoice_totals if t.status == InvoiceStatus.PENDING.value),
        pending_amounts=_per_currency((t.currency, t.amount_minor) for t in invoice_totals
                                      if t.status == InvoiceStatus.PENDING.value),
        payout_groups=payout_queries.grouped(payout_queries.totals(session, EVERYONE)),
        paid_this_month={c: int(a or 0) for c, _n, a in month},
        paid_this_month_count=sum(int(n) for _c, n, _a in month),
        upcoming=[(d, c, int(n), int(a or 0)) for d, c, n, a in upcoming],
        paid_by_day=[(d if isinstance(d, date) else date.fromisoformat(str(d)), c, int(a or 0)) for d, c, a in by_day],
        by_rail=[(r, c, int(n), int(a or 0)) for r, c, n, a in by_rail],
        aging=aging.aging_report(session, EVERYONE, today),
        distribution=distribution_reports.report(session, EVERYONE, "day", days=HISTORY_DAYS),
    )

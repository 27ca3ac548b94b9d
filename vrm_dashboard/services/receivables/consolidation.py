"""Monthly consolidated invoices: an organization's open invoices of a month gathered into
one invoice per currency, which follows the organization's terms like any other."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select, update
from sqlmodel import Session, col

from vrm_dashboard.db.models import Invoice, Organization, stored_id, utcnow
from vrm_dashboard.domain.collection_rules import COLLECTABLE_STATUSES
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.domain.terms_rules import TermsError, effective_from
from vrm_dashboard.services.platform import audit
from vrm_dashboard.services.platform.actors import Actor, require
from vrm_dashboard.services.platform.errors import Conflict, FieldErrors
from vrm_dashboard.services.platform.job_runs import JobResult
from vrm_dashboard.services.receivables import organizations, records as receivables

JOB = Actor.system("consolidate_invoices")
_PERIOD = re.compile(r"(?P<year>\d{4})-(?P<month>\d{2})", re.ASCII)


@dataclass
class Consolidated:
    invoice: Invoice
    gathered: int


def _month(period: str) -> tuple[date, date]:
    """The first day of `period` and of the month after, when its consolidated invoice is
    generated. Exactly YYYY-MM: the period also names the consolidated invoice."""
    refused = FieldErrors({"period": "A month is written YYYY-MM, e.g. 2026-11"})
    found = _PERIOD.fullmatch(period)
    if found is None:
        raise refused
    try:
        first = date(int(found["year"]), int(found["month"]), 1)
        return first, effective_from(first)
    except (ValueError, TermsError):
        raise refused from None


def consolidate(session: Session, actor: Actor, organization_id: int, period: str) -> list[Consolidated]:
    """One consolidated invoice per currency for the organization's open invoices issued in
    `period`, generated on the first day of the next month (and so with that day's terms)."""
    require(actor, Action.COLLECTION_MANAGE)
    first, generated = _month(period)
    org, = organizations.require_managed(session, actor, [organization_id])
    if session.execute(select(col(Invoice.id)).where(col(Invoice.number).startswith(f"CONS-{org.id}-{period}-"))) \
            .first():
        raise Conflict(f"{org.name}'s invoices of {period} are already consolidated")
    gathered = list(session.execute(select(Invoice).where(
        col(Invoice.organization_id) == org.id, col(Invoice.issue_date) >= first, col(Invoice.issue_date) < generated,
        col(Invoice.consolidated_into_id).is_(None), col(Invoice.document_type) == "invoice",
        col(Invoice.status).in_(COLLECTABLE_STATUSES), ~col(Invoice.number).startswith("CONS-"))
        .order_by(col(Invoice.issue_date), col(Invoice.id))).scalars())
    by_currency: dict[str, list[Invoice]] = {}
    for invoice in gathered:
        by_currency.setdefault(invoice.currency, []).append(invoice)
    made = []
    for currency, invoices in sorted(by_currency.items()):
        number = f"CONS-{org.id}-{period}-{currency}"
        lines = [receivables.ChargeLine(f"Invoice {i.number} of {i.issue_date.isoformat()}", Decimal(1), i.subtotal_minor)
                 for i in invoices]
        consolidated = receivables.bill(session, actor, stored_id(org), currency, lines, generated, number=number,
                                        tax_minor=sum(i.tax_minor for i in invoices))
        consolidated.billing_period = period
        session.execute(update(Invoice).where(col(Invoice.id).in_([i.id for i in invoices])).values(
            consolidated_into_id=consolidated.id, updated_at=utcnow()))
        audit.record_many(session, actor, "receivable.consolidated", "invoice",
                          [(i.id, None, {"consolidated_into": consolidated.number}) for i in invoices])
        made.append(Consolidated(consolidated, len(invoices)))
    return made


def consolidate_last_month(session: Session, today: date | None = None) -> JobResult:
    """The scheduler job (first day of each month): every organization that consolidates."""
    today = today or date.today()
    period = f"{(today.replace(day=1) - timedelta(days=1)):%Y-%m}"
    made = 0
    for org_id in session.execute(select(col(Organization.id)).where(col(Organization.consolidates_monthly).is_(True),
                                                                     col(Organization.is_active).is_(True))).scalars():
        try:
            made += len(consolidate(session, JOB, org_id, period))
        except Conflict:
            session.rollback()  # already done this month
            continue
        session.commit()
    return JobResult(made, detail=f"{made} consolidated invoices for {period}")

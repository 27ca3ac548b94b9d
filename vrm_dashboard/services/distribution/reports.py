"""How distribution went: invoices sent, delivered, bounced, failed, viewed and paid, and the
delivery success rate, per day, week or month. Counted in SQL per day, then folded."""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from openpyxl import Workbook
from sqlalchemy import ColumnElement, case, func, select
from sqlmodel import Session, col

from vrm_dashboard.db.models import EmailDelivery, Invoice, utcnow
from vrm_dashboard.domain.distribution_rules import DeliveryStatus as D, period_start
from vrm_dashboard.domain.invoice_status import InvoiceStatus
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.platform.actors import Actor, require
from vrm_dashboard.services.platform.errors import FieldErrors

PERIODS = ("day", "week", "month")
# Ten years back is more history than distribution has; a larger span only overflows the calendar.
MAX_DAYS = 3660
_PERIOD_MESSAGE = "The report is by day, week or month"
MEASURES = ("sent", "delivered", "bounced", "failed", "viewed", "paid")


@dataclass
class ReportRow:
    period: date
    sent: int = 0
    delivered: int = 0
    bounced: int = 0
    failed: int = 0
    viewed: int = 0
    paid: int = 0

    @property
    def success_rate(self) -> float | None:
        """Delivered out of all that were tried (sent or failed); None when nothing was."""
        tried = self.sent + self.failed
        return round(100 * self.delivered / tried, 1) if tried else None


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.sum(case((condition, 1), else_=0))


def _check_span(period: str, days: int) -> None:
    errors: dict[str, str] = {}
    if period not in PERIODS:
        errors["period"] = _PERIOD_MESSAGE
    if not 1 <= days <= MAX_DAYS:
        errors["days"] = f"The report covers from 1 to {MAX_DAYS} days"
    if errors:
        raise FieldErrors(errors)


def report(session: Session, actor: Actor, period: str = "day", days: int = 90,
           today: date | None = None) -> list[ReportRow]:
    require(actor, Action.DISTRIBUTION_VIEW)
    _check_span(period, days)
    today = today or utcnow().date()
    start = datetime.combine(today - timedelta(days=days - 1), time.min, tzinfo=timezone.utc)
    moment = func.coalesce(EmailDelivery.sent_at, EmailDelivery.created_at)
    day = func.date(moment)
    rows = session.execute(
        select(day, _count(col(EmailDelivery.sent_at).is_not(None)),
               _count(col(EmailDelivery.sent_at).is_not(None) & (col(EmailDelivery.status) != D.BOUNCED.value)),
               _count(col(EmailDelivery.status) == D.BOUNCED.value),
               _count(col(EmailDelivery.status) == D.FAILED.value),
               _count(col(EmailDelivery.viewed_at).is_not(None)),
               _count(col(Invoice.status) == InvoiceStatus.PAID.value))
        .join(Invoice, col(Invoice.id) == EmailDelivery.invoice_id)
        .where(moment >= start).group_by(day)).all()
    folded: dict[date, ReportRow] = {}
    for raw_day, *counts in rows:
        when = raw_day if isinstance(raw_day, date) else date.fromisoformat(str(raw_day)[:10])
        key = period_start(when, period)
        row = folded.setdefault(key, ReportRow(key))
        for name, value in zip(MEASURES, counts):
            setattr(row, name, getattr(row, name) + int(value or 0))
    return [folded[k] for k in sorted(folded)]


def report_xlsx(rows: list[ReportRow], period: str) -> bytes:
    if period not in PERIODS:
        raise FieldErrors({"period": _PERIOD_MESSAGE})
    book = Workbook()
    sheet = book.active
    sheet.title = f"Distribution by {period}"
    sheet.append(["Period starting", "Sent", "Delivered", "Bounced", "Failed", "Viewed", "Paid",
                  "Delivery success rate %"])
    for row in rows:
        sheet.append([row.period, row.sent, row.delivered, row.bounced, row.failed, row.viewed, row.paid,
                      row.success_rate])
    for cell in sheet["A"][1:]:
        cell.number_format = "yyyy-mm-dd"
    sheet.column_dimensions["A"].width = 16
    sheet.column_dimensions["H"].width = 24
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

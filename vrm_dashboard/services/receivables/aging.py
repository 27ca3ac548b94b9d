"""The accounts-receivable aging report: what customers owe, by how long it is overdue."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from sqlalchemy import BindParameter, ColumnElement, case, func, literal, select
from sqlmodel import Session, col

from vrm_dashboard.db.models import Invoice, Organization
from vrm_dashboard.domain.collection_rules import AGING_BUCKETS, OPEN_STATUSES
from vrm_dashboard.domain.money import exponent
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.platform.actors import Actor, require
from vrm_dashboard.services.receivables import organizations

BUCKET_KEYS = [key for key, *_ in AGING_BUCKETS]
BUCKET_LABELS = {key: label for key, label, *_ in AGING_BUCKETS}


@dataclass
class AgingRow:
    organization_id: int | None
    organization: str
    currency: str
    buckets: dict[str, int] = field(default_factory=dict)
    invoices: int = 0

    @property
    def total(self) -> int:
        return sum(self.buckets.values())


@dataclass
class AgingReport:
    today: date
    rows: list[AgingRow]
    totals: list[AgingRow]


def _bucket_of(today: date) -> ColumnElement[str]:
    """The bucket as SQL, by comparing due dates with fixed days: portable across databases."""
    whens: list[tuple[ColumnElement[bool], BindParameter[str]]] = []
    for key, _label, low, high in AGING_BUCKETS:
        if key == "current":
            whens.append((col(Invoice.due_date) >= today, literal(key)))
        elif high is not None:
            whens.append((col(Invoice.due_date) >= today - timedelta(days=high), literal(key)))
    return case((col(Invoice.due_date).is_(None), literal("current")), *whens,
                else_=literal(AGING_BUCKETS[-1][0]))


def aging_report(session: Session, actor: Actor, today: date | None = None) -> AgingReport:
    """Open customer invoices of the organizations the actor manages, per organization and
    currency and in total, by days past due."""
    require(actor, Action.INVOICE_VIEW)
    today = today or date.today()
    bucket = _bucket_of(today).label("bucket")
    rows = session.execute(
        select(col(Organization.id), col(Organization.name), col(Invoice.currency), bucket,
               func.sum(Invoice.total_minor), func.count())
        .join(Organization, col(Organization.id) == Invoice.organization_id)
        .where(organizations.managed(actor), col(Invoice.status).in_(OPEN_STATUSES),
               col(Invoice.consolidated_into_id).is_(None), col(Invoice.document_type) == "invoice")
        .group_by(col(Organization.id), col(Organization.name), col(Invoice.currency), bucket)).all()
    per_org: dict[tuple[int, str], AgingRow] = {}
    totals: dict[str, AgingRow] = {}
    for org_id, name, currency, key, amount, count in rows:
        for target in (per_org.setdefault((org_id, currency), AgingRow(org_id, name, currency, dict.fromkeys(BUCKET_KEYS, 0))),
                       totals.setdefault(currency, AgingRow(None, "Total", currency, dict.fromkeys(BUCKET_KEYS, 0)))):
            target.buckets[key] += int(amount)
            target.invoices += int(count)
    ordered = sorted(per_org.values(), key=lambda r: (r.organization.lower(), r.currency))
    return AgingReport(today, ordered, [totals[c] for c in sorted(totals)])


def _major(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-exponent(currency))


def aging_xlsx(report: AgingReport, out: BinaryIO) -> None:
    """The report as a workbook: one row per organization and currency, the totals per
    currency on a sheet of their own, and a chart of those totals."""
    book = Workbook()
    sheet = book.active
    sheet.title = "AR aging"
    header = ["Organization", "Currency", *[BUCKET_LABELS[k] for k in BUCKET_KEYS], "Total", "Invoices"]
    totals = book.create_sheet("Totals")
    for target, rows in ((sheet, [*report.rows, *report.totals]), (totals, report.totals)):
        target.append(header)
        for row in rows:
            target.append([row.organization, row.currency,
                           *[_major(row.buckets[k], row.currency) for k in BUCKET_KEYS],
                           _major(row.total, row.currency), row.invoices])
        for cells in target.iter_rows(min_row=2, min_col=3, max_col=3 + len(BUCKET_KEYS)):
            for cell in cells:
                cell.number_format = "#,##0.00"
        target.column_dimensions["A"].width = 36
    sheet.append([])
    sheet.append([f"Open customer invoices on {report.today.isoformat()}, by days past their due date"])
    if report.totals:
        chart = BarChart()
        chart.type, chart.grouping, chart.overlap = "col", "stacked", 100
        chart.title = "Open receivables by age"
        chart.add_data(Reference(totals, min_col=3, max_col=2 + len(BUCKET_KEYS), min_row=1,
                                 max_row=1 + len(report.totals)), titles_from_data=True)
        chart.set_categories(Reference(totals, min_col=2, min_row=2, max_row=1 + len(report.totals)))
        totals.add_chart(chart, "K2")
    book.save(out)

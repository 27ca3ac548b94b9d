"""Exporting a view of the invoice list (or every invoice) to Excel or CSV.

Rows stream from the database in batches and stream into the file (XlsxWriter in
constant-memory mode), so memory stays flat whatever the size. Text that a spreadsheet would run as a formula is
neutralized.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, BinaryIO, Callable, Iterator, cast

import xlsxwriter
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from sqlalchemy import select
from sqlalchemy.orm import Mapped
from sqlmodel import Session, col

from vrm_dashboard.db import tenancy
from vrm_dashboard.db.models import Invoice, InvoiceApproval, User, Vendor
from vrm_dashboard.domain.invoice_status import STATUS_LABELS, InvoiceStatus
from vrm_dashboard.domain.money import exponent
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.invoices import flags as invoice_flags, queries as invoice_queries
from vrm_dashboard.services.platform.actors import Actor, require
from vrm_dashboard.services.platform.errors import FieldErrors

if TYPE_CHECKING:
    # What a write-only workbook's create_sheet makes; openpyxl exports it from no public module.
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

BATCH = 5_000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
HEADERS = ["Invoice number", "Type", "Vendor", "Vendor ID", "Amount", "Currency", "Issue date",
           "Due date", "Status", "Submitted by", "Approvers", "Reconciliation flags"]
Progress = Callable[[int, int], None]


def neutralize(text: str) -> str:
    """Text a spreadsheet would treat as a formula gets a leading apostrophe."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


@dataclass
class ExportRow:
    number: str
    kind: str
    vendor_name: str
    vendor_code: str
    amount: Decimal
    currency: str
    issue_date: date
    due_date: date | None
    status: str
    submitted_by: str
    approvers: str
    flags: str


def _rows(session: Session, query: invoice_queries.InvoiceQuery, limit: int | None) -> Iterator[ExportRow]:
    where, _ = invoice_queries.conditions(query)
    sort_column = invoice_queries.SORTABLE.get(query.sort, col(Invoice.issue_date))
    # A stored invoice always has an id: SQLModel types the attribute optional for unsaved ones.
    id_column = cast("Mapped[int]", col(Invoice.id))
    stmt = (
        select(id_column, col(Invoice.number), col(Invoice.kind), col(Vendor.name), col(Vendor.vendor_code),
               col(Invoice.total_minor), col(Invoice.currency), col(Invoice.issue_date), col(Invoice.due_date),
               col(Invoice.status), col(User.email))
        .join(Vendor, col(Vendor.id) == Invoice.vendor_id, isouter=True)
        .join(User, col(User.id) == invoice_queries.submitter_id(), isouter=True)
        # Run on the connection below, past the session's scoping hook: the scope is stated
        # here, the same invoices the list shows (and the totals, read through the session, count).
        .where(*where, tenancy.owned(Invoice, session))
        .order_by(sort_column.desc() if query.descending else sort_column.asc(),
                  col(Invoice.id).desc() if query.descending else col(Invoice.id).asc())
        .limit(limit)
        .execution_options(yield_per=BATCH)
    )
    # Core rows, not ORM ones: nothing here is an entity, and the ORM's row handling costs
    # a second per 100,000.
    for batch in session.connection().execute(stmt).partitions(BATCH):
        ids = [r[0] for r in batch]
        approvers: dict[int, list[str]] = {}
        for invoice_id, label in session.execute(
            select(col(InvoiceApproval.invoice_id), col(InvoiceApproval.user_label))
            .where(col(InvoiceApproval.invoice_id).in_(ids))
        ).all():
            approvers.setdefault(invoice_id, []).append(label)
        flags = invoice_flags.flags_of(session, ids)
        for (iid, number, kind, vname, vcode, total, currency, issued, due, status, submitter) in batch:
            yield ExportRow(
                number=number, kind="Self-generated" if kind == "self_generated" else "Parsed",
                vendor_name=vname or "", vendor_code=vcode or "",
                amount=Decimal(total).scaleb(-exponent(currency)), currency=currency,
                issue_date=issued, due_date=due, status=STATUS_LABELS[InvoiceStatus(status)],
                submitted_by=submitter or "import", approvers=", ".join(approvers.get(iid, [])),
                flags=", ".join(invoice_flags.FLAG_LABELS[f] for f in flags.get(iid, [])),
            )


def count(session: Session, query: invoice_queries.InvoiceQuery) -> int:
    return sum(t.count for t in invoice_queries.totals(session, query))


def _text_values(row: ExportRow) -> list:
    return [neutralize(row.number), row.kind, neutralize(row.vendor_name), neutralize(row.vendor_code)]


def streamed_sheet(workbook: Workbook, title: str, headers: list[str]) -> WriteOnlyWorksheet:
    """A write-only sheet with a bold, frozen header row."""
    sheet = workbook.create_sheet(title)
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for text in headers:
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    return sheet


def _write_xlsx(rows: Iterator[ExportRow], out: BinaryIO, total: int, progress: Progress | None) -> int:
    # XlsxWriter in constant-memory mode: rows go to disk as they come, at about twice the
    # speed of openpyxl's write-only mode, which the other, smaller exports keep using.
    book = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_formulas": False,
                                     "strings_to_urls": False, "strings_to_numbers": False})
    sheet = book.add_worksheet("Invoices")
    sheet.freeze_panes(1, 0)
    bold = book.add_format({"bold": True})
    for column, text in enumerate(HEADERS):
        sheet.write_string(0, column, text, bold)
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    money: dict[str, object] = {}
    written = 0
    for written, row in enumerate(rows, start=1):
        if row.currency not in money:
            places = exponent(row.currency)
            money[row.currency] = book.add_format(
                {"num_format": ("#,##0." + "0" * places if places else "#,##0") + f' "{row.currency}"'})
        texts = _text_values(row)
        for column in range(4):
            sheet.write_string(written, column, texts[column])
        # The Decimal goes in as it is: XlsxWriter writes its exact digits.
        sheet.write_number(written, 4, row.amount, money[row.currency])
        sheet.write_string(written, 5, row.currency)
        sheet.write_datetime(written, 6, row.issue_date, day)
        if row.due_date is not None:
            sheet.write_datetime(written, 7, row.due_date, day)
        sheet.write_string(written, 8, row.status)
        sheet.write_string(written, 9, neutralize(row.submitted_by))
        # Most invoices have neither: an empty cell is simply not written.
        if row.approvers:
            sheet.write_string(written, 10, neutralize(row.approvers))
        if row.flags:
            sheet.write_string(written, 11, row.flags)
        if progress and written % BATCH == 0:
            progress(written, total)
    book.close()
    return written


def _write_csv(rows: Iterator[ExportRow], out: BinaryIO, total: int, progress: Progress | None) -> int:
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
    writer = csv.writer(text)
    writer.writerow(HEADERS)
    written = 0
    for row in rows:
        writer.writerow([*_text_values(row), f"{row.amount:f}", row.currency, row.issue_date.isoformat(),
                         row.due_date.isoformat() if row.due_date else "", row.status,
                         neutralize(row.submitted_by), neutralize(row.approvers), row.flags])
        written += 1
        if progress and written % BATCH == 0:
            progress(written, total)
    text.flush()
    text.detach()
    return written


def export_invoices(
    session: Session,
    actor: Actor,
    query: invoice_queries.InvoiceQuery | None,
    fmt: str,
    out: BinaryIO,
    progress: Progress | None = None,
    limit: int | None = None,
) -> int:
    """Write the view (or, with query None, every invoice) to `out`; return the row count.

    `limit` keeps only the view's first rows.
    """
    require(actor, Action.INVOICE_VIEW)
    if fmt not in ("xlsx", "csv"):
        raise FieldErrors({"format": "Export as xlsx or csv"})
    view = query or invoice_queries.InvoiceQuery(sort="issue_date", descending=True)
    total = count(session, view) if limit is None else min(limit, count(session, view))
    writer = _write_xlsx if fmt == "xlsx" else _write_csv
    written = writer(_rows(session, view, limit), out, total, progress)
    if progress:
        progress(written, total)
    return written

"""Exporting the Payment Terms view (or every organization one manages) to Excel."""
from __future__ import annotations

from datetime import date
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from sqlmodel import Session

from vrm_dashboard.services.invoices.export import neutralize, streamed_sheet
from vrm_dashboard.services.platform.actors import Actor
from vrm_dashboard.services.receivables import organizations

HEADERS = ["Status", "Organization", "ERP ID", "Organization ID", "Country", "Tier", "Payment Terms (days)",
           "Default Payment Terms", "New terms from", "Updated On", "Updated By"]


def export_organizations(session: Session, actor: Actor, query: organizations.OrganizationQuery | None,
                         out: BinaryIO, today: date | None = None) -> int:
    """The view in its order (query), or every organization the actor manages (None)."""
    book = Workbook(write_only=True)
    sheet = streamed_sheet(book, "Payment terms", HEADERS)
    written = 0
    for row in organizations.iter_organizations(session, actor, query, today):
        updated = WriteOnlyCell(sheet, value=row.updated_at.replace(tzinfo=None))
        updated.number_format = "yyyy-mm-dd hh:mm"
        sheet.append(["Active" if row.is_active else "Inactive", neutralize(row.name), neutralize(row.erp_id), row.id,
                      row.country, organizations.TIER_LABELS.get(row.tier, row.tier), row.payment_terms_days,
                      "Yes" if row.uses_default else "No",
                      row.pending_from.isoformat() if row.pending_from else "", updated, neutralize(row.updated_by)])
        written += 1
    book.save(out)
    return written

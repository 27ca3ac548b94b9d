"""Payment terms and customer invoices over the API: organizations and their terms, posting
dates, collection and the aging report."""
from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import BaseModel, StrictInt
from sqlmodel import Session

from vrm_dashboard.api.dependencies import current_actor, db_session
from vrm_dashboard.services.platform.actors import Actor
from vrm_dashboard.services.receivables import (
    aging,
    collection,
    consolidation,
    organizations,
    queries as receivable_queries,
    records as receivables,
)
from vrm_dashboard.web.downloads import file_headers

router = APIRouter(tags=["payment terms and collection"])


def _iso(day: date | None) -> str:
    assert day is not None, "billing sets a receivable's posting date, and its due date from the terms"
    return day.isoformat()
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/organizations")
def list_organizations(search: str = "", tier: str = "", country: str = "", uses_default: str = "",
                       sort: str = "name", descending: bool = False, page: int = 1, page_size: int = 25,
                       actor: Actor = Depends(current_actor), session: Session = Depends(db_session)) -> dict:
    result = organizations.list_organizations(session, actor, organizations.OrganizationQuery(
        search=search, tier=tier, country=country, uses_default=uses_default, sort=sort, descending=descending,
        page=page, page_size=page_size))
    return {"page": result.page, "page_count": result.page_count, "total": result.total_rows,
            "organizations": [vars(r) for r in result.rows]}


class TermsChange(BaseModel):
    organization_ids: list[int]
    # Whole days, or "default". Strict, so JSON true is refused rather than read as 1 day.
    payment_terms_days: StrictInt | str


@router.put("/organizations/payment-terms")
def set_payment_terms(body: TermsChange, actor: Actor = Depends(current_actor),
                      session: Session = Depends(db_session)) -> dict:
    change = organizations.set_terms(session, actor, body.organization_ids, body.payment_terms_days)
    return {"changed": change.changed, "effective_from": change.effective_from.isoformat()}


class Billing(BaseModel):
    billing_email: str | None = None
    billing_address: str | None = None
    # "credit_card", "ach", or null (pays by transfer)
    collection_method: str | None = None
    consolidates_monthly: bool = False
    wants_einvoice: bool = False


@router.put("/organizations/{organization_id}/billing")
def update_billing(organization_id: int, body: Billing, actor: Actor = Depends(current_actor),
                   session: Session = Depends(db_session)) -> dict:
    organizations.update_billing(session, actor, organization_id, organizations.BillingSettings(**body.model_dump()))
    return vars(organizations.billing_settings(session, actor, organization_id))


@router.post("/organizations/{organization_id}/consolidate")
def consolidate(organization_id: int, period: str, actor: Actor = Depends(current_actor),
                session: Session = Depends(db_session)) -> dict:
    made = consolidation.consolidate(session, actor, organization_id, period)
    return {"consolidated": [{"id": c.invoice.id, "number": c.invoice.number, "total_minor": c.invoice.total_minor,
                              "currency": c.invoice.currency, "due_date": _iso(c.invoice.due_date),
                              "invoices": c.gathered} for c in made]}


class PostingDate(BaseModel):
    posting_date: date


@router.patch("/invoices/{invoice_id}/posting-date")
def set_posting_date(invoice_id: int, body: PostingDate, actor: Actor = Depends(current_actor),
                     session: Session = Depends(db_session)) -> dict:
    invoice = receivables.set_posting_date(session, actor, invoice_id, body.posting_date)
    return {"id": invoice.id, "number": invoice.number, "posting_date": _iso(invoice.posting_date),
            "payment_terms_days": invoice.payment_terms_days, "due_date": _iso(invoice.due_date)}


@router.get("/receivables")
def list_receivables(direction: str = "outgoing", search: str = "", status: str = "", payment_method: str = "",
                     overdue_only: bool = False, due_from: str = "", due_to: str = "", posted_from: str = "",
                     posted_to: str = "", terms: str = "", sort: str = "due_date", descending: bool = False, page: int = 1,
                     page_size: int = 25, actor: Actor = Depends(current_actor),
                     session: Session = Depends(db_session)) -> dict:
    result = receivable_queries.list_receivables(session, actor, receivable_queries.ReceivableQuery(
        direction=direction, search=search, status=status, payment_method=payment_method,
        overdue_only=overdue_only, due_from=due_from, due_to=due_to, posted_from=posted_from, posted_to=posted_to,
        terms=terms, sort=sort, descending=descending, page=page, page_size=page_size))
    return {"page": result.page, "page_count": result.page_count, "total": result.total_rows,
            "open_amounts_minor": result.open_amounts, "invoices": [vars(r) for r in result.rows]}


class NewLine(BaseModel):
    description: str
    quantity: Decimal = Decimal(1)
    unit_price_minor: int


class NewReceivable(BaseModel):
    organization_id: int
    currency: str
    issue_date: date
    lines: list[NewLine]
    tax_rate_percent: Decimal = Decimal(0)


@router.post("/receivables", status_code=201)
def create_receivable(body: NewReceivable, actor: Actor = Depends(current_actor),
                      session: Session = Depends(db_session)) -> dict:
    invoice = receivables.bill(session, actor, body.organization_id, body.currency.upper(),
                               [receivables.ChargeLine(x.description, x.quantity, x.unit_price_minor) for x in body.lines],
                               body.issue_date, body.tax_rate_percent)
    return {"id": invoice.id, "number": invoice.number, "total_minor": invoice.total_minor,
            "payment_terms_days": invoice.payment_terms_days, "due_date": _iso(invoice.due_date)}


@router.get("/receivables/{invoice_id}/collection-attempts")
def collection_attempts(invoice_id: int, actor: Actor = Depends(current_actor),
                        session: Session = Depends(db_session)) -> dict:
    return {"attempts": [vars(a) for a in collection.attempts_of(session, actor, invoice_id)]}


class CollectRequest(BaseModel):
    by: str = "due_date"
    on: date | None = None


@router.post("/receivables/collect")
def collect(body: CollectRequest, actor: Actor = Depends(current_actor),
            session: Session = Depends(db_session)) -> dict:
    summary = collection.collect(session, actor, collection.Selection(body.by, body.on))
    return {"collected": summary.collected, "failed": summary.failed,
            "collected_amounts_minor": summary.collected_amounts, "failed_amounts_minor": summary.failed_amounts,
            "reasons": summary.reasons, "failures": [{"number": n, "reason": r} for n, r in summary.failures]}


@router.get("/receivables/aging")
def aging_report(actor: Actor = Depends(current_actor), session: Session = Depends(db_session)) -> dict:
    report = aging.aging_report(session, actor)
    return {"today": report.today.isoformat(),
            "organizations": [{**vars(r), "total": r.total} for r in report.rows],
            "totals": [{**vars(r), "total": r.total} for r in report.totals]}


@router.get("/receivables/aging.xlsx")
def aging_export(actor: Actor = Depends(current_actor), session: Session = Depends(db_session)) -> Response:
    out = io.BytesIO()
    aging.aging_xlsx(aging.aging_report(session, actor), out)
    return Response(out.getvalue(), media_type=XLSX, headers=file_headers("ar-aging.xlsx"))


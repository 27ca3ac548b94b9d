"""Distribution over HTTP: the recipient's view and dispute links from the e-mail (the link's
token is the credential), the sent PDF for the portal and staff, and the report export."""
from __future__ import annotations

import html

from fastapi import APIRouter, Depends, Form
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from vrm_dashboard.api.dependencies import current_actor, db_session
from vrm_dashboard.db.models import StoredDocument
from vrm_dashboard.services.distribution import delivered_documents, disputes, reports as distribution_reports
from vrm_dashboard.services.platform.actors import Actor
from vrm_dashboard.services.platform.errors import FieldErrors
from vrm_dashboard.web.downloads import file_headers, file_response

router = APIRouter(tags=["distribution"])


def _pdf(document: StoredDocument) -> Response:
    return file_response(document.content, document.filename, "application/pdf", inline=True)


@router.get("/distribution/view/{token}", include_in_schema=False)
def view_by_link(token: str, session: Session = Depends(db_session)) -> Response:
    return _pdf(delivered_documents.pdf_by_link(session, token))


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
                        f"<body style='font-family: sans-serif; max-width: 560px; margin: 40px auto'>"
                        f"<h2>{html.escape(title)}</h2>{body}</body></html>")


@router.get("/distribution/dispute/{token}", include_in_schema=False)
def dispute_form(token: str, session: Session = Depends(db_session)) -> HTMLResponse:
    invoice = delivered_documents.invoice_of_link(session, token)
    return _page(f"Report a problem with invoice {invoice.number}",
                 "<form method='post'><p>What is wrong with this invoice?</p>"
                 "<textarea name='reason' rows='6' style='width: 100%' required></textarea>"
                 "<p><button type='submit'>Send</button></p></form>")


@router.post("/distribution/dispute/{token}", include_in_schema=False)
def dispute_by_link(token: str, reason: str = Form(""), session: Session = Depends(db_session)) -> HTMLResponse:
    try:
        dispute = disputes.dispute_by_link(session, token, reason)
    except FieldErrors as exc:
        return _page("Report a problem", f"<p>{html.escape(next(iter(exc.errors.values())))}</p>")
    invoice = delivered_documents.invoice_of_link(session, token)
    return _page("Thank you", f"<p>We received your report on invoice {html.escape(invoice.number)} "
                              f"(reference D-{dispute.id}) and will answer by e-mail.</p>")


@router.get("/distribution/invoices/{invoice_id}/pdf")
def sent_pdf(invoice_id: int, actor: Actor = Depends(current_actor), session: Session = Depends(db_session)) -> Response:
    """The invoice PDF exactly as it was sent."""
    return _pdf(delivered_documents.sent_pdf(session, actor, invoice_id))


@router.get("/distribution/report")
def report(period: str = "day", days: int = 90, actor: Actor = Depends(current_actor),
           session: Session = Depends(db_session)) -> dict:
    rows = distribution_reports.report(session, actor, period, days)
    return {"period": period, "rows": [{**{k: getattr(r, k) for k in ("sent", "delivered", "bounced", "failed",
                                                                       "viewed", "paid")},
                                        "period_start": r.period.isoformat(), "success_rate": r.success_rate}
                                       for r in rows]}


@router.get("/distribution/report.xlsx")
def report_xlsx(period: str = "day", days: int = 90, actor: Actor = Depends(current_actor),
                session: Session = Depends(db_session)) -> Response:
    content = distribution_reports.report_xlsx(distribution_reports.report(session, actor, period, days), period)
    return Response(content=content,
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers=file_headers(f"distribution-by-{period}.xlsx"))

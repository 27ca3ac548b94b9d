"""The embeddable vendor widget: links made, listed and revoked by a signed-in user with
vendor.widget, opened by anyone holding one (a partner site's iframe), for one vendor, until
the link expires or is revoked or the vendor stops being active."""
from __future__ import annotations

from datetime import datetime
from html import escape

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field
from sqlmodel import Session

from vrm_dashboard.api.dependencies import current_actor, db_session
from vrm_dashboard.domain.money import format_money
from vrm_dashboard.services.platform.actors import Actor
from vrm_dashboard.services.platform.errors import ServiceError
from vrm_dashboard.services.vendors import widget as vendor_widget

router = APIRouter(tags=["vendor widget"])


class WidgetRequest(BaseModel):
    hours: int = Field(24, ge=vendor_widget.MIN_HOURS, le=vendor_widget.MAX_HOURS,
                       description="How long the link works: 1 hour to 30 days")


class WidgetLinkMade(BaseModel):
    id: int
    url: str
    expires_at: datetime
    iframe: str


class WidgetLinkOut(BaseModel):
    """A link as listed: never its token, which only its maker saw."""

    id: int
    created_at: datetime
    created_by: str
    expires_at: datetime
    revoked_at: datetime | None
    revoked_by: str
    state: str


@router.post("/vendors/{vendor_id}/widget-link")
def make_widget_link(vendor_id: int, body: WidgetRequest, actor: Actor = Depends(current_actor),
                     session: Session = Depends(db_session)) -> WidgetLinkMade:
    link = vendor_widget.make_link(session, actor, vendor_id, body.hours)
    return WidgetLinkMade(id=link.id, url=link.url, expires_at=link.expires_at, iframe=link.iframe)


@router.get("/vendors/{vendor_id}/widget-links")
def list_widget_links(vendor_id: int, actor: Actor = Depends(current_actor),
                      session: Session = Depends(db_session)) -> list[WidgetLinkOut]:
    return [WidgetLinkOut(**vars(row)) for row in vendor_widget.list_links(session, actor, vendor_id)]


@router.post("/vendors/{vendor_id}/widget-links/{link_id}/revoke")
def revoke_widget_link(vendor_id: int, link_id: int, actor: Actor = Depends(current_actor),
                       session: Session = Depends(db_session)) -> WidgetLinkOut:
    return WidgetLinkOut(**vars(vendor_widget.revoke_link(session, actor, vendor_id, link_id)))


@router.get("/widget/{token}.json")
def widget_json(token: str, session: Session = Depends(db_session)) -> dict:
    data = vendor_widget.widget_data(session, token)
    return {"vendor": data.vendor_name, "vendor_code": data.vendor_code,
            "balances": [vars(b) for b in data.balances],
            "payouts": [{**vars(p), "pay_date": p.pay_date.isoformat()} for p in data.payouts],
            "expires_at": data.expires_at.isoformat()}


def _page(body: str) -> str:
    return ("<!doctype html><html><head><meta charset='utf-8'><title>Payouts</title><style>"
            "body{font-family:system-ui,sans-serif;margin:12px;color:#1a1a1a;font-size:14px}"
            "h1{font-size:16px;margin:0 0 8px}table{border-collapse:collapse;width:100%;margin-bottom:10px}"
            "td,th{padding:3px 4px;border-bottom:1px solid #eee;text-align:left}td.n{text-align:right}"
            f"</style></head><body>{body}</body></html>")


@router.get("/widget/{token}", response_class=HTMLResponse)
def widget_page(token: str, session: Session = Depends(db_session)) -> HTMLResponse:
    # A partner site frames this page: it may be embedded anywhere, but holds no session.
    # The framing policy (frame-ancestors *, no script) comes from web.security_headers.
    headers = {"Cache-Control": "no-store"}
    try:
        data = vendor_widget.widget_data(session, token)
    except ServiceError as exc:
        return HTMLResponse(_page(f"<p>{escape(str(exc))}</p>"), status_code=401, headers=headers)
    balances = "".join(
        f"<tr><td>{b.currency}</td><td class='n'>{escape(format_money(b.open_minor, b.currency))}</td>"
        f"<td class='n'>{escape(format_money(b.paid_minor, b.currency))}</td></tr>" for b in data.balances)
    payouts = "".join(
        f"<tr><td>{p.pay_date.isoformat()}</td><td class='n'>{escape(format_money(p.amount_minor, p.currency))}</td>"
        f"<td>{escape(p.status)}</td></tr>" for p in data.payouts)
    body = (f"<h1>{escape(data.vendor_name)} <small>({escape(data.vendor_code)})</small></h1>"
            f"<table data-testid='widget-balances'><tr><th>Currency</th><th>Open</th><th>Paid</th></tr>{balances}</table>"
            f"<table data-testid='widget-payouts'><tr><th>Pay date</th><th>Amount</th><th>Status</th></tr>"
            f"{payouts or '<tr><td colspan=3>No payouts yet</td></tr>'}</table>")
    return HTMLResponse(_page(body), headers=headers)

"""The embeddable vendor widget: made by a signed-in user, opened by anyone holding the link
(a partner site's iframe), for one vendor and until the link expires."""
from __future__ import annotations

from html import escape

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse
from pydantic import BaseModel
from sqlmodel import Session

from vrm_dashboard.api.dependencies import current_actor, db_session
from vrm_dashboard.domain.money import format_money
from vrm_dashboard.services.platform.actors import Actor
from vrm_dashboard.services.platform.errors import ServiceError
from vrm_dashboard.services.vendors import widget as vendor_widget

router = APIRouter(tags=["vendor widget"])


class WidgetRequest(BaseModel):
    hours: int = 24


@router.post("/vendors/{vendor_id}/widget-link")
def make_widget_link(vendor_id: int, body: WidgetRequest, actor: Actor = Depends(current_actor),
                     session: Session = Depends(db_session)) -> dict:
    link = vendor_widget.make_link(session, actor, vendor_id, body.hours)
    return {"url": link.url, "expires_at": link.expires_at.isoformat(), "iframe": link.iframe}


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
    headers = {"Content-Security-Policy": "frame-ancestors *", "Cache-Control": "no-store"}
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

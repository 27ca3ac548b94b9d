"""Payouts over the API: the list, approval, remittance advice downloads, and the online
provider's signed status callbacks."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlmodel import Session

from vrm_dashboard.api.dependencies import current_actor, db_session
from vrm_dashboard.db.tenancy import unscope
from vrm_dashboard.rails.sandbox_provider import SIGNATURE_HEADER
from vrm_dashboard.services.payouts import (
    execution as payout_execution,
    queries as payout_queries,
    records as payouts,
    remittance,
)
from vrm_dashboard.services.platform.actors import Actor
from vrm_dashboard.services.platform.errors import NotAuthenticated
from vrm_dashboard.web.downloads import file_response

router = APIRouter(tags=["payouts"])


@router.get("/payouts")
def list_payouts(status: str = "", rail: str = "", currency: str = "", vendor: str = "", page: int = 1,
                 page_size: int = 25, actor: Actor = Depends(current_actor),
                 session: Session = Depends(db_session)) -> dict:
    result = payout_queries.list_payouts(session, actor, payout_queries.PayoutQuery(
        status=status, rail=rail, currency=currency, vendor=vendor, page=page, page_size=page_size))
    return {"page": result.page, "page_count": result.page_count, "total": result.total_rows,
            "payouts": [vars(r) for r in result.rows], "totals": [vars(t) for t in result.totals]}


class PayoutIds(BaseModel):
    payout_ids: list[int]


@router.post("/payouts/approve")
def approve_payouts(body: PayoutIds, actor: Actor = Depends(current_actor),
                    session: Session = Depends(db_session)) -> dict:
    result = payouts.approve(session, actor, body.payout_ids)
    return {"approved": result.moved, "refused": result.refused_by_reason}


@router.get("/payouts/transactions/{transaction_id}/remittance")
def remittance_advice(transaction_id: int, actor: Actor = Depends(current_actor),
                      session: Session = Depends(db_session)) -> Response:
    document = remittance.remittance_advice(session, actor, transaction_id)
    return file_response(document.content, document.filename, "application/pdf")


@router.post("/payouts/provider-callbacks", include_in_schema=False)
async def provider_callback(request: Request, signature: str | None = Header(default=None, alias=SIGNATURE_HEADER),
                            session: Session = Depends(db_session)) -> dict:
    body = await request.body()
    if not payout_execution.callback_signed(body, signature):
        raise NotAuthenticated("The callback signature does not match")
    event = await request.json()
    # The provider signs for every transfer it made for us, whichever organization paid: the
    # system settles it (the transfer's own records decide whose it is).
    unscope(session)
    changed = payout_execution.record_provider_callback(
        session, str(event.get("idempotency_key", "")), str(event.get("status", "")),
        str(event.get("payment_id", "")), event.get("failure_reason"))
    return {"received": True, "changed": changed}

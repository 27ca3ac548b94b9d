"""/api/v1/vendors: list, get, create, update. Every rule lives in services.vendors.records."""
from __future__ import annotations

from dataclasses import asdict, fields
from datetime import datetime
from typing import TYPE_CHECKING

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, create_model
from sqlmodel import Session

from vrm_dashboard.api.dependencies import current_actor, db_session
from vrm_dashboard.db.models import stored_id
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.domain.vendor_rules import VendorInput
from vrm_dashboard.services.platform.actors import Actor, require
from vrm_dashboard.services.vendors import records as vendor_service

router = APIRouter(prefix="/vendors", tags=["vendors"])


class VendorOut(BaseModel):
    id: int
    vendor_code: str
    name: str
    legal_name: str
    email: str
    country: str
    currency: str
    payment_method: str
    payment_source: str
    activity_status: str
    payment_details: dict[str, str]
    tax_id: str | None
    vat_id: str | None
    created_at: datetime
    updated_at: datetime


class VendorList(BaseModel):
    items: list[VendorOut]
    total: int
    page: int
    page_count: int


# The request bodies are the service's own input type, so a field added there appears here.
# Built at run time, so to mypy they are just pydantic models (FastAPI reads the real ones).
if TYPE_CHECKING:
    VendorIn = BaseModel
    VendorPatch = BaseModel
else:
    VendorIn = create_model("VendorIn", **{f.name: (str, f.default) for f in fields(VendorInput)})
    VendorPatch = create_model(
        "VendorPatch",
        __doc__="Only the fields given change; the rest keep their values.",
        **{f.name: (str | None, None) for f in fields(VendorInput)},
    )


def _out(session: Session, actor: Actor, vendor_id: int) -> VendorOut:
    card = vendor_service.vendor_card(session, actor, vendor_id)
    v = card.vendor
    return VendorOut(
        id=stored_id(v), vendor_code=v.vendor_code, name=v.name, legal_name=v.legal_name, email=v.email,
        country=v.country, currency=v.currency, payment_method=v.payment_method,
        payment_source=v.payment_source, activity_status=v.activity_status,
        payment_details=card.payment_details, tax_id=v.tax_id, vat_id=v.vat_id,
        created_at=v.created_at, updated_at=v.updated_at,
    )


@router.get("", response_model=VendorList)
def list_vendors(
    search: str = "",
    activity_status: str = "",
    payment_method: str = "",
    payment_source: str = "",
    country: str = "",
    sort: str = "name",
    descending: bool = False,
    page: int = Query(1, ge=1),
    page_size: int = Query(25, ge=1, le=vendor_service.MAX_PAGE_SIZE),
    actor: Actor = Depends(current_actor),
    session: Session = Depends(db_session),
) -> VendorList:
    query = vendor_service.VendorQuery(search, activity_status, payment_method, payment_source,
                                       country, sort, descending, page, page_size)
    result = vendor_service.list_vendors(session, actor, query)
    items = [_out(session, actor, row.id) for row in result.rows]
    return VendorList(items=items, total=result.total_rows, page=result.page, page_count=result.page_count)


@router.get("/{vendor_id}", response_model=VendorOut)
def get_vendor(vendor_id: int, actor: Actor = Depends(current_actor),
               session: Session = Depends(db_session)) -> VendorOut:
    return _out(session, actor, vendor_id)


@router.post("", response_model=VendorOut, status_code=201)
def create_vendor(body: VendorIn, actor: Actor = Depends(current_actor),
                  session: Session = Depends(db_session)) -> VendorOut:
    vendor = vendor_service.create_vendor(session, actor, VendorInput(**body.model_dump()))
    return _out(session, actor, stored_id(vendor))


@router.patch("/{vendor_id}", response_model=VendorOut)
def update_vendor(vendor_id: int, body: VendorPatch, actor: Actor = Depends(current_actor),
                  session: Session = Depends(db_session)) -> VendorOut:
    require(actor, Action.VENDOR_UPDATE)
    current = asdict(vendor_service.vendor_input_of(vendor_service.get_vendor(session, vendor_id)))
    current.update(body.model_dump(exclude_unset=True, exclude_none=True))
    vendor_service.update_vendor(session, actor, vendor_id,
                                 VendorInput(**{f.name: current[f.name] for f in fields(VendorInput)}))
    return _out(session, actor, vendor_id)

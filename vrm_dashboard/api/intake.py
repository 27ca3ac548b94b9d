"""/api/v1: vendor invoice files, activity files and rows in. Rules live in the services."""
from __future__ import annotations

from typing import Any

import pandas as pd
from fastapi import APIRouter, Depends, File, Query, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlmodel import Session

from vrm_dashboard.api.dependencies import current_actor, db_session
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.intake import activity_import, invoice_files as invoice_intake, log as intake_log
from vrm_dashboard.services.platform.actors import Actor, require

router = APIRouter(tags=["intake"])


def _import_response(result: activity_import.ImportResult) -> JSONResponse:
    body = {"intake_id": result.intake_id, "message": result.message, "rows": result.rows_total,
            "new_rows": result.rows_new, "invoice_ids": result.invoices,
            "problems": [{"row": p.row, "reason": p.reason} for p in result.problems],
            "problem_count": result.total_problems}
    if result.refused:
        # The documented 422 body: what was wrong, besides the rows' problems.
        body["detail"] = result.message
    # A refused import is still recorded as a failed intake, so the transaction commits.
    return JSONResponse(status_code=422 if result.refused else 200, content=body)


@router.post("/invoices/intake")
async def receive_invoices(files: list[UploadFile] = File(...), actor: Actor = Depends(current_actor),
                           session: Session = Depends(db_session)) -> list[dict[str, Any]]:
    """Vendor invoices (PDF, Factur-X/ZUGFeRD PDF, UBL/CII XML), one or many."""
    invoice_intake.may_receive(session, actor)  # before any file is read
    outcomes = []
    for upload in files:
        content = await upload.read()
        # Reading a document can take seconds (a worker with a deadline): off the event loop.
        outcome = await run_in_threadpool(invoice_intake.receive_invoice, session, actor, content,
                                          upload.filename or "", channel="api")
        outcomes.append({"filename": upload.filename, "status": outcome.status, "message": outcome.message,
                         "intake_id": outcome.intake_id, "invoice_id": outcome.invoice_id,
                         "invoice_status": outcome.invoice_status, "problems": outcome.problems})
    return outcomes


@router.post("/activity/imports")
async def import_activity_file(file: UploadFile = File(...), source: str = Query("upload", max_length=80),
                               actor: Actor = Depends(current_actor),
                               session: Session = Depends(db_session)) -> JSONResponse:
    """An activity CSV or XLSX, all or nothing; the source's saved column mapping applies."""
    require(actor, Action.INTAKE_IMPORT)  # before the file is read
    content = await file.read()
    # A spreadsheet is read in a worker with a deadline: wait for it off the event loop.
    result = await run_in_threadpool(activity_import.import_activity_file, session, actor, content,
                                     file.filename or "upload.csv", source_name=source, channel="api")
    return _import_response(result)


class ActivityRow(BaseModel):
    vendor: str
    activity_type: str
    date: str
    quantity: str = "0"
    revenue: str = "0"
    currency: str = ""
    row_id: str = ""


class ActivityBatch(BaseModel):
    source: str = Field("api", max_length=80)
    rows: list[ActivityRow] = Field(min_length=1, max_length=100_000)


@router.post("/activity")
def import_activity_rows(batch: ActivityBatch, actor: Actor = Depends(current_actor),
                         session: Session = Depends(db_session)) -> JSONResponse:
    """Activity rows as JSON (a tracking system pushing its events), all or nothing."""
    frame = pd.DataFrame([row.model_dump() for row in batch.rows]).astype(str)
    if (frame["row_id"] == "").all():
        frame = frame.drop(columns=["row_id"])
    source = activity_import.source_named(session, batch.source, kind="api")
    return _import_response(activity_import.import_activity_rows(session, actor, frame, source, "api", "api-batch"))


@router.get("/intakes")
def list_intakes(page: int = Query(1, ge=1), status: str = Query("", max_length=16),
                 actor: Actor = Depends(current_actor), session: Session = Depends(db_session)) -> dict[str, Any]:
    return intake_log.recent_intakes(session, actor, page=page, status=status).as_dict()

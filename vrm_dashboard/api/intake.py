"""/api/v1: vendor invoice files, activity files and rows in. Rules live in the services."""
from __future__ import annotations

import logging
from typing import Any

import pandas as pd
from fastapi import APIRouter, Depends, File, Query, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlmodel import Session

from vrm_dashboard.api.dependencies import current_actor, db_session
from vrm_dashboard.db.models import stored_id
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.parsing.sandbox import ReadersUnavailable
from vrm_dashboard.services.intake import activity_import, invoice_files as invoice_intake, log as intake_log
from vrm_dashboard.services.platform.actors import Actor, require
from vrm_dashboard.services.platform.errors import ServiceError
from vrm_dashboard.services.platform.tabular_files import MAX_FILE_BYTES as MAX_TABLE_BYTES

log = logging.getLogger(__name__)
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


async def _read_within(upload: UploadFile, limit: int) -> bytes | None:
    """The upload's bytes, or None when it holds more than `limit`: the size it states is checked
    before a byte is read, and no more than limit + 1 bytes are read whatever it states."""
    if upload.size is not None and upload.size > limit:
        return None
    content = await upload.read(limit + 1)
    return content if len(content) <= limit else None


def _receive_one(session: Session, actor: Actor, name: str, content: bytes | None,
                 size: int | None) -> invoice_intake.IntakeOutcome:
    """One file, its own unit of work: read with none open (a PDF may keep its reader busy for a
    minute, and on SQLite an open one holds the write lock), entered in a savepoint, committed.
    What nobody foresaw costs only this file: it is recorded as failed and the next one is taken."""
    try:
        received = (invoice_intake.read_invoice(content, name) if content is not None
                    else invoice_intake.too_large(name, size))
        with session.begin_nested():
            outcome = invoice_intake.take_invoice(session, actor, received, channel="api")
    except (ServiceError, ReadersUnavailable):
        raise  # refused for the caller (403 etc.), or no reader to be had (503): not this file's doing
    except Exception as error:  # noqa: BLE001 - one broken file must not cost the others
        log.exception("invoice file %r from the API not taken", name)
        reason = f"The file could not be taken ({type(error).__name__})"
        intake = invoice_intake.failed_intake(session, actor, name or "invoice", reason, "api", content=content)
        outcome = invoice_intake.IntakeOutcome(stored_id(intake), "failed", reason)
    session.commit()
    return outcome


@router.post("/invoices/intake")
async def receive_invoices(files: list[UploadFile] = File(...), actor: Actor = Depends(current_actor),
                           session: Session = Depends(db_session)) -> list[dict[str, Any]]:
    """Vendor invoices (PDF, Factur-X/ZUGFeRD PDF, UBL/CII XML), one or many, each taken on its
    own: a file that cannot be taken is a failed outcome, and the others are taken still."""
    invoice_intake.may_receive(session, actor)  # before any file is read
    # The unit of work that found the caller ends here, before any file is read.
    session.commit()
    outcomes = []
    for upload in files:
        name = upload.filename or ""
        content = await _read_within(upload, invoice_intake.MAX_FILE_BYTES)
        # Reading a document can take seconds (a worker with a deadline): off the event loop.
        outcome = await run_in_threadpool(_receive_one, session, actor, name, content, upload.size)
        outcomes.append({"filename": upload.filename, "status": outcome.status, "message": outcome.message,
                         "intake_id": outcome.intake_id, "invoice_id": outcome.invoice_id,
                         "invoice_status": outcome.invoice_status, "problems": outcome.problems})
    return outcomes


def _import_one(session: Session, actor: Actor, content: bytes, name: str, source: str) -> activity_import.ImportResult:
    """Read the file with no unit of work open (an XLSX may keep its worker busy up to its
    deadline, and on SQLite an open one holds the write lock), then import it in the session."""
    received = activity_import.read_activity_file(content, name)
    return activity_import.take_activity_file(session, actor, received, source_name=source, channel="api")


@router.post("/activity/imports")
async def import_activity_file(file: UploadFile = File(...), source: str = Query("upload", max_length=80),
                               actor: Actor = Depends(current_actor),
                               session: Session = Depends(db_session)) -> JSONResponse:
    """An activity CSV or XLSX, all or nothing; the source's saved column mapping applies."""
    require(actor, Action.INTAKE_IMPORT)  # before the file is read
    # The unit of work that found the caller ends here, before the file is read.
    session.commit()
    content = await _read_within(file, MAX_TABLE_BYTES)
    if content is None:
        return JSONResponse(status_code=413, content={
            "detail": f"The file is larger than {MAX_TABLE_BYTES // 1_048_576} MB"})
    # A spreadsheet is read in a worker with a deadline: wait for it off the event loop.
    result = await run_in_threadpool(_import_one, session, actor, content, file.filename or "upload.csv", source)
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
    require(actor, Action.INTAKE_IMPORT)  # before the source is looked up or made
    frame = pd.DataFrame([row.model_dump() for row in batch.rows]).astype(str)
    if (frame["row_id"] == "").all():
        frame = frame.drop(columns=["row_id"])
    source = activity_import.source_named(session, batch.source, kind="api")
    return _import_response(activity_import.import_activity_rows(session, actor, frame, source, "api", "api-batch"))


@router.get("/intakes")
def list_intakes(page: int = Query(1, ge=1), status: str = Query("", max_length=16),
                 actor: Actor = Depends(current_actor), session: Session = Depends(db_session)) -> dict[str, Any]:
    return intake_log.recent_intakes(session, actor, page=page, status=status).as_dict()

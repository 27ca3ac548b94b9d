"""Downloads: finished exports and stored original documents, sent sandboxed (web.downloads)."""
from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse, Response
from sqlmodel import Session

from vrm_dashboard.api.dependencies import current_actor, db_session
from vrm_dashboard.services.platform import documents, export_files
from vrm_dashboard.services.platform.actors import Actor
from vrm_dashboard.web.downloads import file_headers, file_response

router = APIRouter(tags=["files"])
_MEDIA = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "csv": "text/csv"}


@router.get("/exports/{name}")
def download_export(name: str, actor: Actor = Depends(current_actor)) -> FileResponse:
    path = export_files.owned_file(actor, name)
    suffix = path.suffix.lstrip(".")
    return FileResponse(path, media_type=_MEDIA[suffix], headers=file_headers(f"invoices.{suffix}"))


@router.get("/invoices/{invoice_id}/original")
def original_document(invoice_id: int, download: bool = False, actor: Actor = Depends(current_actor),
                      session: Session = Depends(db_session)) -> Response:
    """The invoice's original file, byte for byte as it arrived: a PDF shown, an XML e-invoice
    shown as plain text (never as a live document), anything else downloaded."""
    document, name = documents.invoice_original_named(session, actor, invoice_id)
    return file_response(document.content, name, document.content_type, inline=not download)

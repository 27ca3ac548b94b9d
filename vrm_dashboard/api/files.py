"""Downloads: finished exports and stored original documents."""
from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse, Response
from sqlmodel import Session

from vrm_dashboard.api.dependencies import current_actor, db_session
from vrm_dashboard.services.platform import documents, export_files
from vrm_dashboard.services.platform.actors import Actor

router = APIRouter(tags=["files"])
_MEDIA = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "csv": "text/csv"}


@router.get("/exports/{name}")
def download_export(name: str, actor: Actor = Depends(current_actor)) -> FileResponse:
    path = export_files.owned_file(actor, name)
    suffix = path.suffix.lstrip(".")
    return FileResponse(path, media_type=_MEDIA[suffix], filename=f"invoices.{suffix}")


@router.get("/invoices/{invoice_id}/original")
def original_document(invoice_id: int, actor: Actor = Depends(current_actor),
                      session: Session = Depends(db_session)) -> Response:
    """The invoice's original file, byte for byte as it arrived."""
    document = documents.invoice_original(session, actor, invoice_id)
    return Response(content=document.content, media_type=document.content_type,
                    headers={"Content-Disposition": f'inline; filename="{document.filename}"'})

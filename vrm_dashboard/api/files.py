"""Downloads: finished exports and stored original documents."""
from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse, Response
from sqlmodel import Session

from vrm_dashboard.api.dependencies import current_actor, db_session
from vrm_dashboard.db.models import Invoice, StoredDocument
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services import export_files
from vrm_dashboard.services.actors import Actor
from vrm_dashboard.services.errors import NotFound, PermissionDenied

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
    invoice = session.get(Invoice, invoice_id)
    if invoice is None or invoice.document_id is None:
        raise NotFound("This invoice has no original document")
    own_vendor = actor.can(Action.PORTAL_USE) and actor.vendor_id == invoice.vendor_id
    if not (actor.can(Action.INVOICE_VIEW) or own_vendor):
        raise PermissionDenied("You may not open this document")
    document = session.get(StoredDocument, invoice.document_id)
    assert document is not None
    return Response(content=document.content, media_type=document.content_type,
                    headers={"Content-Disposition": f'inline; filename="{document.filename}"'})

"""What the screens need from an uploaded file: its name, the check before one is opened, and
reading no more of it than its limit allows."""
from __future__ import annotations

from collections.abc import Callable

import reflex as rx
from sqlmodel import Session

from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.platform.actors import Actor, require
from vrm_dashboard.services.platform.errors import ServiceError
from vrm_dashboard.ui.states.session import SessionState


def file_name(upload, default: str = "upload") -> str:  # type: ignore[no-untyped-def]
    """The name the browser sent (Reflex's upload object has used both attribute names)."""
    return getattr(upload, "name", None) or getattr(upload, "filename", None) or default


def upload_size(upload: rx.UploadFile) -> int | None:
    """The size the upload states, when it states one."""
    size = getattr(upload, "size", None)
    return size if isinstance(size, int) else None


async def read_within(upload: rx.UploadFile, limit: int) -> bytes | None:
    """The upload's bytes, or None when it holds more than `limit`: the size it states is checked
    before a byte is read, and no more than limit + 1 bytes are read whatever it states."""
    size = upload_size(upload)
    if size is not None and size > limit:
        return None
    content = await upload.read(limit + 1)
    return content if len(content) <= limit else None


def upload_refusal(state: SessionState, *needs: Action,
                   also: Callable[[Session, Actor], object] | None = None) -> str:
    """Why the signed-in user may not upload here ("" when they may): the permissions `needs`,
    then `also` (a service's own guard, e.g. an approved vendor). Asked before any file is read,
    so a refused user's files are never opened, whatever their size."""
    try:
        with state._acting(read_only=True) as (session, actor):
            for action in needs:
                require(actor, action)
            if also is not None:
                also(session, actor)
    except ServiceError as exc:
        return str(exc)
    return ""

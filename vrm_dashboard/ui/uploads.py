"""What the screens need from an uploaded file, and the check before one is opened."""
from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session

from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.platform.actors import Actor, require
from vrm_dashboard.services.platform.errors import ServiceError
from vrm_dashboard.ui.states.session import SessionState


def file_name(upload, default: str = "upload") -> str:  # type: ignore[no-untyped-def]
    """The name the browser sent (Reflex's upload object has used both attribute names)."""
    return getattr(upload, "name", None) or getattr(upload, "filename", None) or default


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

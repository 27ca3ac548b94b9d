"""Finished export files, kept briefly for their owner to download."""
from __future__ import annotations

import re
import secrets
import time
from pathlib import Path

from vrm_dashboard.config import DATA_DIR
from vrm_dashboard.services.platform.actors import Actor
from vrm_dashboard.services.platform.errors import NotFound

EXPORT_DIR = DATA_DIR / "exports"
KEEP_SECONDS = 24 * 3600
_NAME = re.compile(r"^(\d+)-([A-Za-z0-9_-]{16,})\.(xlsx|csv)$")


def new_path(actor: Actor, fmt: str) -> Path:
    EXPORT_DIR.mkdir(parents=True, exist_ok=True)
    return EXPORT_DIR / f"{actor.user_id}-{secrets.token_urlsafe(16)}.{fmt}"


def owned_file(actor: Actor, name: str) -> Path:
    """The export file `name` if it exists and belongs to the actor."""
    match = _NAME.match(name)
    path = EXPORT_DIR / name
    if not match or int(match.group(1)) != actor.user_id or not path.is_file():
        raise NotFound("No such export (exports are kept for a day)")
    return path


def purge_old(now: float | None = None) -> int:
    now = now or time.time()
    removed = 0
    for path in EXPORT_DIR.glob("*-*.*") if EXPORT_DIR.exists() else []:
        if now - path.stat().st_mtime > KEEP_SECONDS:
            path.unlink(missing_ok=True)
            removed += 1
    return removed

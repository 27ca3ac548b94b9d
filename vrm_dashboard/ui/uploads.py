"""What the screens need from an uploaded file."""
from __future__ import annotations


def file_name(upload, default: str = "upload") -> str:  # type: ignore[no-untyped-def]
    """The name the browser sent (Reflex's upload object has used both attribute names)."""
    return getattr(upload, "name", None) or getattr(upload, "filename", None) or default

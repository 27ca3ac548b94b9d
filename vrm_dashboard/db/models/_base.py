"""Column helpers shared by every table."""
from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    """Now, aware and in UTC: SQLModel's datetime columns store and return aware UTC."""
    return datetime.now(timezone.utc)

"""Column helpers shared by every table."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Table
from sqlmodel import SQLModel


def utcnow() -> datetime:
    """Now, aware and in UTC: SQLModel's datetime columns store and return aware UTC."""
    return datetime.now(timezone.utc)


def table_of(model: type[SQLModel]) -> Table:
    """The Core table behind a model, typed (SQLModel sets `__table__` on table classes at run
    time but does not declare it), for inserts from a select and column types in literals."""
    table = model.__table__  # type: ignore[attr-defined]  # set by SQLModel's metaclass
    assert isinstance(table, Table)
    return table

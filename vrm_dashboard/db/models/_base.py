"""Column helpers shared by every table."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Protocol

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


class _Stored(Protocol):
    @property
    def id(self) -> int | None: ...


def stored_id(row: _Stored) -> int:
    """The id of a row that is in the database (loaded, or added and flushed).

    SQLModel types `id` as optional because a new row has none until it is flushed; code that
    only handles stored rows says so here, and fails loudly on a row that was never flushed."""
    if row.id is None:
        raise ValueError(f"{type(row).__name__} has no id: it was never flushed")
    return row.id

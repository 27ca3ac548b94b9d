"""Holding the rows a set-based change is about to move.

A mover reads its rows (for the audit and the rollup) and then updates them. On PostgreSQL, at
its default isolation, another transaction may move the same rows in between: the UPDATE waits
and re-checks its condition, but what was read before it was not. So the rows are locked first;
once locked, every statement after sees them as they stay until the transaction ends. SQLite's
writer already holds the whole database (BEGIN IMMEDIATE), so there is nothing to do there.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session


def lock_rows(session: Session, id_column: Any, condition: ColumnElement[bool]) -> None:
    """Hold the rows matching `condition` until the transaction ends."""
    if session.get_bind().dialect.name != "postgresql":
        return
    session.connection().execute(select(id_column).where(condition).with_for_update())

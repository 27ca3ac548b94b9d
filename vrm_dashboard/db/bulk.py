"""Fast set-based inserts for seeding and imports, on SQLite and PostgreSQL alike.

Rows are plain tuples sent straight to the driver's executemany: the ORM's per-row work
would dominate at a million rows.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Iterable, Sequence

from sqlalchemy.engine import Connection


def _sqlite_value(value):  # type: ignore[no-untyped-def]
    # The same text SQLAlchemy's SQLite types write, so ORM reads see ordinary values.
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def driver_value(conn: Connection, value):  # type: ignore[no-untyped-def]
    """A date or datetime as the driver of this connection stores it."""
    return _sqlite_value(value) if conn.dialect.name == "sqlite" else value


def insert_rows(
    conn: Connection,
    table: str,
    columns: Sequence[str],
    rows: Iterable[tuple],
    batch: int = 50_000,
    convert: bool = True,
) -> int:
    """executemany in batches; returns the number of rows written.

    Pass convert=False when the rows already hold driver-ready values (see `driver_value`).
    """
    sqlite = conn.dialect.name == "sqlite"
    mark = "?" if sqlite else "%s"
    quoted = ", ".join(f'"{c}"' for c in columns)
    sql = f'INSERT INTO "{table}" ({quoted}) VALUES ({", ".join([mark] * len(columns))})'
    written = 0
    buffer: list[tuple] = []
    for row in rows:
        buffer.append(tuple(_sqlite_value(v) for v in row) if sqlite and convert else row)
        if len(buffer) >= batch:
            conn.exec_driver_sql(sql, buffer)
            written += len(buffer)
            buffer = []
    if buffer:
        conn.exec_driver_sql(sql, buffer)
        written += len(buffer)
    return written

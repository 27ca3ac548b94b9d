"""Fast set-based inserts for seeding and imports, on SQLite and PostgreSQL alike.

Rows are plain tuples sent straight to the driver's executemany: the ORM's per-row work
would dominate at a million rows.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime, timezone
from typing import Any, Iterable, Iterator, Sequence

from sqlalchemy.engine import Connection, Engine

from vrm_dashboard.db.engine import SQLITE_CACHE_KIB


def _sqlite_value(value: object) -> object:
    # The same text SQLAlchemy's SQLite types write, so ORM reads see ordinary values.
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    return value


BULK_CACHE_KIB = 512 * 1024


@contextmanager
def bulk_load(engine: Engine) -> Iterator[Connection]:
    """A connection and transaction set up for loading generated rows in bulk.

    On SQLite: a large page cache (the default 2 MB makes every index insert miss), sorting on
    a second core, and no per-row foreign-key lookups. The caller vouches for the references
    of what it writes; the connection gets its foreign-key checks back before it returns to
    the pool.
    """
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # sqlite3's own connection (SQLAlchemy types it Any, or None once invalidated, which a
            # connection just checked out of the pool is not).
            raw: Any = conn.connection.driver_connection
            # PRAGMA foreign_keys only takes effect outside a transaction.
            raw.execute("PRAGMA foreign_keys=OFF")
            raw.execute(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")
            raw.execute("PRAGMA threads=2")
        try:
            with conn.begin():
                yield conn
        finally:
            if sqlite:
                raw.execute("PRAGMA foreign_keys=ON")
                raw.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")


@contextmanager
def indexes_deferred(conn: Connection, tables: Sequence[str]) -> Iterator[None]:
    """Drop these tables' secondary indexes for a load and build them again afterwards.

    Building an index once over sorted rows is several times faster than updating it per
    row. Unique indexes come back as unique, so a duplicate still fails the whole load.
    Only for SQLite, the embedded default; elsewhere the indexes stay.
    """
    if conn.dialect.name != "sqlite":
        yield
        return
    names = ", ".join(f"'{t}'" for t in tables)
    ddl = conn.exec_driver_sql(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        f"AND tbl_name IN ({names})"
    ).all()
    for name, _sql in ddl:
        conn.exec_driver_sql(f'DROP INDEX "{name}"')
    yield
    for _name, sql in ddl:
        conn.exec_driver_sql(sql)


def driver_value(conn: Connection, value: object) -> object:
    """A date or datetime as the driver of this connection stores it."""
    return _sqlite_value(value) if conn.dialect.name == "sqlite" else value


def insert_rows(
    conn: Connection,
    table: str,
    columns: Sequence[str],
    rows: Iterable[tuple],
    batch: int = 50_000,
    convert: bool = True,
    on_conflict_ignore: bool = False,
) -> int:
    """executemany in batches; returns the number of rows sent.

    Pass convert=False when the rows already hold driver-ready values (see `driver_value`).
    With on_conflict_ignore, rows that would break a unique constraint are skipped.
    """
    sqlite = conn.dialect.name == "sqlite"
    mark = "?" if sqlite else "%s"
    quoted = ", ".join(f'"{c}"' for c in columns)
    verb = "INSERT OR IGNORE" if sqlite and on_conflict_ignore else "INSERT"
    tail = " ON CONFLICT DO NOTHING" if on_conflict_ignore and not sqlite else ""
    sql = f'{verb} INTO "{table}" ({quoted}) VALUES ({", ".join([mark] * len(columns))}){tail}'
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

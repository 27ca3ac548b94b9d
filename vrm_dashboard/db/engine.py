"""The database engine and sessions, for SQLite (embedded) and PostgreSQL (scale-out)."""
from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache
from typing import Iterator

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel import Session, create_engine

from vrm_dashboard.config import settings
from vrm_dashboard.db import row_security  # noqa: F401  (the second wall: PostgreSQL's row-level security)
from vrm_dashboard.db.tenancy import NOBODY, scope_to

SQLITE_BUSY_TIMEOUT_MS = 15_000
READ_ONLY = "vrm_read_only"
SQLITE_CACHE_KIB = 64 * 1024


def _tune_sqlite(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    # The app and the scheduler both write: WAL lets readers run beside a writer, the busy
    # timeout makes a writer wait for the other instead of failing, and SQLite only checks
    # foreign keys when asked to.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # 64 MB of page cache per connection (allocated as used) keeps index pages of a
    # million-invoice book in memory for bulk actions; sorts stay in memory too.
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def _begin(conn: Connection) -> None:
    # A unit of work takes the write lock when it starts, so two writers queue on the busy
    # timeout instead of one failing with "database is locked" when it upgrades a read.
    # Read-only work begins deferred: under WAL it never waits for a writer, so pages stay
    # responsive while the scheduler runs a long job.
    if conn.get_execution_options().get(READ_ONLY):
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )
        event.listen(engine, "connect", _tune_sqlite)

        @event.listens_for(engine, "connect")
        def _no_pysqlite_begin(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
            dbapi_connection.isolation_level = None

        event.listen(engine, "begin", _begin)
        return engine
    # JIT compilation costs more than it saves on the app's short statements, and the
    # row-level security policies' estimates make PostgreSQL reach for it (a quarter second
    # for a count it answers in milliseconds without).
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10,
                         connect_args={"options": "-c jit=off"})


@lru_cache(maxsize=1)
def engine() -> Engine:
    """The process-wide engine for VRM_DATABASE_URL."""
    return make_engine(settings().database_url)


@contextmanager
def session_scope(bind: Engine | None = None, read_only: bool = False) -> Iterator[Session]:
    """A unit of work: commits when the block ends, rolls back everything on an error.

    read_only=True is for work that only reads (page loads); it never waits for a writer.
    It starts scoped to nobody (db/tenancy.py): it sees the records of whoever the code then
    says is acting (services.platform.actors.act_as; signing in with a token or key does it),
    and nothing before.
    """
    target = bind or engine()
    if read_only:
        target = target.execution_options(**{READ_ONLY: True})
    with Session(target, expire_on_commit=False) as session:
        scope_to(session, NOBODY)
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise

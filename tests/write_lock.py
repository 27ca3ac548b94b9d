"""Whether another writer can write to a SQLite database at this moment: what a unit of work
that holds the write lock (a session begins with BEGIN IMMEDIATE there) while it waits on
something slow prevents."""
from __future__ import annotations

import sqlite3

from sqlalchemy.engine import Engine


def another_writer_commits(db: Engine, job: str = "another writer") -> bool:
    """Write and commit a row on a connection of its own, waiting a tenth of a second at most
    for the lock: whether it could."""
    other = sqlite3.connect(str(db.url.database), timeout=0.1, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO job_run (job, started_at, status, rows, errors) "
                      "VALUES (?, CURRENT_TIMESTAMP, 'succeeded', 0, 0)", (job,))
        other.execute("COMMIT")
        return True
    except sqlite3.OperationalError as error:
        if "locked" not in str(error):
            raise
        return False
    finally:
        other.close()

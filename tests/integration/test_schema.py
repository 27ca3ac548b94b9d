"""The schema: migrations match the models, history cannot be rewritten, SQLite is tuned."""
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session

from tests.helpers import SYSTEM
from vrm_dashboard.db import migrations
from vrm_dashboard.db.models import StoredDocument
from vrm_dashboard.services.platform import audit


def test_autogenerate_finds_no_difference_between_models_and_migrations(db):
    assert migrations.differences(db) == []


def test_migrations_downgrade_and_upgrade_again(db):
    url = db.url.render_as_string(hide_password=False)
    db.dispose()
    migrations.downgrade(url, "base")
    migrations.upgrade(url)
    assert migrations.differences(db) == []


def test_audit_log_is_append_only(db):
    with Session(db) as session:
        audit.record(session, SYSTEM, "test.action", "thing", 1, before={"a": 1}, after={"a": 2})
        session.commit()
    for statement in ("UPDATE audit_log SET action = 'forged'", "DELETE FROM audit_log"):
        with pytest.raises(DatabaseError, match="append-only"):
            with db.begin() as conn:
                conn.execute(text(statement))
    with db.connect() as conn:
        assert conn.execute(text("SELECT action FROM audit_log")).scalar_one() == "test.action"


def test_stored_documents_are_immutable(db):
    with Session(db) as session:
        session.add(StoredDocument(sha256="a" * 64, filename="inv.pdf", content_type="application/pdf",
                                   size_bytes=3, content=b"pdf"))
        session.commit()
    with pytest.raises(DatabaseError, match="append-only"):
        with db.begin() as conn:
            conn.execute(text("UPDATE stored_document SET content = :c"), {"c": b"forged"})


def test_sqlite_is_set_up_for_two_writing_processes(db):
    if db.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")
    with db.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000

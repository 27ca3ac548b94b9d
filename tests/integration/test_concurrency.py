"""The app and the scheduler write to one database from two processes."""
import multiprocessing
import time

import pytest
from sqlalchemy import func, text
from sqlmodel import Session, select

from tests.helpers import SYSTEM, vendor_input
from vrm_dashboard.db.engine import session_scope
from vrm_dashboard.db.models import Vendor
from vrm_dashboard.services.platform.actors import act_as
from vrm_dashboard.services.vendors import records as svc

WRITES_PER_PROCESS = 40


def _writer(url: str, prefix: str) -> None:
    from tests.helpers import use_database

    use_database(url)
    for n in range(WRITES_PER_PROCESS):
        with session_scope() as session:
            act_as(session, SYSTEM)  # a unit of work of the app sees nothing until it says who acts
            svc.create_vendor(session, SYSTEM, vendor_input(vendor_code=f"{prefix}-{n}", name=f"{prefix} {n}"))


def test_two_processes_writing_at_once_lose_nothing(db):
    url = db.url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_writer, args=(url, name)) for name in ("APP", "JOB")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    assert [w.exitcode for w in workers] == [0, 0]
    with Session(db) as session:
        assert session.exec(select(func.count()).select_from(Vendor)).one() == 2 * WRITES_PER_PROCESS


def test_pages_read_while_a_long_write_holds_the_lock(db):
    if db.dialect.name != "sqlite":
        pytest.skip("PostgreSQL readers never wait for writers")
    with session_scope() as session:
        svc.create_vendor(session, act_as(session, SYSTEM), vendor_input())
    with db.connect() as writer:
        writer.begin()
        writer.execute(text("UPDATE vendor SET name = 'Being renamed'"))
        started = time.monotonic()
        with session_scope(read_only=True) as session:
            page = svc.list_vendors(session, act_as(session, SYSTEM), svc.VendorQuery())
        assert time.monotonic() - started < 2
        assert [r.name for r in page.rows] == ["Acme Media"]
        writer.rollback()

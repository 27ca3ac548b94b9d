"""Intake through the REST API: invoice files, activity files and activity rows."""
import hashlib

import pytest
import starlette.datastructures
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from tests.helpers import SYSTEM, count_rows, make_user, vendor_input
from tests.invoice_corpus import make_invoice
from tests.write_lock import another_writer_commits
from vrm_dashboard.api import intake as intake_api
from vrm_dashboard.api.app import build_api
from vrm_dashboard.db.models import Intake, Invoice, JobRun, StoredDocument
from vrm_dashboard.services.identity.api_keys import create_api_key
from vrm_dashboard.services.intake import invoice_files
from vrm_dashboard.services.vendors import rate_rules, records as vendor_service


@pytest.fixture
def setup(db):
    client = TestClient(build_api())
    with Session(db) as session:
        finance = make_user(session, "finance_manager")
        viewer = make_user(session, "viewer")
        vendor = vendor_service.create_vendor(session, finance, vendor_input())
        rate_rules.set_rate_card(session, finance, vendor.id, "EUR")
        rate_rules.set_rate_rule(session, finance, vendor.id, "clicks", per_unit_rate="0.02")
        keys = {name: create_api_key(session, SYSTEM, "tests", user_id=actor.user_id)
                for name, actor in (("finance", finance), ("viewer", viewer))}
        session.commit()
    return client, {name: {"Authorization": f"Bearer {key}"} for name, key in keys.items()}


def test_invoice_files_arrive_through_the_api(db, setup):
    client, headers = setup
    sample = make_invoice(41, "es", "classic")
    files = [("files", ("factura.pdf", sample.pdf, "application/pdf")), ("files", ("empty.pdf", b"", "application/pdf"))]
    response = client.post("/api/v1/invoices/intake", files=files, headers=headers["finance"])
    assert response.status_code == 200
    accepted, failed = response.json()
    assert accepted["status"] == "accepted" and accepted["invoice_status"] == "draft"
    assert failed["status"] == "failed" and failed["message"] == "The file is empty"
    refused = client.post("/api/v1/invoices/intake", files=files[:1], headers=headers["viewer"])
    assert refused.status_code == 403
    log = client.get("/api/v1/intakes", headers=headers["finance"]).json()
    assert log["total"] == 2 and log["items"][0]["status"] == "failed"


def test_activity_rows_and_files_through_the_api(db, setup):
    client, headers = setup
    rows = {"source": "tracker", "rows": [
        {"vendor": "ACME-1", "activity_type": "clicks", "date": "2026-10-01", "quantity": "500", "row_id": "e-1"},
        {"vendor": "ACME-1", "activity_type": "clicks", "date": "2026-10-02", "quantity": "250", "row_id": "e-2"}]}
    first = client.post("/api/v1/activity", json=rows, headers=headers["finance"])
    assert first.status_code == 200 and first.json()["new_rows"] == 2
    again = client.post("/api/v1/activity", json=rows, headers=headers["finance"])
    assert again.json()["new_rows"] == 0
    bad = client.post("/api/v1/activity/imports", headers=headers["finance"],
                      files={"file": ("bad.csv", b"vendor,activity_type,date,quantity\nGHOST,clicks,2026-10-01,1\n")})
    assert bad.status_code == 422 and bad.json()["problems"] == [{"row": 2, "reason": "unknown vendor GHOST"}]
    with Session(db) as session:
        invoice = session.execute(select(Invoice)).scalar_one()
        assert invoice.total_minor == 1500  # 750 clicks x 0.02


def _pdf(name: str, content: bytes) -> tuple[str, tuple[str, bytes, str]]:
    return ("files", (name, content, "application/pdf"))


def test_no_write_lock_is_held_while_the_api_reads_a_file(db, setup, monkeypatch):
    if db.dialect.name != "sqlite":
        pytest.skip("the write lock a SQLite unit of work takes when it begins")
    client, headers = setup
    others_could_write = []
    real = invoice_files.parse_document

    def reading(content, name, **options):
        others_could_write.append(another_writer_commits(db, f"written while {name} is read"))
        return real(content, name, **options)

    monkeypatch.setattr(invoice_files, "parse_document", reading)
    response = client.post("/api/v1/invoices/intake", headers=headers["finance"], files=[
        _pdf("one.pdf", make_invoice(42, "en", "classic").pdf), _pdf("two.pdf", make_invoice(43).pdf)])
    assert [o["status"] for o in response.json()] == ["accepted", "accepted"]
    assert others_could_write == [True, True]
    with Session(db) as session:
        assert count_rows(session, JobRun) == 2


def test_a_file_that_fails_unforeseen_is_refused_alone_and_the_others_are_taken(db, setup, monkeypatch):
    client, headers = setup
    good, crashing, after = make_invoice(44, "en", "classic"), make_invoice(45, "de", "classic"), make_invoice(46)
    real = invoice_files.take_invoice

    def take(session, actor, received, **kwargs):
        outcome = real(session, actor, received, **kwargs)
        if received.filename == "crash.pdf":  # after its invoice and document are written
            raise RuntimeError("a bug nobody foresaw")
        return outcome

    monkeypatch.setattr(invoice_files, "take_invoice", take)
    response = client.post("/api/v1/invoices/intake", headers=headers["finance"], files=[
        _pdf("good.pdf", good.pdf), _pdf("crash.pdf", crashing.pdf), _pdf("after.pdf", after.pdf)])
    assert response.status_code == 200
    first, crashed, last = response.json()
    assert first["status"] == "accepted" and last["status"] == "accepted"
    assert crashed["status"] == "failed" and crashed["invoice_id"] is None
    # The caller learns what kind of failure, not the internals of it.
    assert crashed["message"] == "The file could not be taken (RuntimeError)"
    with Session(db) as session:
        numbers = set(session.execute(select(Invoice.vendor_invoice_number)).scalars())
        assert numbers == {good.truth["invoice_number"], after.truth["invoice_number"]}
        assert count_rows(session, StoredDocument) == 2
        intake = session.get(Intake, crashed["intake_id"])
        assert (intake.filename, intake.channel, intake.status, intake.reason) == (
            "crash.pdf", "api", "failed", crashed["message"])
        assert intake.sha256 == hashlib.sha256(crashing.pdf).hexdigest() and intake.document_id is None


def test_no_write_lock_is_held_while_the_api_reads_an_activity_file(db, setup, monkeypatch):
    if db.dialect.name != "sqlite":
        pytest.skip("the write lock a SQLite unit of work takes when it begins")
    import io

    import openpyxl

    from vrm_dashboard.services.platform import tabular_files

    client, headers = setup
    book = openpyxl.Workbook()
    book.active.append(["vendor", "activity_type", "date", "quantity"])
    book.active.append(["ACME-1", "clicks", "2026-10-01", 500])
    sheet = io.BytesIO()
    book.save(sheet)
    # A spreadsheet keeps its worker busy for up to minutes: everyone else still writes meanwhile
    # (the unit of work that found the caller has ended).
    others_could_write = []
    real_run_confined = tabular_files.run_confined

    def reading(*args, **kwargs):
        others_could_write.append(another_writer_commits(db, "written while a spreadsheet is read"))
        return real_run_confined(*args, **kwargs)

    monkeypatch.setattr(tabular_files, "run_confined", reading)
    response = client.post("/api/v1/activity/imports", headers=headers["finance"],
                           files={"file": ("october.xlsx", sheet.getvalue())})
    assert response.status_code == 200 and response.json()["new_rows"] == 1, response.json()
    refused = client.post("/api/v1/activity/imports", headers=headers["finance"],
                          files={"file": ("broken.xlsx", b"PK\x03\x04 not a zip")})
    assert refused.status_code == 422 and "damaged" in refused.json()["detail"]
    assert others_could_write == [True]
    with Session(db) as session:
        assert count_rows(session, JobRun) == 1
        intakes = session.execute(select(Intake).order_by(Intake.id)).scalars().all()
        assert [(i.filename, i.channel, i.status) for i in intakes] == [
            ("october.xlsx", "api", "accepted"), ("broken.xlsx", "api", "failed")]


def _noted_reads(monkeypatch) -> list[tuple[str, int]]:
    """From now on, each read of an uploaded file: its name and the size asked for."""
    reads: list[tuple[str, int]] = []
    original = starlette.datastructures.UploadFile.read

    async def noted(upload, size: int = -1) -> bytes:
        reads.append((upload.filename or "", size))
        return await original(upload, size)

    monkeypatch.setattr(starlette.datastructures.UploadFile, "read", noted)
    return reads


def test_an_invoice_file_larger_than_the_limit_is_refused_unread(db, setup, monkeypatch):
    client, headers = setup
    limit = invoice_files.MAX_FILE_BYTES
    reads = _noted_reads(monkeypatch)
    response = client.post("/api/v1/invoices/intake", headers=headers["finance"], files=[
        _pdf("huge.pdf", b"%PDF-1.7\n" + b"0" * limit), _pdf("fits.pdf", make_invoice(47).pdf)])
    huge, fits = response.json()
    assert huge["status"] == "failed" and huge["message"] == "The file is 20.0 MB; the limit is 20 MB"
    assert fits["status"] == "accepted"
    # Its size is known before it is read: it is never read; the other no further than the limit.
    assert reads == [("fits.pdf", limit + 1)]
    with Session(db) as session:
        assert session.get(Intake, huge["intake_id"]).reason == huge["message"]


def test_an_activity_file_larger_than_the_import_reads_is_refused_unread(db, setup, monkeypatch):
    client, headers = setup
    limit = 1_048_576  # 200 MB in the app; 1 MB makes the same point with less memory
    monkeypatch.setattr(intake_api, "MAX_TABLE_BYTES", limit)
    reads = _noted_reads(monkeypatch)
    response = client.post("/api/v1/activity/imports", headers=headers["finance"],
                           files={"file": ("big.csv", b"vendor,activity_type,date,quantity\n" + b"x" * limit)})
    assert response.status_code == 413 and response.json()["detail"] == "The file is larger than 1 MB"
    assert reads == []
    with Session(db) as session:
        assert count_rows(session, Intake) == 0

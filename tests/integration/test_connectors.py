"""Connector syncs against real local counterparts: a folder, an HTTP server on 127.0.0.1 and
a separate SQL database standing in for the ERP."""
import json
import sqlite3
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import func
from sqlmodel import select

from tests.helpers import finance_with_a_paid_per_click_vendor
from vrm_dashboard.db.models import ActivityRecord, ActivitySource, Invoice
from vrm_dashboard.services.intake import connectors, log as intake_log
from vrm_dashboard.services.platform.job_runs import run_recorded


@pytest.fixture
def finance(session):
    return finance_with_a_paid_per_click_vendor(session)


def _records(session):
    return session.execute(select(func.count()).select_from(ActivityRecord)).scalar_one()


def test_drop_folder_takes_each_new_file_once_and_sets_a_bad_one_aside(session, finance, tmp_path):
    (tmp_path / "2026-10-01.csv").write_text("vendor,activity_type,date,quantity\nACME-1,clicks,2026-10-01,100\n")
    source = connectors.configure_source(session, finance, "drop", "drop_folder", {"path": str(tmp_path)})
    session.commit()
    assert connectors.sync_source(session, finance, source).new_rows == 1
    assert connectors.sync_source(session, finance, source).batches == 0
    (tmp_path / "2026-10-02.csv").write_text("vendor,activity_type,date,quantity\nGHOST,clicks,2026-10-02,5\n")
    (tmp_path / "2026-10-03.csv").write_text("vendor,activity_type,date,quantity\nACME-1,clicks,2026-10-03,7\n")
    report = connectors.sync_source(session, finance, source)
    # The bad file is set aside with its reason; the one after it is imported all the same.
    assert report.error == "" and report.new_rows == 1 and _records(session) == 2
    assert len(report.rejected) == 1 and "unknown vendor GHOST" in report.rejected[0]
    assert not (tmp_path / "2026-10-02.csv").exists()
    assert "unknown vendor GHOST" in (tmp_path / "rejected" / "2026-10-02.csv.reason.txt").read_text()
    assert session.get(ActivitySource, source.id).cursor == "2026-10-03.csv"
    # Put back fixed under its name, it is taken again and its rejection is settled.
    (tmp_path / "2026-10-02.csv").write_text("vendor,activity_type,date,quantity\nACME-1,clicks,2026-10-02,5\n")
    report = connectors.sync_source(session, finance, source)
    assert report.new_rows == 1 and report.rejected == [] and _records(session) == 3
    assert not (tmp_path / "rejected" / "2026-10-02.csv").exists()
    assert session.get(ActivitySource, source.id).cursor == "2026-10-03.csv"
    assert connectors.sync_source(session, finance, source).batches == 0


class _Tracker(BaseHTTPRequestHandler):
    events: list[dict] = []

    def do_GET(self):  # noqa: N802 - http.server's name
        since = int(parse_qs(urlparse(self.path).query).get("since", ["0"])[0] or 0)
        page = [e for e in self.events if e["id"] > since][:10]
        body = json.dumps({"events": page}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_http_json_tracker_pages_through_with_a_cursor(session, finance):
    _Tracker.events = [{"id": i, "publisher": "ACME-1", "event": "clicks", "day": "2026-10-0%d" % (1 + i % 5),
                        "units": "10"} for i in range(1, 26)]
    server = HTTPServer(("127.0.0.1", 0), _Tracker)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/events"
        source = connectors.configure_source(
            session, finance, "tracker", "http_json",
            {"url": url, "items_key": "events", "cursor_param": "since", "cursor_field": "id"},
            mapping={"vendor": "publisher", "activity_type": "event", "date": "day", "quantity": "units", "row_id": "id"})
        session.commit()
        report = connectors.sync_source(session, finance, source)
        assert report.error == "" and report.new_rows == 25 and report.batches == 3
        assert session.get(ActivitySource, source.id).cursor == "25"
        _Tracker.events.append({"id": 26, "publisher": "ACME-1", "event": "clicks", "day": "2026-10-09", "units": "1"})
        assert connectors.sync_source(session, finance, source).new_rows == 1
        invoice = session.execute(select(Invoice)).scalar_one()
        assert invoice.total_minor == 251  # 251 clicks x 0.01
    finally:
        server.shutdown()


def test_erp_query_reads_incrementally_and_the_job_run_is_recorded(db, session, finance, tmp_path):
    erp = tmp_path / "erp.sqlite"
    with sqlite3.connect(erp) as conn:
        conn.execute("create table usage (seq integer primary key, supplier text, metric text, day text, qty text)")
        conn.executemany("insert into usage values (?, ?, ?, ?, ?)",
                         [(i, "ACME-1", "clicks", "2026-09-15", "20") for i in range(1, 6)])
    connectors.configure_source(
        session, finance, "erp", "sql",
        {"url": f"sqlite:///{erp}", "cursor_field": "seq",
         "query": "select seq, supplier, metric, day, qty from usage where seq > :cursor order by seq"},
        mapping={"vendor": "supplier", "activity_type": "metric", "date": "day", "quantity": "qty", "row_id": "seq"})
    connectors.configure_source(session, finance, "down", "http_json", {"url": "http://127.0.0.1:9/none"})
    session.commit()
    run = run_recorded(db, "sync_activity_sources", connectors.sync_all)
    assert run.rows == 5 and run.errors == 1 and run.status == "partly_failed"
    detail = {r["source"]: r for r in json.loads(run.detail)}
    assert detail["erp"]["new_rows"] == 5 and "URLError" in detail["down"]["error"]
    runs = intake_log.recent_sync_runs(session, finance)
    assert runs[0].job == "sync_activity_sources" and runs[0].rows == 5


def test_the_audit_log_keeps_no_connector_secrets(session, finance):
    from vrm_dashboard.db.models import AuditEntry

    connectors.configure_source(session, finance, "erp-pg", "sql", {
        "url": "postgresql://erp:s3cret-pass@127.0.0.1/erp", "query": "select 1", "cursor_field": "id"})
    connectors.configure_source(session, finance, "tracker-auth", "http_json", {
        "url": "http://127.0.0.1:1/events", "headers": {"Authorization": "Bearer tok-123"}})
    session.commit()
    logged = " ".join(e.after for e in session.execute(select(AuditEntry)).scalars() if e.after)
    assert "s3cret-pass" not in logged and "tok-123" not in logged and "erp-pg" in logged


def test_a_config_saved_before_sealing_is_sealed_by_the_upgrade_and_still_opens(tmp_path):
    """A source configured before secrets were sealed, and never run since, keeps its password in
    the row until the upgrade seals it."""
    from sqlalchemy import create_engine, text

    from tests.helpers import use_database
    from vrm_dashboard.db import migrations

    url = f"sqlite:///{tmp_path / 'old.db'}"
    use_database(url)
    migrations.upgrade(url, "0008")
    plain = {"url": "postgresql://erp:hunter2@erp.example/ledger", "query": "select 1", "cursor_field": "id"}
    old = create_engine(url)
    with old.begin() as conn:
        conn.execute(text("INSERT INTO activity_source (name, kind, config, column_mapping, enabled, created_at, updated_at) "
                          "VALUES ('erp', 'sql', :config, '{}', 1, '2026-01-01', '2026-01-01')"), {"config": json.dumps(plain)})
    migrations.upgrade(url)
    with old.connect() as conn:
        stored = conn.execute(text("SELECT config FROM activity_source WHERE name = 'erp'")).scalar_one()
    old.dispose()
    assert "hunter2" not in stored and "erp.example" not in stored
    assert json.loads(stored)["query"] == "select 1"  # what is no secret stays readable
    assert connectors.config_of(ActivitySource(name="erp", kind="sql", config=stored)) == plain

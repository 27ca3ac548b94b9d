"""A poison file in the drop folder: set aside with its reason, in its own transaction, and
never in the way of the next file or the next sync."""
import pytest
from sqlalchemy import func
from sqlmodel import select

from tests.helpers import count_rows, finance_with_a_paid_per_click_vendor
from tests.write_lock import another_writer_commits
from vrm_dashboard.db.models import ActivityRecord, ActivitySource, Intake, JobRun
from vrm_dashboard.services.intake import activity_import, connectors, log as intake_log
from vrm_dashboard.services.platform import tabular_files
from vrm_dashboard.services.platform.job_runs import run_recorded

HEADER = "vendor,activity_type,date,quantity\n"


@pytest.fixture
def finance(session):
    return finance_with_a_paid_per_click_vendor(session)


@pytest.fixture
def drop(tmp_path):
    folder = tmp_path / "drop"
    folder.mkdir()
    return folder


def _records(session) -> int:
    return session.execute(select(func.count()).select_from(ActivityRecord)).scalar_one()


def test_poison_files_are_set_aside_with_their_reason_and_the_next_file_imports(db, session, finance, drop,
                                                                                monkeypatch):
    (drop / "01-latin1.csv").write_bytes((HEADER + "ACME-1,clicks,2026-10-01,3\nMÜLLER,clicks,x,1\n")
                                             .encode("latin-1"))
    (drop / "02-crash.csv").write_text(HEADER + "ACME-1,clicks,2026-10-02,4\n")
    (drop / "03-good.csv").write_text(HEADER + "ACME-1,clicks,2026-10-03,5\n")
    connectors.configure_source(session, finance, "drop", "drop_folder", {"path": str(drop)})
    session.commit()
    # A file whose import fails midway, as a database error or a bug would: the transaction is
    # rolled back, and only that file is lost.
    real_take = activity_import.take_activity_file

    def take_or_crash(session, actor, received, *args, **kwargs):
        result = real_take(session, actor, received, *args, **kwargs)
        if received.filename == "02-crash.csv":
            raise OverflowError("the amount does not fit its column")
        return result

    monkeypatch.setattr(activity_import, "take_activity_file", take_or_crash)

    run = run_recorded(db, "sync_activity_sources", connectors.sync_all)
    assert run.status == "partly_failed" and run.errors == 2 and run.rows == 1
    session.expire_all()
    assert _records(session) == 1  # 03-good.csv; nothing of the crashed file was kept
    assert sorted(p.name for p in drop.iterdir()) == ["03-good.csv", "rejected"]
    rejected = drop / "rejected"
    assert "not UTF-8" in (rejected / "01-latin1.csv.reason.txt").read_text()
    assert "OverflowError: the amount does not fit its column" in (rejected / "02-crash.csv.reason.txt").read_text()
    assert (rejected / "02-crash.csv").read_text() == HEADER + "ACME-1,clicks,2026-10-02,4\n"

    intakes = {i.filename: i for i in session.execute(select(Intake)).scalars()}
    assert {name: i.status for name, i in intakes.items()} == {
        "01-latin1.csv": "failed", "02-crash.csv": "failed", "03-good.csv": "accepted"}
    assert "OverflowError" in intakes["02-crash.csv"].reason
    shown = intake_log.recent_sync_runs(session, finance)[0]
    assert [p.split(":")[0] for p in shown.problems] == ["drop", "drop"]
    assert "01-latin1.csv" in shown.problems[0] and "set aside in rejected/" in shown.problems[0]
    assert "02-crash.csv" in shown.problems[1]

    # The next sync is not held up: a new file imports, the set-aside ones are not retried.
    (drop / "04-next.csv").write_text(HEADER + "ACME-1,clicks,2026-10-04,6\n")
    source = session.execute(select(ActivitySource)).scalar_one()
    report = connectors.sync_source(session, finance, source)
    assert (report.new_rows, report.rejected, report.error) == (1, [], "")
    assert _records(session) == 2 and session.get(ActivitySource, source.id).cursor == "04-next.csv"


def test_a_file_that_cannot_be_moved_aside_is_still_recorded_and_passed(session, finance, drop, monkeypatch):
    (drop / "01-bad.csv").write_text(HEADER + "GHOST,clicks,2026-10-01,1\n")
    (drop / "02-good.csv").write_text(HEADER + "ACME-1,clicks,2026-10-02,2\n")
    source = connectors.configure_source(session, finance, "drop", "drop_folder", {"path": str(drop)})
    session.commit()

    def read_only(self, *args, **kwargs):
        raise PermissionError(13, "Read-only file system")

    monkeypatch.setattr(type(drop), "replace", read_only)
    report = connectors.sync_source(session, finance, source)
    assert report.new_rows == 1 and len(report.rejected) == 1
    assert "unknown vendor GHOST" in report.rejected[0] and "it stays in the folder" in report.rejected[0]
    assert session.get(ActivitySource, source.id).cursor == "02-good.csv"
    assert connectors.sync_source(session, finance, source).batches == 0


def test_a_file_whose_name_is_not_utf8_is_set_aside_and_the_next_file_imports(db, session, finance, drop):
    # A name the file system holds as bytes that are not UTF-8 (Latin-1 "Müller").
    with open(bytes(drop) + b"/01-m\xfcller.csv", "wb") as bad:
        bad.write(b"not,an,activity,file\n")
    (drop / "02-good.csv").write_text(HEADER + "ACME-1,clicks,2026-10-03,5\n")
    connectors.configure_source(session, finance, "drop", "drop_folder", {"path": str(drop)})
    session.commit()

    run = run_recorded(db, "sync_activity_sources", connectors.sync_all)
    assert run.errors == 1 and run.rows == 1
    session.expire_all()
    assert _records(session) == 1
    statuses = sorted(i.status for i in session.execute(select(Intake)).scalars())
    assert statuses == ["accepted", "failed"]


def _xlsx(*rows: list[object]) -> bytes:
    import io

    import openpyxl

    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_a_good_spreadsheet_waits_in_the_folder_while_the_readers_are_down(session, finance, drop, monkeypatch):
    from vrm_dashboard.parsing.sandbox import ReadersUnavailable
    from vrm_dashboard.services.platform import tabular_files

    (drop / "01-first.csv").write_text(HEADER + "ACME-1,clicks,2026-10-01,1\n")
    (drop / "02-sheet.xlsx").write_bytes(_xlsx(["vendor", "activity_type", "date", "quantity"],
                                               ["ACME-1", "clicks", "2026-10-02", 2]))
    (drop / "03-last.csv").write_text(HEADER + "ACME-1,clicks,2026-10-03,3\n")
    source = connectors.configure_source(session, finance, "drop", "drop_folder", {"path": str(drop), "pattern": "*"})
    session.commit()
    real_run_confined = tabular_files.run_confined

    def readers_down(*args, **kwargs):
        raise ReadersUnavailable("The document readers could not be started: out of processes")

    monkeypatch.setattr(tabular_files, "run_confined", readers_down)
    report = connectors.sync_source(session, finance, source)
    # The run stops at the spreadsheet: nothing refused, nothing set aside, the cursor before it.
    assert "ReadersUnavailable" in report.error and report.rejected == [] and report.new_rows == 1
    assert sorted(p.name for p in drop.iterdir()) == ["01-first.csv", "02-sheet.xlsx", "03-last.csv"]
    session.expire_all()
    assert session.get(ActivitySource, source.id).cursor == "01-first.csv"
    assert [i.filename for i in session.execute(select(Intake).where(Intake.status == "failed")).scalars()] == []

    # The readers are back: the next sync takes the spreadsheet and the file after it.
    monkeypatch.setattr(tabular_files, "run_confined", real_run_confined)
    report = connectors.sync_source(session, finance, source)
    assert (report.error, report.rejected, report.new_rows) == ("", [], 2)
    assert _records(session) == 3 and session.get(ActivitySource, source.id).cursor == "03-last.csv"


def test_no_write_lock_is_held_while_a_dropped_file_is_read(db, session, finance, drop, monkeypatch):
    if db.dialect.name != "sqlite":
        pytest.skip("the write lock a SQLite unit of work takes when it begins")
    (drop / "01-rows.csv").write_text(HEADER + "ACME-1,clicks,2026-10-01,1\n")
    (drop / "02-sheet.xlsx").write_bytes(_xlsx(["vendor", "activity_type", "date", "quantity"],
                                               ["ACME-1", "clicks", "2026-10-02", 2]))
    (drop / "03-bad.csv").write_text(HEADER + "GHOST,clicks,2026-10-03,3\n")
    connectors.configure_source(session, finance, "drop", "drop_folder", {"path": str(drop), "pattern": "*"})
    session.commit()
    # A spreadsheet may keep its worker busy for minutes: the scheduler's job (whose unit of work
    # began as it listed the sources) writes nothing meanwhile, and everyone else still writes.
    others_could_write = []
    real_read_table = tabular_files.read_table

    def reading(content, filename):
        others_could_write.append(another_writer_commits(db, f"written while {filename} is read"))
        return real_read_table(content, filename)

    monkeypatch.setattr(tabular_files, "read_table", reading)
    run = run_recorded(db, "sync_activity_sources", connectors.sync_all)
    assert (run.status, run.rows, run.errors) == ("partly_failed", 2, 1)
    assert others_could_write == [True, True, True]
    session.expire_all()
    assert _records(session) == 2 and count_rows(session, JobRun) == 4
    statuses = {i.filename: i.status for i in session.execute(select(Intake)).scalars()}
    assert statuses == {"01-rows.csv": "accepted", "02-sheet.xlsx": "accepted", "03-bad.csv": "failed"}
    assert sorted(p.name for p in (drop / "rejected").iterdir()) == ["03-bad.csv", "03-bad.csv.reason.txt"]

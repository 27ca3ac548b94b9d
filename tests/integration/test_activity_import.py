"""Activity files become self-generated invoices: exactly, once, and all or nothing."""
import io

import openpyxl
import pytest
from sqlmodel import select

from tests.helpers import count_rows, make_user, vendor_input
from tests.write_lock import another_writer_commits
from vrm_dashboard.db.models import ActivityRecord, Intake, Invoice, InvoiceLine, JobRun
from vrm_dashboard.services.intake import activity_import
from vrm_dashboard.services.platform import tabular_files
from vrm_dashboard.services.platform.errors import PermissionDenied
from vrm_dashboard.services.vendors import imports as vendor_import, rate_rules, records as vendor_service

CSV = b"""vendor,activity_type,date,quantity,revenue,currency
ACME-1,clicks,2026-10-03,1000,,EUR
ACME-1,clicks,2026-10-04,2345,,EUR
ACME-1,sales,2026-10-05,2,1500.00,EUR
BETA-2,clicks,2026-10-05,10,,EUR
"""


@pytest.fixture
def rated(session):
    finance = make_user(session, "finance_manager")
    acme = vendor_service.create_vendor(session, finance, vendor_input())
    beta = vendor_service.create_vendor(session, finance, vendor_input(vendor_code="BETA-2", name="Beta Blogs"))
    rate_rules.set_rate_card(session, finance, acme.id, "EUR", flat_fee="10.00")
    rate_rules.set_rate_rule(session, finance, acme.id, "clicks", per_unit_rate="0.015")
    rate_rules.set_rate_rule(session, finance, acme.id, "sales", revenue_share_percent="12.5")
    rate_rules.set_rate_card(session, finance, beta.id, "EUR", minimum_payout="50.00")
    rate_rules.set_rate_rule(session, finance, beta.id, "clicks", per_unit_rate="0.10")
    session.commit()
    return dict(finance=finance, acme=acme, beta=beta)



def test_activity_becomes_one_invoice_per_vendor_and_period_with_its_computation(session, rated):
    result = activity_import.import_activity_file(session, rated["finance"], CSV, "october.csv")
    session.commit()
    assert not result.refused and result.rows_new == 4
    invoice = session.execute(select(Invoice).where(Invoice.vendor_id == rated["acme"].id)).scalar_one()
    # 3,345 clicks x 0.015 = 50.175 -> 50.18; 12.5% of 1,500.00 = 187.50; flat fee 10.00.
    assert invoice.total_minor == 5018 + 18750 + 1000
    assert invoice.kind == "self_generated" and invoice.status == "draft_valid"
    assert invoice.billing_period == "2026-10" and invoice.number == "SG-ACME-1-2026-10"
    lines = session.execute(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id)
                            .order_by(InvoiceLine.position)).scalars().all()
    assert [line.amount_minor for line in lines] == [5018, 18750, 1000]
    assert "3,345 × EUR 0.015" in lines[0].description
    assert "12.5% of EUR 1,500.00 = EUR 187.50" in lines[1].description
    # Beta earned 1.00, below its 50.00 minimum: nothing invoiced, the activity carries over.
    assert session.execute(select(Invoice).where(Invoice.vendor_id == rated["beta"].id)).first() is None


def test_importing_the_same_file_again_creates_nothing(session, rated):
    activity_import.import_activity_file(session, rated["finance"], CSV, "october.csv")
    session.commit()
    again = activity_import.import_activity_file(session, rated["finance"], CSV, "october-copy.csv")
    session.commit()
    assert again.rows_new == 0 and again.invoices == []
    assert count_rows(session, ActivityRecord) == 4 and count_rows(session, Invoice) == 1


def test_late_rows_update_a_draft_and_carry_over_below_the_minimum(session, rated):
    activity_import.import_activity_file(session, rated["finance"], CSV, "october.csv")
    late = b"vendor,activity_type,date,quantity\nACME-1,clicks,2026-10-30,1000\nBETA-2,clicks,2026-11-02,600\n"
    activity_import.import_activity_file(session, rated["finance"], late, "late.csv")
    session.commit()
    acme = session.execute(select(Invoice).where(Invoice.vendor_id == rated["acme"].id)).scalars().all()
    assert len(acme) == 1 and acme[0].total_minor == 6518 + 18750 + 1000  # 4,345 clicks now
    beta = session.execute(select(Invoice).where(Invoice.vendor_id == rated["beta"].id)).scalar_one()
    assert beta.billing_period == "2026-11" and beta.total_minor == 6100  # 10 + 600 clicks x 0.10


def test_a_file_with_bad_rows_is_refused_whole_with_row_numbers(session, rated):
    bad = (b"vendor,activity_type,date,quantity,revenue,currency\n"
           b"ACME-1,clicks,2026-10-03,100,,EUR\n"
           b"NOPE-9,clicks,2026-10-03,100,,EUR\n"
           b"ACME-1,clicks,yesterday,100,,EUR\n"
           b"ACME-1,clicks,2026-10-03,-5,,EUR\n"
           b"ACME-1,sales,2026-10-03,1,abc,EUR\n"
           b"ACME-1,clicks,2026-10-03,1,,XYZ\n"
           b"ACME-1,views,2026-10-03,1,,EUR\n")
    result = activity_import.import_activity_file(session, rated["finance"], bad, "bad.csv")
    session.commit()
    assert result.refused
    reasons = {p.row: p.reason for p in result.problems}
    assert reasons[3] == "unknown vendor NOPE-9"
    assert "is not a date" in reasons[4]
    assert "negative" in reasons[5]
    assert "not an amount" in reasons[6]
    assert "unknown currency XYZ" in reasons[7]
    assert "no rate rule" in reasons[8]
    assert 2 not in reasons
    assert count_rows(session, ActivityRecord) == 0 and count_rows(session, Invoice) == 0
    failed = session.execute(select(Intake)).scalar_one()
    assert failed.status == "failed" and "row 3: unknown vendor NOPE-9" in failed.reason


@pytest.mark.parametrize("content, message", [
    (b"", "The file is empty"),
    (b"vendor;when\nACME-1;2026-10-01\n", "no column for activity type"),
    ("vendor,activity_type,date,quantity\nACME-1,cl\u00efcks,2026-10-01,1\n".encode("latin-1"), "not UTF-8"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "not UTF-8"),
])
def test_unreadable_files_get_a_clear_message(session, rated, content, message):
    result = activity_import.import_activity_file(session, rated["finance"], content, "upload.csv")
    assert result.refused and message in result.message


def test_xlsx_with_a_saved_column_mapping(session, rated):
    activity_import.save_mapping(session, rated["finance"], "tracker", {
        "vendor": "Publisher", "activity_type": "Event", "date": "Day", "quantity": "Units"})
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Publisher", "Event", "Day", "Units"])
    sheet.append(["ACME-1", "clicks", "2026-09-01", 2000])
    buffer = io.BytesIO()
    book.save(buffer)
    result = activity_import.import_activity_file(session, rated["finance"], buffer.getvalue(), "sept.xlsx",
                                                  source_name="tracker")
    session.commit()
    assert not result.refused, result.message
    invoice = session.execute(select(Invoice).where(Invoice.billing_period == "2026-09")).scalar_one()
    assert invoice.total_minor == 3000 + 1000


def test_only_importers_may_import(session, rated):
    viewer = make_user(session, "viewer")
    with pytest.raises(PermissionDenied):
        activity_import.import_activity_file(session, viewer, CSV, "october.csv")


def test_a_row_id_repeated_in_one_file_is_refused(session, rated):
    repeated = (b"id,vendor,activity_type,date,quantity\n"
                b"e-1,ACME-1,clicks,2026-10-01,5\n"
                b"e-1,ACME-1,clicks,2026-10-02,7\n")
    result = activity_import.import_activity_file(session, rated["finance"], repeated, "dupes.csv")
    assert result.refused and result.problems[0].row == 3
    assert "row id e-1 appears more than once" in result.problems[0].reason


def _xlsx(*rows: list[object]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_no_write_lock_is_held_while_an_activity_or_vendor_file_is_read(db, session, rated, monkeypatch):
    if db.dialect.name != "sqlite":
        pytest.skip("the write lock a SQLite unit of work takes when it begins")
    session.commit()
    # A spreadsheet keeps its worker busy for up to minutes: everyone else still writes meanwhile.
    others_could_write = []
    real_run_confined = tabular_files.run_confined

    def reading(*args, **kwargs):
        others_could_write.append(another_writer_commits(db, "written while a spreadsheet is read"))
        return real_run_confined(*args, **kwargs)

    monkeypatch.setattr(tabular_files, "run_confined", reading)
    activity = activity_import.import_activity_file(session, rated["finance"], _xlsx(
        ["vendor", "activity_type", "date", "quantity"], ["ACME-1", "clicks", "2026-10-01", 100]), "october.xlsx")
    session.commit()
    vendors = vendor_import.import_vendors_file(session, rated["finance"], _xlsx(
        ["vendor_code", "name", "email", "country", "currency", "payment_method", "iban"],
        ["GAMMA-3", "Gamma Games", "ap@gamma.example", "DE", "EUR", "sepa", "DE89 3704 0044 0532 0130 00"]),
        "vendors.xlsx")
    session.commit()
    assert not activity.refused and not vendors.refused, (activity.message, vendors.message)
    assert others_could_write == [True, True]
    assert count_rows(session, JobRun) == 2


def test_a_file_read_apart_is_taken_or_refused_as_a_whole_import_would(session, rated):
    received = activity_import.read_activity_file(CSV, "october.csv")
    assert received.frame is not None and received.refusal is None and received.size_bytes == len(CSV)
    result = activity_import.take_activity_file(session, rated["finance"], received, channel="api")
    assert not result.refused and result.rows_new == 4
    refused = activity_import.take_activity_file(session, rated["finance"],
                                                 activity_import.read_activity_file(b"", "empty.csv"))
    assert refused.refused and refused.message.endswith("The file is empty")
    unread = vendor_import.take_vendors_file(session, rated["finance"],
                                             vendor_import.read_vendors_file(b"\x89PNG\r\n", "logo.png"))
    assert unread.refused and "is not a CSV or XLSX file" in unread.message
    intakes = session.execute(select(Intake).order_by(Intake.id)).scalars().all()
    assert [(i.filename, i.channel, i.kind, i.status) for i in intakes] == [
        ("october.csv", "api", "activity", "accepted"), ("empty.csv", "upload", "activity", "failed"),
        ("logo.png", "upload", "vendors", "failed")]
    # Only who may import takes a file; reading one asks nobody.
    viewer = make_user(session, "viewer")
    with pytest.raises(PermissionDenied):
        activity_import.take_activity_file(session, viewer, received)
    with pytest.raises(PermissionDenied):
        vendor_import.take_vendors_file(session, viewer, received)


def test_the_command_reads_the_file_before_its_unit_of_work_and_imports_it(db, session, rated, tmp_path, monkeypatch,
                                                                           capsys):
    from vrm_dashboard.cli import main as vrm

    others_could_write = []
    real_read_table = tabular_files.read_table

    def reading(content, filename):
        if db.dialect.name == "sqlite":
            others_could_write.append(another_writer_commits(db, f"written while {filename} is read"))
        return real_read_table(content, filename)

    monkeypatch.setattr(tabular_files, "read_table", reading)
    (tmp_path / "october.csv").write_bytes(CSV)
    (tmp_path / "vendors.csv").write_text("vendor_code,name,email,country,currency,payment_method\n"
                                          "ACME-1,Acme again,ap@again.example,DE,EUR,manual\n")
    assert vrm(["import", "activity", str(tmp_path / "october.csv"), "--as-user", "finance_manager@test.example"]) == 0
    assert vrm(["import", "vendors", str(tmp_path / "vendors.csv")]) == 1
    out, err = capsys.readouterr()
    assert "Imported 4 new rows" in out and "vendor code ACME-1 already exists" in err
    assert others_could_write == ([True, True] if db.dialect.name == "sqlite" else [])
    session.expire_all()
    intakes = session.execute(select(Intake).order_by(Intake.id)).scalars().all()
    assert [(i.filename, i.channel, i.kind, i.status) for i in intakes] == [
        ("october.csv", "cli", "activity", "accepted"), ("vendors.csv", "cli", "vendors", "failed")]

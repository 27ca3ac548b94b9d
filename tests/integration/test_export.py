"""Exports hold exactly the rows of the view, with real dates and numbers, and no formulas."""
import csv
import io
from datetime import datetime

from openpyxl import load_workbook

from tests.helpers import make_invoice, make_user, vendor_input
from vrm_dashboard.cli import main as vrm
from vrm_dashboard.services.invoices import rollup as invoice_rollup
from vrm_dashboard.services.invoices.export import export_invoices
from vrm_dashboard.services.invoices.queries import InvoiceQuery
from vrm_dashboard.services.vendors import records as vendor_service


def _book(session):
    finance = make_user(session, "finance_manager")
    evil = vendor_service.create_vendor(session, finance, vendor_input(
        vendor_code="EVIL", name='=HYPERLINK("http://x","click")'))
    plain = vendor_service.create_vendor(session, finance, vendor_input(
        vendor_code="JP", name="Tokyo Media", currency="JPY", country="JP", payment_method="wire",
        iban="", bic="BOTKJPJT", account_number="12345678"))
    make_invoice(session, evil.id, "E-1", 123_456, "pending")
    make_invoice(session, evil.id, "E-2", 1, "approved")
    make_invoice(session, plain.id, "J-1", 98_765, "pending", currency="JPY")
    invoice_rollup.refresh(session)
    session.commit()
    return finance


def test_excel_export_of_a_filtered_view(session):
    finance = _book(session)
    out = io.BytesIO()
    rows = export_invoices(session, finance, InvoiceQuery(statuses=["pending"], sort="number", descending=False),
                           "xlsx", out)
    assert rows == 2
    sheet = load_workbook(io.BytesIO(out.getvalue())).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:6] == ("Invoice number", "Type", "Vendor", "Vendor ID", "Amount", "Currency")
    assert [v[0] for v in values[1:]] == ["E-1", "J-1"]
    e1, j1 = values[1], values[2]
    assert e1[2] == "'=HYPERLINK(\"http://x\",\"click\")"
    assert e1[4] == 1234.56 and e1[5] == "EUR" and j1[4] == 98765 and j1[5] == "JPY"
    assert isinstance(e1[6], datetime) and e1[6].date().isoformat() == "2026-11-01"
    assert sheet.freeze_panes == "A2"
    assert sheet["E2"].number_format == '#,##0.00 "EUR"' and sheet["E3"].number_format == '#,##0 "JPY"'


def test_csv_export_of_everything(session):
    finance = _book(session)
    out = io.BytesIO()
    assert export_invoices(session, finance, None, "csv", out) == 3
    rows = list(csv.reader(io.StringIO(out.getvalue().decode("utf-8-sig"))))
    assert len(rows) == 4 and {r[0] for r in rows[1:]} == {"E-1", "E-2", "J-1"}
    assert {r[4] for r in rows[1:]} == {"1234.56", "0.01", "98765"}


def test_vrm_export_command(db, tmp_path):
    with __import__("sqlmodel").Session(db) as session:
        _book(session)
    target = tmp_path / "pending.xlsx"
    assert vrm(["export", str(target), "--status", "pending"]) == 0
    assert load_workbook(target).active.max_row == 3

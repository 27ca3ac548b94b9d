"""Reading invoices: number and date formats, e-invoices, and accuracy on the evaluation set."""
import json
import subprocess
import sys
from collections import Counter
from datetime import date
from decimal import Decimal

import facturx
import pytest
from fpdf import FPDF

from tests.invoice_corpus import corpus, make_invoice
from tests.unit.einvoice_samples import INVOICE
from vrm_dashboard.parsing import parse_document
from vrm_dashboard.parsing.amounts import parse_amount
from vrm_dashboard.parsing.dates import find_date


@pytest.mark.parametrize("text, amount", [
    ("1,234.56", "1234.56"), ("1.234,56", "1234.56"), ("1 234,56", "1234.56"), ("1\u202f234,56", "1234.56"),
    ("1'234.50", "1234.50"), ("1.234.567,89", "1234567.89"), ("1,234", "1234"), ("1.234", "1234"),
    ("0.015", "0.015"), ("12,5", "12.5"), ("-12.00", "-12.00"), ("(12.00)", "-12.00"), ("EUR", None),
])
def test_amounts_in_every_number_format(text, amount):
    assert parse_amount(text) == (Decimal(amount) if amount else None)


@pytest.mark.parametrize("text, expected", [
    ("31.12.2026", date(2026, 12, 31)), ("2026-12-31", date(2026, 12, 31)), ("12/31/2026", date(2026, 12, 31)),
    ("05/06/2026", date(2026, 6, 5)), ("3 March 2026", date(2026, 3, 3)), ("3. März 2026", date(2026, 3, 3)),
    ("12 févr. 2026", date(2026, 2, 12)), ("3 de marzo de 2026", date(2026, 3, 3)), ("14 mei 2026", date(2026, 5, 14)),
    ("Jan 5, 2026", date(2026, 1, 5)), ("no date here", None),
])
def test_dates_in_five_languages(text, expected):
    assert find_date(text) == expected


def test_us_documents_read_numeric_dates_month_first():
    assert find_date("05/06/2026", month_first=True) == date(2026, 5, 6)


def _pdf_with(xml: bytes) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.cell(40, 10, "Invoice FX-2026-0042")
    return facturx.generate_from_binary(bytes(pdf.output()), xml, check_xsd=False)


@pytest.mark.parametrize("build", [
    lambda: _pdf_with(facturx.generate_cii_xml(INVOICE, level="en16931", check_schematron=False)),
    lambda: facturx.generate_ubl_xml(INVOICE, level="en16931", check_schematron=False),
], ids=["factur-x-pdf", "ubl-xml"])
def test_an_e_invoice_is_read_and_trusted(build):
    result = parse_document(build()).as_json()
    assert result["method"] == "einvoice"
    assert (result["invoice_number"], result["issue_date"], result["due_date"]) == ("FX-2026-0042", "2026-10-15", "2026-11-14")
    assert (result["subtotal"], result["tax_total"], result["total"], result["currency"]) == ("200.00", "38.00", "238.00", "EUR")
    assert result["vendor_name"] == "Kestrel Media GmbH" and result["vendor_tax_id"] == "DE136695976"
    assert result["iban"] == "DE89370400440532013000"
    assert result["lines"] == [{"description": "Sponsored post", "quantity": "2", "unit_price": "100.00", "amount": "200.00"}]
    assert min(result["confidence"].values()) >= 0.99


def test_field_accuracy_on_the_generated_evaluation_set():
    """Every language and layout, seeds apart from those the parser was developed on."""
    fields = ("invoice_number", "issue_date", "due_date", "vendor_name", "vendor_tax_id", "iban", "currency",
              "subtotal", "tax_total", "total")
    right, total = Counter(), 0
    for sample in corpus(40, first_seed=5000):
        result = parse_document(sample.pdf).as_json()
        total += 1
        for field in fields:
            right[field] += result[field] == sample.truth[field]
    for field in fields:
        assert right[field] / total >= 0.95, (field, right[field], total)


def test_vrm_parse_json_prints_one_object_with_the_promised_keys(tmp_path):
    path = tmp_path / "facture.pdf"
    sample = make_invoice(77, "fr", "classic")
    path.write_bytes(sample.pdf)
    out = subprocess.run([sys.executable, "-m", "vrm_dashboard.cli", "parse", str(path), "--json"],
                         capture_output=True, text=True, check=True).stdout
    data = json.loads(out)
    for key in ("invoice_number", "issue_date", "due_date", "total", "tax_total", "currency", "vendor_name", "lines"):
        assert key in data
    assert data["total"] == sample.truth["total"] and data["currency"] == "EUR"

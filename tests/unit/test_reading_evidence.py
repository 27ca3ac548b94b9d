"""Every field the reader extracts says where it was read (issue 20): page, box and label on a
PDF, the element path in an e-invoice; and a vendor's hint, learned from one correction, reads
the field at its place on that vendor's next invoice (parsing/hints)."""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from decimal import Decimal

import facturx
import pytest

from tests.invoice_corpus import make_invoice
from tests.unit.einvoice_samples import INVOICE
from tests.unusual_invoice import KIESEL, MOERTEL, unusual_invoice
from vrm_dashboard.parsing import hints
from vrm_dashboard.parsing.extraction import Extraction, describe_evidence
from vrm_dashboard.parsing.layout import fold
from vrm_dashboard.parsing.reader import parse_document, read_pdf
from vrm_dashboard.parsing.text_fields import read_fields


@pytest.mark.parametrize("seed, language, layout", [(3, "de", "classic"), (8, "fr", "compact"),
                                                    (12, "en", "table"), (15, "nl", "classic")])
def test_each_field_read_from_a_pdf_names_its_page_box_and_label(seed, language, layout):
    sample = make_invoice(seed, language, layout)
    extraction = read_pdf(sample.pdf)
    width, height = extraction.layout.pages[0]
    for name, found in extraction.fields.items():
        evidence = found.evidence
        assert evidence is not None and (evidence.label or evidence.text), name
        if evidence.box is not None:
            x0, top, x1, bottom = evidence.box
            assert 0 <= x0 < x1 <= width + 1 and 0 <= top < bottom <= height + 1, (name, evidence)
            assert evidence.page == 1
    # The number and the total are printed values: their text is the value as printed, by its label.
    number = extraction.fields["invoice_number"].evidence
    assert number.box is not None and sample.truth["invoice_number"] in number.text
    total = extraction.fields["total"].evidence
    assert total.box is not None and total.label


def test_a_value_after_its_label_in_one_cell_is_boxed_apart_from_the_label():
    extraction = read_pdf(unusual_invoice("KB/25/0042", label="Rechnungsnummer"))
    evidence = extraction.fields["invoice_number"].evidence
    assert evidence.label == "Rechnungsnummer" and evidence.text == "KB/25/0042"
    assert describe_evidence(extraction.as_json()["evidence"]["invoice_number"]) == "page 1, near 'Rechnungsnummer'"


def test_an_e_invoice_field_names_its_xml_element():
    xml = facturx.generate_cii_xml(INVOICE, level="en16931", check_schematron=False)
    data = parse_document(xml, "x.xml").as_json()
    assert data["evidence"]["invoice_number"]["path"] == "rsm:CrossIndustryInvoice/rsm:ExchangedDocument/ram:ID"
    assert data["evidence"]["total"]["path"].endswith("ram:GrandTotalAmount")
    ubl = parse_document(facturx.generate_ubl_xml(INVOICE, level="en16931", check_schematron=False), "u.xml")
    assert ubl.as_json()["evidence"]["issue_date"]["path"] == "Invoice/cbc:IssueDate"
    assert describe_evidence({"path": "Invoice/cbc:IssueDate"}) == "XML Invoice/cbc:IssueDate"


def test_vrm_parse_json_has_an_evidence_object_beside_the_keys_it_always_had(tmp_path):
    path = tmp_path / "rechnung.pdf"
    path.write_bytes(make_invoice(77, "de", "classic").pdf)
    data = json.loads(subprocess.run([sys.executable, "-m", "vrm_dashboard.cli", "parse", str(path), "--json"],
                                     capture_output=True, text=True, check=True).stdout)
    assert {"invoice_number", "total", "confidence", "lines", "warnings"} <= set(data)
    assert set(data["evidence"]) == set(data["confidence"])
    assert data["evidence"]["invoice_number"]["page"] == 1 and len(data["evidence"]["invoice_number"]["box"]) == 4
    assert "layout" not in data


# ---- hints: learned from one correction, read on the vendor's next invoice


def test_a_hint_learned_from_a_correction_reads_the_next_invoice_of_that_layout():
    first = read_pdf(unusual_invoice("KB/25/0042"))
    assert "invoice_number" not in first.fields  # "Vorgangskennung" is no label the reader knows
    hint = hints.learn(first.layout, "invoice_number", "KB/25/0042", "PI-000001")
    assert hint is not None and (hint.relation, hint.label, hint.page) == ("right", "Vorgangskennung", 0)
    second = read_pdf(unusual_invoice("KB/25/0117", shift=8))
    assert hints.apply(second.layout, [hint], second) == ["invoice_number"]
    found = second.fields["invoice_number"]
    assert found.value == "KB/25/0117" and found.evidence.learned_from == "PI-000001"
    assert describe_evidence(second.as_json()["evidence"]["invoice_number"]) == (
        "page 1, near 'Vorgangskennung'; learned from invoice PI-000001")


def test_a_hint_whose_label_is_gone_reads_its_region_and_only_its_format():
    hint = hints.learn(read_pdf(unusual_invoice("KB/25/0042")).layout, "invoice_number", "KB/25/0042", "PI-1")
    relabelled = read_pdf(unusual_invoice("KB/25/0043", label="Belegkennzeichen"))
    hints.apply(relabelled.layout, [hint], relabelled)
    assert relabelled.value("invoice_number") == "KB/25/0043"
    assert relabelled.fields["invoice_number"].evidence.label == "the place it was printed"
    # A value of another shape where the number stood is not taken for it.
    other = read_pdf(unusual_invoice("4711", label="Belegkennzeichen"))
    hints.apply(other.layout, [hint], other)
    assert other.value("invoice_number") is None


def test_a_value_the_document_does_not_print_teaches_nothing():
    layout = read_pdf(unusual_invoice("KB/25/0042", MOERTEL)).layout
    assert hints.learn(layout, "invoice_number", "XX-1", "PI-1") is None
    assert hints.learn(layout, "issue_date", date(2030, 1, 1), "PI-1") is None
    assert hints.learn(layout, "total", Decimal("1190.00"), "PI-1").relation == "right"


def test_a_date_hint_keeps_the_order_its_correction_showed():
    text = "Muster GmbH\n\nAusgestellt am   03/04/2026\nSumme  100,00 EUR\n"
    extraction = Extraction(method="text")
    read_fields([text], extraction)
    hint = hints.learn(extraction.layout, "issue_date", date(2026, 3, 4), "PI-7")
    assert hint is not None and hint.format == "%m/%d/%Y" and fold(hint.label or "") == "ausgestellt am"
    later = Extraction(method="text")
    read_fields([text.replace("03/04/2026", "05/06/2026")], later)
    hints.apply(later.layout, [hint], later)
    assert later.value("issue_date") == date(2026, 5, 6)


def test_hints_do_not_touch_an_e_invoice():
    xml = facturx.generate_cii_xml(INVOICE, level="en16931", check_schematron=False)
    extraction = parse_document(xml, "x.xml")
    hint = hints.Hint("invoice_number", "region", None, 0, (0, 0, 1, 1), None, "PI-1")
    assert extraction.layout is None and hints.apply(extraction.layout, [hint], extraction) == []
    assert KIESEL.name != MOERTEL.name

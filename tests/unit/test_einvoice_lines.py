"""An e-invoice with more lines than any invoice has is refused, with the limit named, before
its lines are read into data (issue 18)."""
import facturx
import pytest

from tests.unit.einvoice_samples import INVOICE
from vrm_dashboard.parsing import UnreadableDocument, einvoice, en16931, parse_document


def _with_lines(flavor: str, count: int) -> bytes:
    line = INVOICE["BG-25"][0]
    data = {**INVOICE, "BG-25": [{**line, "BT-126": str(n + 1)} for n in range(count)]}
    generate = facturx.generate_cii_xml if flavor == "cii" else facturx.generate_ubl_xml
    return generate(data, level="en16931", check_schematron=False)


@pytest.mark.parametrize("flavor", ["cii", "ubl"])
def test_an_einvoice_of_as_many_lines_as_the_limit_is_read_and_one_more_is_refused(flavor, monkeypatch):
    at_limit = parse_document(_with_lines(flavor, einvoice.MAX_LINES), f"{flavor}.xml")
    assert len(at_limit.lines) == einvoice.MAX_LINES == 1_000
    too_many = _with_lines(flavor, einvoice.MAX_LINES + 1)

    def never(*args, **kwargs):
        raise AssertionError("the lines were read")

    monkeypatch.setattr(en16931, "read", never)
    with pytest.raises(UnreadableDocument, match="The e-invoice has 1,001 lines; the limit is 1,000"):
        parse_document(too_many, f"{flavor}.xml")
    # Refused, not read another way: in a Factur-X PDF this refuses the PDF (parsing/reader).
    with pytest.raises(einvoice.AmountRefused):
        einvoice.read_einvoice(too_many)


def test_an_einvoice_paid_in_instalments_is_due_from_its_first_due_date():
    """Extended profiles state one payment term per instalment: the invoice is read (not
    refused for a due date that is a list) and due on the earliest."""
    xml = facturx.generate_cii_xml(INVOICE, level="en16931", check_schematron=False).decode()
    term = ('<ram:SpecifiedTradePaymentTerms><ram:DueDateDateTime><udt:DateTimeString format="102">{}'
            '</udt:DateTimeString></ram:DueDateDateTime></ram:SpecifiedTradePaymentTerms>')
    start = xml.index("<ram:SpecifiedTradePaymentTerms>")
    end = xml.index("</ram:SpecifiedTradePaymentTerms>") + len("</ram:SpecifiedTradePaymentTerms>")
    instalments = xml[:start] + term.format("20261214") + term.format("20261114") + xml[end:]
    extraction = parse_document(instalments.encode(), "instalments.xml")
    assert str(extraction.value("due_date")) == "2026-11-14"

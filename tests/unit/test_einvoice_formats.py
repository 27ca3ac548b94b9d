"""E-invoices read exactly in every syntax and version (issue 20): CII as ZUGFeRD 1.0 and as
ZUGFeRD 2.x / Factur-X / XRechnung, and UBL invoices and credit notes (Peppol BIS 3, XRechnung),
bare or in a PDF; credit notes and corrections with their sign; the due date from the payment
terms, the seller from the seller party and the tax total from the document's tax total."""
import io
import json
import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal

import facturx
import pytest
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter

from tests.unit.einvoice_samples import INVOICE
from vrm_dashboard.parsing import UnreadableDocument, parse_document
from vrm_dashboard.parsing.einvoice import read_einvoice
from vrm_dashboard.parsing.extraction import FROM_EINVOICE, Extraction

# A ZUGFeRD 1.0 COMFORT invoice as FeRD's examples write it: a note-only first line, a
# document-level allowance written with a minus sign, freight as a logistics service charge,
# two payment terms, and tax registrations of the seller and of the buyer.
ZUGFERD_1 = """<?xml version="1.0" encoding="UTF-8"?>
<!-- ZUGFeRD 1.0 -->
<rsm:CrossIndustryDocument xmlns:rsm="urn:ferd:CrossIndustryDocument:invoice:1p0"
    xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:12"
    xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:15">
  <rsm:SpecifiedExchangedDocumentContext>
    <ram:GuidelineSpecifiedDocumentContextParameter>
      <ram:ID>urn:ferd:CrossIndustryDocument:invoice:1p0:comfort</ram:ID>
    </ram:GuidelineSpecifiedDocumentContextParameter>
  </rsm:SpecifiedExchangedDocumentContext>
  <rsm:HeaderExchangedDocument>
    <ram:ID>471102</ram:ID>
    <ram:Name>RECHNUNG</ram:Name>
    <ram:TypeCode>{type_code}</ram:TypeCode>
    <ram:IssueDateTime><udt:DateTimeString format="102">20130605</udt:DateTimeString></ram:IssueDateTime>
  </rsm:HeaderExchangedDocument>
  <rsm:SpecifiedSupplyChainTradeTransaction>
    <ram:ApplicableSupplyChainTradeAgreement>
      <ram:SellerTradeParty>
        <ram:Name>Lieferant
          GmbH</ram:Name>
        <ram:SpecifiedTaxRegistration><ram:ID schemeID="FC">201/113/40209</ram:ID></ram:SpecifiedTaxRegistration>
        <ram:SpecifiedTaxRegistration><ram:ID schemeID="VA">DE123456789</ram:ID></ram:SpecifiedTaxRegistration>
      </ram:SellerTradeParty>
      <ram:BuyerTradeParty>
        <ram:Name>Kunden AG Mitte</ram:Name>
        <ram:SpecifiedTaxRegistration><ram:ID schemeID="VA">DE234567890</ram:ID></ram:SpecifiedTaxRegistration>
      </ram:BuyerTradeParty>
    </ram:ApplicableSupplyChainTradeAgreement>
    <ram:ApplicableSupplyChainTradeSettlement>
      <ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode>
      <ram:SpecifiedTradeSettlementPaymentMeans>
        <ram:TypeCode>42</ram:TypeCode>
        <ram:PayeePartyCreditorFinancialAccount><ram:IBANID>DE08 7009 0100 1234 5678 90</ram:IBANID>
        </ram:PayeePartyCreditorFinancialAccount>
      </ram:SpecifiedTradeSettlementPaymentMeans>
      <ram:ApplicableTradeTax>
        <ram:CalculatedAmount currencyID="EUR">19.57</ram:CalculatedAmount>
        <ram:TypeCode>VAT</ram:TypeCode>
        <ram:BasisAmount currencyID="EUR">103.00</ram:BasisAmount>
        <ram:ApplicablePercent>19.00</ram:ApplicablePercent>
      </ram:ApplicableTradeTax>
      <ram:BillingSpecifiedPeriod>
        <ram:StartDateTime><udt:DateTimeString format="102">20139102</udt:DateTimeString></ram:StartDateTime>
      </ram:BillingSpecifiedPeriod>
      <ram:SpecifiedTradeAllowanceCharge>
        <ram:ChargeIndicator><udt:Indicator>false</udt:Indicator></ram:ChargeIndicator>
        <ram:ActualAmount currencyID="EUR">-5.00</ram:ActualAmount>
        <ram:Reason>Sondernachlass</ram:Reason>
      </ram:SpecifiedTradeAllowanceCharge>
      <ram:SpecifiedLogisticsServiceCharge>
        <ram:Description>Versandkosten</ram:Description>
        <ram:AppliedAmount currencyID="EUR">8.00</ram:AppliedAmount>
      </ram:SpecifiedLogisticsServiceCharge>
      <ram:SpecifiedTradePaymentTerms>
        <ram:Description>Zahlbar bis 04.07.2013</ram:Description>
        <ram:DueDateDateTime><udt:DateTimeString format="102">20130704</udt:DateTimeString></ram:DueDateDateTime>
      </ram:SpecifiedTradePaymentTerms>
      <ram:SpecifiedTradePaymentTerms>
        <ram:DueDateDateTime><udt:DateTimeString format="102">20130615</udt:DateTimeString></ram:DueDateDateTime>
      </ram:SpecifiedTradePaymentTerms>
      <ram:SpecifiedTradeSettlementMonetarySummation>
        <ram:LineTotalAmount currencyID="EUR">100.00</ram:LineTotalAmount>
        <ram:ChargeTotalAmount currencyID="EUR">8.00</ram:ChargeTotalAmount>
        <ram:AllowanceTotalAmount currencyID="EUR">5.00</ram:AllowanceTotalAmount>
        <ram:TaxBasisTotalAmount currencyID="EUR">103.00</ram:TaxBasisTotalAmount>
        <ram:TaxTotalAmount currencyID="EUR">19.57</ram:TaxTotalAmount>
        <ram:GrandTotalAmount currencyID="EUR">122.57</ram:GrandTotalAmount>
        <ram:TotalPrepaidAmount currencyID="EUR">50.00</ram:TotalPrepaidAmount>
        <ram:DuePayableAmount currencyID="EUR">72.57</ram:DuePayableAmount>
      </ram:SpecifiedTradeSettlementMonetarySummation>
    </ram:ApplicableSupplyChainTradeSettlement>
    <ram:IncludedSupplyChainTradeLineItem>
      <ram:AssociatedDocumentLineDocument>
        <ram:IncludedNote><ram:Content>Positionen aus Lieferung 2013-51112:</ram:Content></ram:IncludedNote>
      </ram:AssociatedDocumentLineDocument>
      <ram:SpecifiedSupplyChainTradeSettlement/>
    </ram:IncludedSupplyChainTradeLineItem>
    <ram:IncludedSupplyChainTradeLineItem>
      <ram:AssociatedDocumentLineDocument><ram:LineID>1</ram:LineID></ram:AssociatedDocumentLineDocument>
      <ram:SpecifiedSupplyChainTradeAgreement>
        <ram:NetPriceProductTradePrice><ram:ChargeAmount currencyID="EUR">3.0000</ram:ChargeAmount>
        </ram:NetPriceProductTradePrice>
      </ram:SpecifiedSupplyChainTradeAgreement>
      <ram:SpecifiedSupplyChainTradeDelivery><ram:BilledQuantity unitCode="C62">20.0000</ram:BilledQuantity>
      </ram:SpecifiedSupplyChainTradeDelivery>
      <ram:SpecifiedSupplyChainTradeSettlement>
        <ram:ApplicableTradeTax><ram:CalculatedAmount currencyID="EUR">11.40</ram:CalculatedAmount>
        </ram:ApplicableTradeTax>
        <ram:SpecifiedTradeSettlementMonetarySummation>
          <ram:LineTotalAmount currencyID="EUR">60.00</ram:LineTotalAmount>
        </ram:SpecifiedTradeSettlementMonetarySummation>
      </ram:SpecifiedSupplyChainTradeSettlement>
      <ram:SpecifiedTradeProduct><ram:Name>Kunstrasen</ram:Name></ram:SpecifiedTradeProduct>
    </ram:IncludedSupplyChainTradeLineItem>
    <ram:IncludedSupplyChainTradeLineItem>
      <ram:AssociatedDocumentLineDocument><ram:LineID>2</ram:LineID></ram:AssociatedDocumentLineDocument>
      <ram:SpecifiedSupplyChainTradeDelivery><ram:BilledQuantity unitCode="KGM">4</ram:BilledQuantity>
      </ram:SpecifiedSupplyChainTradeDelivery>
      <ram:SpecifiedSupplyChainTradeSettlement>
        <ram:SpecifiedTradeSettlementMonetarySummation>
          <ram:LineTotalAmount currencyID="EUR">40.00</ram:LineTotalAmount>
        </ram:SpecifiedTradeSettlementMonetarySummation>
      </ram:SpecifiedSupplyChainTradeSettlement>
      <ram:SpecifiedTradeProduct><ram:Name>Schweinesteak</ram:Name></ram:SpecifiedTradeProduct>
    </ram:IncludedSupplyChainTradeLineItem>
  </rsm:SpecifiedSupplyChainTradeTransaction>
</rsm:CrossIndustryDocument>
"""

UBL_NS = ('xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2" '
          'xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"')

# An XRechnung UBL credit note in US dollars with its VAT also stated in euros (BT-111), a seller
# known by its trading name only, a payee who is someone else, and a line that states a tax total.
UBL_CREDIT_NOTE = f"""<?xml version="1.0" encoding="UTF-8"?>
<CreditNote xmlns="urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2" {UBL_NS}>
  <cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0</cbc:CustomizationID>
  <cbc:ID>CN-2026-7</cbc:ID>
  <cbc:IssueDate>2026-03-02</cbc:IssueDate>
  <cbc:CreditNoteTypeCode>381</cbc:CreditNoteTypeCode>
  <cbc:DocumentCurrencyCode>USD</cbc:DocumentCurrencyCode>
  <cbc:TaxCurrencyCode>EUR</cbc:TaxCurrencyCode>
  <cac:AccountingSupplierParty><cac:Party>
    <cac:PartyName><cbc:Name>Harbor Tools</cbc:Name></cac:PartyName>
    <cac:PartyTaxScheme><cbc:CompanyID>DE999999999</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme>
    </cac:PartyTaxScheme>
  </cac:Party></cac:AccountingSupplierParty>
  <cac:AccountingCustomerParty><cac:Party>
    <cac:PartyLegalEntity><cbc:RegistrationName>VRM Example Corp</cbc:RegistrationName></cac:PartyLegalEntity>
  </cac:Party></cac:AccountingCustomerParty>
  <cac:PayeeParty><cac:PartyName><cbc:Name>Factoring Bank AG</cbc:Name></cac:PartyName></cac:PayeeParty>
  <cac:PaymentMeans>
    <cbc:PaymentMeansCode>58</cbc:PaymentMeansCode>
    <cbc:PaymentDueDate>2026-04-01</cbc:PaymentDueDate>
    <cac:PayeeFinancialAccount><cbc:ID>DE89370400440532013000</cbc:ID></cac:PayeeFinancialAccount>
  </cac:PaymentMeans>
  <cac:TaxTotal><cbc:TaxAmount currencyID="EUR">17.10</cbc:TaxAmount></cac:TaxTotal>
  <cac:TaxTotal>
    <cbc:TaxAmount currencyID="USD">19.00</cbc:TaxAmount>
    <cac:TaxSubtotal><cbc:TaxableAmount currencyID="USD">100.00</cbc:TaxableAmount>
      <cbc:TaxAmount currencyID="USD">19.00</cbc:TaxAmount></cac:TaxSubtotal>
  </cac:TaxTotal>
  <cac:LegalMonetaryTotal>
    <cbc:LineExtensionAmount currencyID="USD">100.00</cbc:LineExtensionAmount>
    <cbc:TaxExclusiveAmount currencyID="USD">100.00</cbc:TaxExclusiveAmount>
    <cbc:TaxInclusiveAmount currencyID="USD">119.00</cbc:TaxInclusiveAmount>
    <cbc:PayableAmount currencyID="USD">119.00</cbc:PayableAmount>
  </cac:LegalMonetaryTotal>
  <cac:CreditNoteLine>
    <cbc:ID>1</cbc:ID>
    <cbc:CreditedQuantity unitCode="C62">4</cbc:CreditedQuantity>
    <cbc:LineExtensionAmount currencyID="USD">100.00</cbc:LineExtensionAmount>
    <cac:TaxTotal><cbc:TaxAmount currencyID="USD">999.00</cbc:TaxAmount></cac:TaxTotal>
    <cac:Item><cbc:Name>Returned drills</cbc:Name></cac:Item>
    <cac:Price><cbc:PriceAmount currencyID="USD">25.00</cbc:PriceAmount></cac:Price>
  </cac:CreditNoteLine>
</CreditNote>
"""


def _cii(data: dict | None = None, level: str = "en16931") -> str:
    return facturx.generate_cii_xml({**INVOICE, **(data or {})}, level=level, check_schematron=False).decode()


def _pdf_with_attachment(xml: bytes, name: str) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.cell(40, 10, "Rechnung 471102")
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(bytes(pdf.output()))))
    writer.add_attachment(name, xml)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _amounts(result: dict) -> tuple:
    return result["subtotal"], result["tax_total"], result["total"]


# --- every version and syntax -------------------------------------------------------------

@pytest.mark.parametrize("embedded", [False, True], ids=["bare-xml", "in-pdf"])
def test_zugferd_1_is_read_from_its_own_element_names(embedded):
    xml = ZUGFERD_1.format(type_code="380").encode()
    content = _pdf_with_attachment(xml, "ZUGFeRD-invoice.xml") if embedded else xml
    result = parse_document(content, "zugferd.pdf" if embedded else "zugferd.xml").as_json()
    assert result["method"] == "einvoice" and result["document_type"] == "invoice" and result["type_code"] == "380"
    assert (result["invoice_number"], result["issue_date"], result["currency"]) == ("471102", "2013-06-05", "EUR")
    # The earliest of the payment terms' due dates; the malformed billing period costs nothing.
    assert result["due_date"] == "2013-06-15"
    # The seller, not the buyer; its VAT ID before its tax number; the IBAN without its spaces.
    assert (result["vendor_name"], result["vendor_tax_id"]) == ("Lieferant GmbH", "DE123456789")
    assert result["iban"] == "DE08700901001234567890"
    # The grand total, not the amount still due after the prepayment.
    assert _amounts(result) == ("103.00", "19.57", "122.57")
    # Document-level allowances and charges are lines too, so that the lines add up to the net
    # (this sender wrote the allowance with a minus sign as well).
    assert [(line["description"], line["quantity"], line["amount"]) for line in result["lines"]] == [
        ("Kunstrasen", "20.0000", "60.00"), ("Schweinesteak", "4", "40.00"),
        ("Allowance: Sondernachlass", "1", "-5.00"), ("Charge: Versandkosten", "1", "8.00")]
    assert result["lines"][0]["unit_price"] == "3.0000" and result["lines"][1]["unit_price"] is None
    assert set(result["confidence"].values()) == {FROM_EINVOICE}


@pytest.mark.parametrize("level", ["basicwl", "en16931", "extended"])
def test_cii_of_every_factur_x_profile_is_read(level):
    result = parse_document(_cii(level=level).encode(), "factur-x.xml").as_json()
    assert (result["invoice_number"], result["issue_date"], result["currency"]) == ("FX-2026-0042", "2026-10-15", "EUR")
    assert result["vendor_name"] == "Kestrel Media GmbH" and _amounts(result) == ("200.00", "38.00", "238.00")
    if level != "basicwl":
        assert [line["amount"] for line in result["lines"]] == ["200.00"]


@pytest.mark.parametrize("guideline", [
    "urn:factur-x.eu:1p0:minimum",
    "urn:cen.eu:en16931:2017#compliant#urn:factur-x.eu:1p0:basic",
    "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0",
    "urn:cen.eu:en16931:2017#compliant#urn:xoev-de:kosit:standard:xrechnung_2.1",
    "urn:cen.eu:en16931:2017#conformant#urn:zugferd.de:2p0:extended",
    "urn:cen.eu:en16931:2017#conformant#urn:factur-x.eu:1p0:extended",
])
def test_cii_is_read_whatever_guideline_it_names(guideline):
    xml = _cii().replace("<ram:ID>urn:cen.eu:en16931:2017</ram:ID>", f"<ram:ID>{guideline}</ram:ID>")
    assert guideline in xml
    result = parse_document(xml.encode(), "xrechnung.xml").as_json()
    assert result["invoice_number"] == "FX-2026-0042" and result["total"] == "238.00"


@pytest.mark.parametrize("build", [
    lambda: _cii().encode(),
    lambda: facturx.generate_ubl_xml(INVOICE, level="en16931", check_schematron=False),
], ids=["cii", "ubl"])
def test_the_reading_agrees_with_the_factur_x_package(build):
    """Where the factur-x package reads a document, it reads the same fields."""
    xml = build()
    ours = read_einvoice(xml)
    theirs = facturx.parse_ubl_cii_xml(xml, check_xsd=False, date_as="date")
    assert ours.value("invoice_number") == theirs["BT-1"] and ours.value("issue_date") == theirs["BT-2"]
    assert ours.value("due_date") == theirs["BT-9"] and ours.value("currency") == theirs["BT-5"]
    assert ours.value("vendor_name") == theirs["BG-4"]["name"]
    assert ours.value("vendor_tax_id") == theirs["BG-4"]["vat_identifier"]
    for name, field in (("subtotal", "BT-109"), ("tax_total", "BT-110"), ("total", "BT-112")):
        assert ours.value(name) == Decimal(theirs[field])
    assert [(line.description, line.amount) for line in ours.lines] == [
        (line["BT-153"], Decimal(line["BT-131"])) for line in theirs["BG-25"]]


def test_a_peppol_ubl_invoice_in_a_pdf_is_read():
    xml = facturx.generate_ubl_xml(INVOICE, level="en16931", check_schematron=False)
    result = parse_document(_pdf_with_attachment(xml, "invoice.xml"), "peppol.pdf").as_json()
    assert result["method"] == "einvoice" and result["document_type"] == "invoice"
    assert result["due_date"] == "2026-11-14" and _amounts(result) == ("200.00", "38.00", "238.00")


# --- credit notes and corrections keep their sign -------------------------------------------

@pytest.mark.parametrize("build", [
    lambda: _cii({"BT-3": "381"}).encode(),
    lambda: facturx.generate_ubl_xml({**INVOICE, "BT-3": "381"}, level="en16931", check_schematron=False),
    lambda: ZUGFERD_1.format(type_code="381").encode(),
], ids=["cii", "ubl", "zugferd-1"])
def test_a_credit_note_is_read_with_negative_amounts(build):
    """EN 16931 states a credit note's amounts positive; it is read signed, as the app stores its
    own credit notes: negative totals, line amounts and unit prices, quantities as they are."""
    result = parse_document(build(), "credit-note.xml").as_json()
    assert result["document_type"] == "credit_note" and result["type_code"] == "381"
    subtotal, tax, total = _amounts(result)
    assert Decimal(subtotal) < 0 and Decimal(tax) < 0 and Decimal(total) == Decimal(subtotal) + Decimal(tax)
    items = [line for line in result["lines"] if not line["description"].startswith(("Allowance", "Charge"))]
    assert all(Decimal(line["amount"]) < 0 and Decimal(line["quantity"]) > 0 for line in items)
    assert sum(Decimal(line["amount"]) for line in result["lines"]) == Decimal(subtotal)
    assert result["warnings"] == []


def test_a_ubl_credit_note_reads_its_due_date_tax_total_and_seller_exactly():
    result = parse_document(UBL_CREDIT_NOTE.encode(), "credit-note.xml").as_json()
    assert (result["invoice_number"], result["issue_date"], result["due_date"]) == ("CN-2026-7", "2026-03-02",
                                                                                    "2026-04-01")
    # The tax total in the invoice currency (not BT-111 in euros, not the line's).
    assert result["currency"] == "USD" and _amounts(result) == ("-100.00", "-19.00", "-119.00")
    # The seller by its trading name when it states no legal name; not the payee, not the buyer.
    assert (result["vendor_name"], result["vendor_tax_id"]) == ("Harbor Tools", "DE999999999")
    assert result["lines"] == [{"description": "Returned drills", "quantity": "4", "unit_price": "-25.00",
                                "amount": "-100.00"}]


def test_a_credit_note_that_states_negative_amounts_is_not_turned_positive():
    xml = _cii({"BT-3": "381"}).replace(">200.00<", ">-200.00<").replace(">38.00<", ">-38.00<")
    xml = xml.replace(">238.00<", ">-238.00<").replace(">100.00<", ">-100.00<")
    extraction = parse_document(xml.encode(), "credit-note.xml")
    assert extraction.kind() == "credit_note" and extraction.value("total") == Decimal("-238.00")
    assert extraction.lines[0].amount == Decimal("-200.00")
    assert "taken as already signed" in extraction.warnings[0]


@pytest.mark.parametrize("sign, kind", [("-", "credit_note"), ("", "invoice")])
def test_a_corrected_invoice_keeps_the_sign_it_states(sign, kind):
    xml = _cii({"BT-3": "384"})
    for amount in ("200.00", "38.00", "238.00"):
        xml = xml.replace(f">{amount}<", f">{sign}{amount}<")
    result = parse_document(xml.encode(), "correction.xml").as_json()
    assert result["type_code"] == "384" and result["document_type"] == kind
    assert _amounts(result) == (f"{sign}200.00", f"{sign}38.00", f"{sign}238.00")


# --- fields from where EN 16931 puts them ----------------------------------------------------

def test_the_tax_total_is_the_documents_in_the_invoice_currency():
    # Invoiced in USD, VAT accounted in EUR (BT-6): two tax totals; the one in USD is BT-110.
    xml = _cii({"BT-5": "USD"}).replace(
        '<ram:TaxTotalAmount currencyID="USD">38.00</ram:TaxTotalAmount>',
        '<ram:TaxTotalAmount currencyID="EUR">34.20</ram:TaxTotalAmount>'
        '<ram:TaxTotalAmount currencyID="USD">38.00</ram:TaxTotalAmount>')
    assert "34.20" in xml
    assert read_einvoice(xml.encode()).value("tax_total") == Decimal("38.00")
    # A tax total that names no currency is still the tax total.
    bare = _cii().replace('<ram:TaxTotalAmount currencyID="EUR">', "<ram:TaxTotalAmount>")
    assert read_einvoice(bare.encode()).value("tax_total") == Decimal("38.00")


def test_without_a_tax_total_the_documents_vat_breakdown_counts_never_a_line():
    xml = _cii().replace('<ram:TaxTotalAmount currencyID="EUR">38.00</ram:TaxTotalAmount>', "")
    assert "TaxTotalAmount" not in xml
    extraction = read_einvoice(xml.encode())
    assert extraction.value("tax_total") == Decimal("38.00") and extraction.value("total") == Decimal("238.00")


def test_extended_sub_lines_are_not_billed_twice():
    """Extended profiles group sub-lines under GROUP lines (their sum) and add INFORMATION lines:
    only what is billed is a line, and the lines add up to the net."""
    xml = _cii({"BT-106": "200.00"}, level="extended")
    item_start = xml.index("<ram:IncludedSupplyChainTradeLineItem>")
    item_end = xml.index("</ram:IncludedSupplyChainTradeLineItem>") + len("</ram:IncludedSupplyChainTradeLineItem>")
    item = xml[item_start:item_end]

    def sub_line(line_id: str, parent: str | None, status: str, amount: str, name: str) -> str:
        head = f"<ram:LineID>{line_id}</ram:LineID>" + (f"<ram:ParentLineID>{parent}</ram:ParentLineID>" if parent
                                                          else "")
        head += f"<ram:LineStatusReasonCode>{status}</ram:LineStatusReasonCode>"
        return (item.replace("<ram:LineID>1</ram:LineID>", head)
                .replace(">200.00</ram:LineTotalAmount>", f">{amount}</ram:LineTotalAmount>")
                .replace("Sponsored post", name))

    lines = (sub_line("1", None, "GROUP", "200.00", "Campaign") + sub_line("1.1", "1", "DETAIL", "120.00", "Post")
             + sub_line("1.2", "1", "DETAIL", "80.00", "Story") + sub_line("1.3", "1", "INFORMATION", "0.00", "Note"))
    extraction = read_einvoice((xml[:item_start] + lines + xml[item_end:]).encode())
    assert [(line.description, line.amount) for line in extraction.lines] == [
        ("Post", Decimal("120.00")), ("Story", Decimal("80.00"))]


def test_an_invoice_due_in_instalments_is_due_on_the_first():
    xml = _cii()
    terms = xml[xml.index("<ram:SpecifiedTradePaymentTerms>"):
                xml.index("</ram:SpecifiedTradePaymentTerms>") + len("</ram:SpecifiedTradePaymentTerms>")]
    xml = xml.replace(terms, terms.replace("20261114", "20261214") + terms)
    assert read_einvoice(xml.encode()).value("due_date") == date(2026, 11, 14)


# --- what is not an e-invoice ----------------------------------------------------------------

@pytest.mark.parametrize("xml", [
    b"<Invoice><ID>1</ID></Invoice>",
    b'<Invoice xmlns="urn:example:not-ubl"><ID>1</ID></Invoice>',
    b'<rsm:SCRDMCCBDACIOMessageStructure xmlns:rsm="urn:un:unece:uncefact:data:SCRDMCCBDACIOMessageStructure:100"/>',
], ids=["no-namespace", "unknown-namespace", "order-x"])
def test_xml_of_another_kind_is_refused_with_its_root_named(xml):
    with pytest.raises(UnreadableDocument, match=r"not a readable e-invoice: its root element \S*(Invoice|Structure) "):
        parse_document(xml, "other.xml")


def test_a_pdf_whose_only_xml_attachment_is_not_an_einvoice_is_read_from_its_text():
    pdf = _pdf_with_attachment(b'<Order xmlns="urn:example"><ID>1</ID></Order>', "order.xml")
    assert parse_document(pdf, "scan.pdf").method == "text"


# --- printing what was read --------------------------------------------------------------------

def test_the_json_of_an_extraction_holds_only_plain_values():
    extraction = Extraction(method="einvoice")
    extraction.put("issue_date", datetime(2026, 1, 2, 3, 4), FROM_EINVOICE)
    extraction.put("due_date", [date(2026, 2, 1), date(2026, 1, 31)], FROM_EINVOICE)
    extraction.put("total", Decimal("-1.50"), FROM_EINVOICE)
    data = json.loads(json.dumps(extraction.as_json()))
    assert data["issue_date"] == "2026-01-02" and data["due_date"] == ["2026-02-01", "2026-01-31"]
    assert data["total"] == "-1.50" and data["document_type"] == "credit_note"


def test_vrm_parse_json_prints_an_extended_invoice_with_due_dates(tmp_path):
    """The crash of issue 20: an Extended invoice with its payment terms' due dates."""
    xml = _cii(level="extended")
    terms = xml[xml.index("<ram:SpecifiedTradePaymentTerms>"):
                xml.index("</ram:SpecifiedTradePaymentTerms>") + len("</ram:SpecifiedTradePaymentTerms>")]
    path = tmp_path / "extended.pdf"
    path.write_bytes(_pdf_with_attachment(xml.replace(terms, terms + terms.replace("20261114", "20261201"))
                                          .encode(), "factur-x.xml"))
    run = subprocess.run([sys.executable, "-m", "vrm_dashboard.cli", "parse", str(path), "--json"],
                         capture_output=True, text=True, check=True)
    data = json.loads(run.stdout)
    assert data["method"] == "einvoice" and data["due_date"] == "2026-11-14" and data["document_type"] == "invoice"
    text = subprocess.run([sys.executable, "-m", "vrm_dashboard.cli", "parse", str(path)],
                          capture_output=True, text=True, check=True).stdout
    assert "document_type   invoice (type code 380)" in text


# --- intake: the credit note stays one ---------------------------------------------------------

def test_a_received_credit_note_is_stored_as_a_credit_note_with_negative_totals(session):
    from sqlmodel import select

    from tests.helpers import make_user, vendor_input
    from vrm_dashboard.db.models import Invoice, InvoiceLine
    from vrm_dashboard.services.intake import invoice_files as invoice_intake
    from vrm_dashboard.services.vendors import records as vendor_service

    finance = make_user(session, "finance_manager")
    vendor_service.create_vendor(session, finance, vendor_input(vendor_code="KM-1", name="Kestrel Media GmbH",
                                                                vat_id="DE136695976"))
    outcome = invoice_intake.receive_invoice(session, finance, _cii({"BT-3": "381"}).encode(), "gutschrift.xml")
    session.commit()
    invoice = session.get(Invoice, outcome.invoice_id)
    assert invoice.document_type == "credit_note" and outcome.problems == [] and invoice.status == "draft_valid"
    assert (invoice.subtotal_minor, invoice.tax_minor, invoice.total_minor) == (-20000, -3800, -23800)
    line = session.execute(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id)).scalar_one()
    assert (line.amount_minor, line.unit_price_minor, line.quantity) == (-20000, -10000, 2)
    plain = invoice_intake.receive_invoice(session, finance, _cii({"BT-1": "FX-2026-0043"}).encode(), "rechnung.xml")
    assert session.get(Invoice, plain.invoice_id).document_type == "invoice"

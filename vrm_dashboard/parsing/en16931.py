"""The EN 16931 fields of an e-invoice, read straight from its XML tree in each syntax:

- CII as ZUGFeRD 2.x, Factur-X and XRechnung CII write it (`CrossIndustryInvoice`, D16B and later);
- CII as ZUGFeRD 1.0 wrote it (`CrossIndustryDocument`, namespace urn:ferd:...:invoice:1p0), which
  the factur-x package does not read: the same semantics under older element names;
- UBL 2.x invoices and credit notes (Peppol BIS 3, XRechnung UBL).

The tree comes from parsing/xml_safety's hardened parser. Values are returned as the document
states them (amounts as text, unsigned by the document type); parsing/einvoice checks and signs
them. A value the document states badly (a date that is no date) reads as absent, never as an
error: one broken optional element does not cost the invoice.

Totals are read from the document level only, never from a line: the tax total is BT-110 (the
tax total amount in the invoice currency), the seller is the seller party (BG-4)."""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from lxml import etree

CII = "CII"  # ZUGFeRD 2.x, Factur-X, XRechnung CII
CII_1 = "ZUGFeRD 1.0"
UBL = "UBL"

_ROOTS = {
    ("urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100", "CrossIndustryInvoice"): CII,
    ("urn:ferd:CrossIndustryDocument:invoice:1p0", "CrossIndustryDocument"): CII_1,
    ("urn:oasis:names:specification:ubl:schema:xsd:Invoice-2", "Invoice"): UBL,
    ("urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2", "CreditNote"): UBL,
}

# UNTDID 1001 document type codes of credit notes (BT-3): their amounts are stated positive and
# credit the buyer. A corrected invoice (384) states its amounts with their own sign.
CREDIT_NOTE_CODES = frozenset({"81", "83", "261", "262", "296", "308", "381", "396", "420", "458", "502", "503",
                               "532"})


@dataclass(frozen=True)
class _Names:
    """Where the two generations of CII keep the same things."""

    header: str
    transaction: str
    agreement: str
    settlement: str
    summation: str
    line_agreement: str
    line_delivery: str
    line_settlement: str
    line_summation: str


_CII_NAMES = {
    CII: _Names("ExchangedDocument", "SupplyChainTradeTransaction", "ApplicableHeaderTradeAgreement",
                "ApplicableHeaderTradeSettlement", "SpecifiedTradeSettlementHeaderMonetarySummation",
                "SpecifiedLineTradeAgreement", "SpecifiedLineTradeDelivery", "SpecifiedLineTradeSettlement",
                "SpecifiedTradeSettlementLineMonetarySummation"),
    CII_1: _Names("HeaderExchangedDocument", "SpecifiedSupplyChainTradeTransaction",
                  "ApplicableSupplyChainTradeAgreement", "ApplicableSupplyChainTradeSettlement",
                  "SpecifiedTradeSettlementMonetarySummation", "SpecifiedSupplyChainTradeAgreement",
                  "SpecifiedSupplyChainTradeDelivery", "SpecifiedSupplyChainTradeSettlement",
                  "SpecifiedTradeSettlementMonetarySummation"),
}
_CII_LINE = "{*}IncludedSupplyChainTradeLineItem"
_UBL_LINES = ("{*}InvoiceLine", "{*}CreditNoteLine")
# Extended CII line statuses: a GROUP line sums its sub-lines, an INFORMATION line is not billed.
_NOT_BILLED = frozenset({"GROUP", "INFORMATION"})
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


@dataclass
class Line:
    description: str
    quantity: str | None
    unit_price: str | None
    amount: str | None


@dataclass
class AllowanceCharge:
    """A document-level allowance (lowers the net) or charge (raises it), its amount as stated."""

    is_charge: bool
    reason: str | None
    amount: str


@dataclass
class Document:
    """What an e-invoice states, as text, in the invoice currency."""

    syntax: str
    number: str | None = None
    issue_date: date | None = None
    type_code: str | None = None
    credit_note_root: bool = False  # a UBL CreditNote, whatever its type code says
    currency: str | None = None
    due_dates: list[date] = field(default_factory=list)
    seller_name: str | None = None
    seller_vat_id: str | None = None
    seller_tax_id: str | None = None
    iban: str | None = None
    line_total: str | None = None  # BT-106
    subtotal: str | None = None  # BT-109
    tax_total: str | None = None  # BT-110
    total: str | None = None  # BT-112
    lines: list[Line] = field(default_factory=list)
    allowances_charges: list[AllowanceCharge] = field(default_factory=list)  # BG-20 and BG-21


def syntax_of(root: etree._Element) -> str | None:
    """CII, CII_1 or UBL by the root element and its namespace; None for any other XML."""
    qname = etree.QName(root)
    return _ROOTS.get((qname.namespace or "", qname.localname))


def root_name(root: etree._Element) -> str:
    qname = etree.QName(root)
    return f"{{{qname.namespace}}}{qname.localname}" if qname.namespace else qname.localname


def line_elements(root: etree._Element, syntax: str) -> list[etree._Element]:
    """Every invoice line element, sub-lines included (what MAX_LINES counts)."""
    return list(root.iter(*_UBL_LINES) if syntax == UBL else root.iter(_CII_LINE))


def paths(syntax: str, credit_note_root: bool = False) -> dict[str, str]:
    """The element path each field is read from, as evidence of where it was found (a value read
    from an alternative element, a seller's trading name, say, is shown at its usual place)."""
    if syntax == UBL:
        root = "CreditNote" if credit_note_root else "Invoice"
        seller = f"{root}/cac:AccountingSupplierParty/cac:Party"
        return {
            "invoice_number": f"{root}/cbc:ID", "issue_date": f"{root}/cbc:IssueDate",
            "due_date": f"{root}/cbc:DueDate", "currency": f"{root}/cbc:DocumentCurrencyCode",
            "vendor_name": f"{seller}/cac:PartyLegalEntity/cbc:RegistrationName",
            "vendor_tax_id": f"{seller}/cac:PartyTaxScheme/cbc:CompanyID",
            "iban": f"{root}/cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID",
            "subtotal": f"{root}/cac:LegalMonetaryTotal/cbc:TaxExclusiveAmount",
            "tax_total": f"{root}/cac:TaxTotal/cbc:TaxAmount",
            "total": f"{root}/cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount",
        }
    names = _CII_NAMES[syntax]
    root = "rsm:CrossIndustryInvoice" if syntax == CII else "rsm:CrossIndustryDocument"
    header = f"{root}/rsm:{names.header}"
    transaction = f"{root}/rsm:{names.transaction}"
    settlement = f"{transaction}/ram:{names.settlement}"
    seller = f"{transaction}/ram:{names.agreement}/ram:SellerTradeParty"
    summation = f"{settlement}/ram:{names.summation}"
    return {
        "invoice_number": f"{header}/ram:ID", "issue_date": f"{header}/ram:IssueDateTime",
        "due_date": f"{settlement}/ram:SpecifiedTradePaymentTerms/ram:DueDateDateTime",
        "currency": f"{settlement}/ram:InvoiceCurrencyCode", "vendor_name": f"{seller}/ram:Name",
        "vendor_tax_id": f"{seller}/ram:SpecifiedTaxRegistration/ram:ID",
        "iban": f"{settlement}/ram:SpecifiedTradeSettlementPaymentMeans/ram:PayeePartyCreditorFinancialAccount"
                "/ram:IBANID",
        "subtotal": f"{summation}/ram:TaxBasisTotalAmount", "tax_total": f"{summation}/ram:TaxTotalAmount",
        "total": f"{summation}/ram:GrandTotalAmount",
    }


def read(root: etree._Element, syntax: str) -> Document:
    return _read_ubl(root) if syntax == UBL else _read_cii(root, syntax)


# --- CII ------------------------------------------------------------------------------------

def _read_cii(root: etree._Element, syntax: str) -> Document:
    names = _CII_NAMES[syntax]
    doc = Document(syntax)
    header = _child(root, names.header)
    transaction = _child(root, names.transaction)
    agreement = _child(transaction, names.agreement)
    settlement = _child(transaction, names.settlement)
    summation = _child(settlement, names.summation)
    doc.number = _text(header, "ID")
    doc.type_code = _text(header, "TypeCode")
    doc.issue_date = _cii_date(_child(header, "IssueDateTime"))
    doc.currency = _text(settlement, "InvoiceCurrencyCode")
    for terms in _children(settlement, "SpecifiedTradePaymentTerms"):
        due = _cii_date(_child(terms, "DueDateDateTime"))
        if due is not None:
            doc.due_dates.append(due)
    seller = _child(agreement, "SellerTradeParty")
    doc.seller_name = _text(seller, "Name") or _text(seller, "SpecifiedLegalOrganization", "TradingBusinessName")
    for registration in _children(seller, "SpecifiedTaxRegistration"):
        tax_id = _child(registration, "ID")
        if tax_id is None or not _clean(tax_id.text):
            continue
        scheme = (tax_id.get("schemeID") or "").strip().upper()
        if scheme == "VA" and doc.seller_vat_id is None:
            doc.seller_vat_id = _clean(tax_id.text)
        elif scheme != "VA" and doc.seller_tax_id is None:
            doc.seller_tax_id = _clean(tax_id.text)
    for means in _children(settlement, "SpecifiedTradeSettlementPaymentMeans"):
        doc.iban = _text(means, "PayeePartyCreditorFinancialAccount", "IBANID")
        if doc.iban:
            break
    doc.line_total = _text(summation, "LineTotalAmount")
    doc.subtotal = _text(summation, "TaxBasisTotalAmount")
    doc.tax_total = _amount_in(_children(summation, "TaxTotalAmount"), doc.currency)
    if doc.tax_total is None:
        doc.tax_total = _sum_texts(_text(tax, "CalculatedAmount") for tax in _children(settlement, "ApplicableTradeTax"))
    doc.total = _text(summation, "GrandTotalAmount")
    doc.lines = _billed_cii_lines(transaction, names, doc.line_total)
    doc.allowances_charges = _cii_allowances_charges(settlement)
    return doc


def _billed_cii_lines(transaction: etree._Element | None, names: _Names, line_total: str | None) -> list[Line]:
    """The lines that make up the net: in Extended profiles with sub-lines, the billed ones
    (not the GROUP lines that sum them, nor INFORMATION lines), or the top-level ones when only
    those add up to the stated line total."""
    items = _children(transaction, "IncludedSupplyChainTradeLineItem")
    read_lines = [(_cii_line(item, names), _cii_line_status(item)) for item in items]
    with_amount = [(line, status) for line, status in read_lines if line.amount is not None]
    billed = [line for line, (reason, _parent) in with_amount if reason not in _NOT_BILLED]
    if len(billed) == len(with_amount):
        return billed
    stated = _number(line_total)
    top_level = [line for line, (_reason, parent) in with_amount if not parent]
    if stated is not None and _sum_lines(billed) != stated and _sum_lines(top_level) == stated:
        return top_level
    return billed


def _cii_line(item: etree._Element, names: _Names) -> Line:
    product = _child(item, "SpecifiedTradeProduct")
    agreement = _child(item, names.line_agreement)
    return Line(
        description=_text(product, "Name") or _text(product, "Description") or "",
        quantity=_text(_child(item, names.line_delivery), "BilledQuantity"),
        unit_price=_text(agreement, "NetPriceProductTradePrice", "ChargeAmount"),
        amount=_text(_child(_child(item, names.line_settlement), names.line_summation), "LineTotalAmount"),
    )


def _cii_line_status(item: etree._Element) -> tuple[str, str | None]:
    document = _child(item, "AssociatedDocumentLineDocument")
    return ((_text(document, "LineStatusReasonCode") or "DETAIL").upper(), _text(document, "ParentLineID"))


def _cii_allowances_charges(settlement: etree._Element | None) -> list[AllowanceCharge]:
    found = [AllowanceCharge((_text(entry, "ChargeIndicator", "Indicator") or "").lower() == "true",
                             _text(entry, "Reason") or _text(entry, "ReasonCode"), _text(entry, "ActualAmount") or "")
             for entry in _children(settlement, "SpecifiedTradeAllowanceCharge")]
    # Freight and packing (ZUGFeRD 1.0 and Extended): charges too.
    found += [AllowanceCharge(True, _text(entry, "Description"), _text(entry, "AppliedAmount") or "")
              for entry in _children(settlement, "SpecifiedLogisticsServiceCharge")]
    return [entry for entry in found if entry.amount]


def _cii_date(holder: etree._Element | None) -> date | None:
    """A CII date: udt:DateTimeString format 102 (YYYYMMDD), or ISO text as some ZUGFeRD 1.0
    senders write it."""
    if holder is None:
        return None
    stamp = _child(holder, "DateTimeString")
    text = _clean((stamp if stamp is not None else holder).text)
    if not text:
        return None
    if re.fullmatch(r"\d{8}", text):
        try:
            return datetime.strptime(text, "%Y%m%d").date()
        except ValueError:
            return None
    return _iso_date(text)


# --- UBL ------------------------------------------------------------------------------------

def _read_ubl(root: etree._Element) -> Document:
    credit_note = etree.QName(root).localname == "CreditNote"
    doc = Document(UBL, credit_note_root=credit_note)
    doc.number = _text(root, "ID")
    doc.issue_date = _iso_date(_text(root, "IssueDate"))
    doc.type_code = _text(root, "CreditNoteTypeCode" if credit_note else "InvoiceTypeCode")
    doc.currency = _text(root, "DocumentCurrencyCode")
    # BT-9: an invoice's DueDate; a credit note states it in its payment means.
    dues = [_text(root, "DueDate")]
    dues += [_text(means, "PaymentDueDate") for means in _children(root, "PaymentMeans")]
    dues += [_text(terms, "PaymentDueDate") for terms in _children(root, "PaymentTerms")]
    doc.due_dates = [due for due in (_iso_date(text) for text in dues) if due is not None]
    seller = _child(_child(root, "AccountingSupplierParty"), "Party")
    doc.seller_name = (_text(seller, "PartyLegalEntity", "RegistrationName")
                       or next((name for party_name in _children(seller, "PartyName")
                                if (name := _text(party_name, "Name"))), None))
    for scheme in _children(seller, "PartyTaxScheme"):
        company_id = _text(scheme, "CompanyID")
        if not company_id:
            continue
        if (_text(scheme, "TaxScheme", "ID") or "").upper() == "VAT":
            doc.seller_vat_id = doc.seller_vat_id or company_id
        else:
            doc.seller_tax_id = doc.seller_tax_id or company_id
    for means in _children(root, "PaymentMeans"):
        doc.iban = _text(means, "PayeeFinancialAccount", "ID")
        if doc.iban:
            break
    totals = _child(root, "LegalMonetaryTotal")
    doc.line_total = _text(totals, "LineExtensionAmount")
    doc.subtotal = _text(totals, "TaxExclusiveAmount")
    doc.total = _text(totals, "TaxInclusiveAmount")
    # The document's TaxTotal (not a line's) whose amount is in the invoice currency; a second
    # one in the VAT accounting currency is BT-111.
    doc.tax_total = _amount_in([amount for total in _children(root, "TaxTotal")
                                for amount in _children(total, "TaxAmount")], doc.currency)
    for element in _children(root, "InvoiceLine") + _children(root, "CreditNoteLine"):
        item = _child(element, "Item")
        line = Line(
            description=_text(item, "Name") or _text(item, "Description") or "",
            quantity=_text(element, "InvoicedQuantity") or _text(element, "CreditedQuantity"),
            unit_price=_text(element, "Price", "PriceAmount"),
            amount=_text(element, "LineExtensionAmount"),
        )
        if line.amount is not None:
            doc.lines.append(line)
    doc.allowances_charges = [
        AllowanceCharge((_text(entry, "ChargeIndicator") or "").lower() == "true",
                        _text(entry, "AllowanceChargeReason") or _text(entry, "AllowanceChargeReasonCode"), amount)
        for entry in _children(root, "AllowanceCharge") if (amount := _text(entry, "Amount"))]
    return doc


# --- shared ---------------------------------------------------------------------------------

def _amount_in(amounts: list[etree._Element], currency: str | None) -> str | None:
    """Of several amounts of one total, the one in `currency`; else one that names no currency;
    else the only one."""
    stated = [((element.get("currencyID") or "").strip().upper(), text)
              for element in amounts if (text := _clean(element.text))]
    for wanted in ((currency or "").strip().upper(), ""):
        found = next((text for code, text in stated if code == wanted), None)
        if found is not None:
            return found
    return stated[0][1] if len(stated) == 1 else None


def _sum_texts(texts: Iterable[str | None]) -> str | None:
    found = [number for number in map(_number, texts) if number is not None]
    return str(sum(found, Decimal(0))) if found else None


def _sum_lines(lines: list[Line]) -> Decimal:
    return sum((_number(line.amount) or Decimal(0) for line in lines), Decimal(0))


def _number(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _iso_date(text: str | None) -> date | None:
    match = _ISO_DATE.match((text or "").strip())
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _clean(text: str | None) -> str | None:
    text = (text or "").strip()
    return text or None


def _child(parent: etree._Element | None, name: str) -> etree._Element | None:
    """The first child element of that local name, in whatever namespace (CII versions and
    senders differ in the version of the ram/udt namespaces they declare)."""
    if parent is None:
        return None
    return parent.find(f"{{*}}{name}")


def _children(parent: etree._Element | None, name: str) -> list[etree._Element]:
    return [] if parent is None else parent.findall(f"{{*}}{name}")


def _text(parent: etree._Element | None, *path: str) -> str | None:
    node = parent
    for name in path:
        node = _child(node, name)
    return None if node is None else _clean(node.text)

"""Reading statement files: the format is told by the content, not the file name."""
from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from vrm_dashboard.domain.money import Money, MoneyError
from vrm_dashboard.parsing.xml_safety import XmlRefused, parse_xml
from vrm_dashboard.statements.entries import StatementEntry, StatementError

if TYPE_CHECKING:
    from lxml.etree import _Element

# Words a bank's text uses for a transfer coming back. MT940 has no return reason field: they
# give a returned credit its reason, beside the :61: type code (NRTI) and the RD mark.
RETURN_WORDS = ("RETURN", "RUECKUEBERWEISUNG", "RÜCKÜBERWEISUNG", "REJECT")

_CSV_COLUMNS = {
    "booking_date": ("booking date", "booking_date", "date", "value date", "buchungstag"),
    "amount": ("amount", "betrag"),
    "currency": ("currency", "ccy", "waehrung", "währung"),
    "reference": ("reference", "end to end id", "end_to_end_id", "endtoendid", "customer reference"),
    "counterparty": ("counterparty", "name", "payee", "payer", "beguenstigter/zahlungspflichtiger"),
    "description": ("description", "remittance information", "purpose", "verwendungszweck", "details"),
    "return_reason": ("return reason", "return_reason", "return code"),
    "bank_code": ("transaction code", "bank transaction code", "bank_code"),
}


def _minor(text: str, currency: str) -> int:
    try:
        return Money.parse(Decimal(text.strip().replace(" ", "")), currency).minor
    except (InvalidOperation, MoneyError) as exc:
        raise StatementError(f"{text!r} is not an amount in {currency}: {exc}") from None


def read_csv(text: str) -> list[StatementEntry]:
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise StatementError(f"Not a readable CSV statement: {exc}") from None
    if not rows:
        raise StatementError("The statement is empty")
    header = [h.strip().lower() for h in rows[0]]
    where = {field: next((header.index(n) for n in names if n in header), None)
             for field, names in _CSV_COLUMNS.items()}
    missing = [f for f in ("booking_date", "amount", "currency") if where[f] is None]
    if missing:
        raise StatementError(f"The CSV statement needs columns {', '.join(missing)} (found {', '.join(header)})")
    entries, problems = [], []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue

        def get(f: str) -> str:
            column = where[f]
            return row[column].strip() if column is not None and column < len(row) else ""

        try:
            currency = get("currency").upper()
            entries.append(StatementEntry(
                booking_date=date.fromisoformat(get("booking_date")), amount_minor=_minor(get("amount"), currency),
                currency=currency, reference=get("reference"), counterparty=get("counterparty"),
                description=get("description"), return_reason=get("return_reason"),
                bank_code=get("bank_code").upper()))
        except (ValueError, StatementError) as exc:
            problems.append(f"row {number}: {exc}")
    if problems:
        raise StatementError("; ".join(problems[:20]))
    return entries


def _local(element: _Element) -> str:
    return element.tag.rsplit("}", 1)[-1]


def _find(element: _Element, *path: str) -> _Element | None:
    """The first descendant along `path` of local names, ignoring namespaces."""
    current = [element]
    for name in path:
        current = [c for parent in current for c in parent.iter() if c is not parent and _local(c) == name]
        if not current:
            return None
    return current[0]


def _text_of(element: _Element, *path: str) -> str:
    found = _find(element, *path)
    return (found.text or "").strip() if found is not None and found.text else ""


def _bank_code(entry: _Element) -> str:
    """The entry's ISO bank transaction code DOMAIN/FAMILY/SUBFAMILY (PMNT/ICDT/RRTN), or the
    bank's proprietary one."""
    code = _find(entry, "BkTxCd")
    if code is None:
        return ""
    domain = _find(code, "Domn")
    if domain is not None:
        return "/".join([_text_of(domain, "Cd"), _text_of(domain, "Fmly", "Cd"), _text_of(domain, "SubFmlyCd")])
    return _text_of(code, "Prtry", "Cd")


def read_camt053(content: bytes) -> list[StatementEntry]:
    try:
        root = parse_xml(content, "The camt.053 statement")
    except XmlRefused as refused:
        raise StatementError(str(refused)) from None
    entries = []
    for number, entry in enumerate((e for e in root.iter() if isinstance(e.tag, str) and _local(e) == "Ntry"), 1):
        amount = _find(entry, "Amt")
        if amount is None:
            raise StatementError(f"camt.053 entry {number} has no amount")
        currency = amount.get("Ccy", "").upper()
        minor = _minor(amount.text or "", currency)
        if _text_of(entry, "CdtDbtInd") == "DBIT":
            minor = -minor
        booked = _text_of(entry, "BookgDt", "Dt") or _text_of(entry, "BookgDt", "DtTm")[:10]
        try:
            booking_date = date.fromisoformat(booked)
        except ValueError:
            raise StatementError(f"camt.053 entry {number}: the booking date {booked!r} is not a date") from None
        # The return reason: its ISO code, a bank's own, or its text when it gives neither.
        returned = _find(entry, "RtrInf")
        reason = "" if returned is None else (
            _text_of(returned, "Rsn", "Cd") or _text_of(returned, "Rsn", "Prtry")
            or _text_of(returned, "AddtlInf") or "RETURN")
        counterparty = _text_of(entry, "RltdPties", "Cdtr", "Nm") if minor < 0 else _text_of(entry, "RltdPties", "Dbtr", "Nm")
        entries.append(StatementEntry(
            booking_date=booking_date, amount_minor=minor, currency=currency,
            reference=_text_of(entry, "Refs", "EndToEndId") or _text_of(entry, "AcctSvcrRef"),
            counterparty=counterparty, description=_text_of(entry, "RmtInf", "Ustrd") or _text_of(entry, "AddtlNtryInf"),
            return_reason=reason, bank_code=_bank_code(entry),
            reversal=_text_of(entry, "RvslInd").lower() in ("true", "1")))
    if not entries:
        raise StatementError("The camt.053 file has no booked entries (Ntry)")
    return entries


def read_mt940(text: str) -> list[StatementEntry]:
    import mt940

    try:
        transactions = mt940.models.Transactions()
        transactions.parse(text)
    except Exception as exc:  # the parser raises bare errors on malformed input
        raise StatementError(f"Not a readable MT940 file: {exc}") from None
    entries = []
    for number, t in enumerate(transactions, start=1):
        try:
            amount, booked = t.data["amount"], t.data["date"]
            currency = str(amount.currency).upper()
            amount_text = str(amount.amount)
        except (KeyError, AttributeError) as exc:
            raise StatementError(f"MT940 transaction {number} has no {exc} (:61: line)") from None
        details = str(t.data.get("transaction_details") or "").replace("\n", " ")
        # The sign is the debit/credit mark's: D and RC (a credit reversed) take money out, C and
        # RD (a debit reversed) bring it in. The parser signs a plain D only.
        mark = str(t.data.get("status") or "").upper()
        if mark not in ("C", "D", "RC", "RD"):
            raise StatementError(f"MT940 transaction {number} has no debit/credit mark (:61: line)")
        minor = abs(_minor(amount_text, currency))
        entries.append(StatementEntry(
            booking_date=booked, amount_minor=-minor if mark in ("D", "RC") else minor, currency=currency,
            reference=str(t.data.get("customer_reference") or "").strip(), description=details.strip(),
            counterparty=str(t.data.get("applicant_name") or "").strip(),
            return_reason="RETURN" if any(w in details.upper() for w in RETURN_WORDS) else "",
            bank_code=str(t.data.get("id") or "").strip().upper(), reversal=mark.startswith("R")))
    if not entries:
        raise StatementError("The MT940 file has no transactions (:61:)")
    return entries


def read_statement(content: bytes) -> tuple[str, list[StatementEntry]]:
    """(format, entries) of a statement file; StatementError when it is none we read."""
    head = content[:2000].lstrip()
    if head.startswith(b"<") or b"camt.053" in head:
        return "camt.053", read_camt053(content)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("latin-1")
    if ":20:" in text and ":61:" in text:
        return "mt940", read_mt940(text)
    return "csv", read_csv(text)

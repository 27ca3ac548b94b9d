"""US ACH credits as a NACHA file: 94-character records in blocks of ten.

One batch of CCD credits (vendors are businesses) per file; the controls carry the entry
count, the entry hash (sum of the receiving banks' 8-digit routing prefixes, last ten
digits) and the credit total the bank checks.
"""
from __future__ import annotations

from datetime import datetime

from text_unidecode import unidecode

from vrm_dashboard.rails.base import PaymentFileContent, RailError, Transfer

RECORD = 94
BLOCKING = 10
CHECKING_CREDIT = "22"
CREDITS_ONLY = "220"


def _alpha(text: str, width: int) -> str:
    """Upper-case ASCII, left-justified and cut to the field."""
    return unidecode(text or "").upper()[:width].ljust(width)


def _num(value: int, width: int) -> str:
    text = str(int(value))
    if len(text) > width:
        raise RailError(f"{value} does not fit a {width}-digit NACHA field")
    return text.rjust(width, "0")


def _record(*fields: str) -> str:
    line = "".join(fields)
    if len(line) != RECORD:
        raise AssertionError(f"NACHA record of {len(line)} characters: {line!r}")
    return line


def build(transfers: list[Transfer], payer_name: str, company_id: str, origin_routing: str,
          destination_routing: str, created: datetime, file_id_modifier: str = "A") -> PaymentFileContent:
    if not transfers:
        raise RailError("An ACH file needs at least one transfer")
    odfi = origin_routing[:8]
    effective = min(t.execution_date for t in transfers)
    lines = [_record(
        "1", "01", " " + destination_routing, _alpha(company_id, 10), created.strftime("%y%m%d"),
        created.strftime("%H%M"), file_id_modifier, "094", "10", "1", _alpha("DESTINATION BANK", 23),
        _alpha(payer_name, 23), _alpha("", 8),
    ), _record(
        "5", CREDITS_ONLY, _alpha(payer_name, 16), _alpha("", 20), _alpha(company_id, 10), "CCD",
        _alpha("VENDOR PAY", 10), effective.strftime("%y%m%d"), effective.strftime("%y%m%d"), "   ", "1", odfi,
        _num(1, 7),
    )]
    entry_hash = 0
    total = 0
    for sequence, t in enumerate(transfers, start=1):
        routing = (t.routing_number or "").strip()
        account = (t.account_number or "").strip()
        if len(routing) != 9 or not routing.isdigit():
            raise RailError(f"{t.vendor_code} has no valid ABA routing number for an ACH transfer")
        if not account or len(account) > 17:
            raise RailError(f"{t.vendor_code} has no valid bank account number for an ACH transfer")
        if t.currency != "USD":
            raise RailError(f"ACH pays US dollars only, not {t.currency}")
        entry_hash += int(routing[:8])
        total += t.amount_minor
        lines.append(_record(
            "6", CHECKING_CREDIT, routing[:8], routing[8], _alpha(account, 17), _num(t.amount_minor, 10),
            _alpha(t.reference, 15), _alpha(t.beneficiary, 22), "  ", "0", odfi + _num(sequence, 7),
        ))
    hash_text = _num(entry_hash % 10**10, 10)
    lines.append(_record(
        "8", CREDITS_ONLY, _num(len(transfers), 6), hash_text, _num(0, 12), _num(total, 12),
        _alpha(company_id, 10), " " * 19, " " * 6, odfi, _num(1, 7),
    ))
    records = len(lines) + 1
    blocks = -(-records // BLOCKING)
    lines.append(_record(
        "9", _num(1, 6), _num(blocks, 6), _num(len(transfers), 8), hash_text, _num(0, 12), _num(total, 12), " " * 39,
    ))
    lines.extend("9" * RECORD for _ in range(blocks * BLOCKING - records))
    reference = f"ACH{created:%Y%m%d%H%M%S}{transfers[0].transaction_id}"[:35]
    return PaymentFileContent(reference=reference, filename=f"{reference}.ach", content_type="text/plain",
                              content=("\n".join(lines) + "\n").encode("ascii"))

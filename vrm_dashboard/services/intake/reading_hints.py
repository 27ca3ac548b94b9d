"""Learning from corrections: where each vendor prints its fields.

A person who corrects a field of a parsed invoice (edit_invoice) teaches the reader where that
invoice's vendor prints it: the corrected value is found in the invoice's kept layout, and its
label, place and format are kept as the vendor's hint for that field (parsing/hints). A
correction made before the vendor is known is remembered with the extraction and taught when
the vendor is assigned. The vendor's next invoices are read at those places once the vendor is
known (take_invoice), with the evidence "learned from invoice N".

Hints are the vendor's own (scoped through it, like its contacts): one vendor's corrections
never change how another's invoices are read."""
from __future__ import annotations

import json
import logging
from datetime import date
from decimal import Decimal
from typing import Any, Iterable

from sqlmodel import Session, col, select

from vrm_dashboard.db.models import Invoice, InvoiceExtraction, InvoiceKind, VendorReadingHint, utcnow
from vrm_dashboard.domain.money import to_major_string
from vrm_dashboard.parsing import hints as reading
from vrm_dashboard.parsing.extraction import Extraction, Layout

log = logging.getLogger(__name__)

# The invoice's fields a person corrects -> the reader's names for them.
CORRECTABLE = {"vendor_invoice_number": "invoice_number", "issue_date": "issue_date", "due_date": "due_date",
               "subtotal_minor": "subtotal", "tax_minor": "tax_total", "total_minor": "total"}
_CORRECTED = "corrected"  # the key, in the extraction's fields JSON, of the fields a person corrected


def hints_for(session: Session, vendor_id: int) -> list[reading.Hint]:
    rows = session.exec(select(VendorReadingHint).where(col(VendorReadingHint.vendor_id) == vendor_id)
                        .order_by(col(VendorReadingHint.id))).all()
    return [reading.Hint(row.field, row.relation, row.label, row.page, (row.x0, row.top, row.x1, row.bottom),
                         row.format, row.learned_from) for row in rows]


def read_with_hints(session: Session, vendor_id: int | None, extraction: Extraction) -> list[str]:
    """Read the fields the vendor's hints point at in a newly read invoice; the fields read so."""
    if vendor_id is None or extraction.method != "text" or extraction.layout is None:
        return []
    hints = hints_for(session, vendor_id)
    if not hints:
        return []
    try:
        return reading.apply(extraction.layout, hints, extraction)
    except Exception:  # noqa: BLE001 - a flaw in a hint costs its reading, never the invoice
        log.exception("Reading an invoice by its vendor's hints failed")
        return []


def stored_layout(extraction: Extraction) -> str | None:
    return json.dumps(extraction.layout.as_json(), ensure_ascii=False) if extraction.layout is not None else None


def _read_value(invoice: Invoice, name: str) -> Any:
    """The invoice's value of a correctable field, as the reader would have read it."""
    value = getattr(invoice, name)
    if value is None:
        return None
    if name.endswith("_minor"):
        return Decimal(to_major_string(int(value), invoice.currency))
    return value


def _differs(read_value: Any, value: Any) -> bool:
    if value is None:
        return False
    if read_value is None:
        return True
    if isinstance(value, Decimal):
        return Decimal(str(read_value)) != value
    if isinstance(value, date):
        return str(read_value) != value.isoformat()
    return str(read_value).strip() != str(value).strip()


def note_corrections(session: Session, invoice: Invoice, changed: Iterable[str], actor_user_id: int | None) -> None:
    """After a person's edit of a parsed invoice: the fields changed that now differ from what
    was read are corrections; each is remembered with the extraction and, once the vendor is
    known, taught as the vendor's hint."""
    if invoice.kind != InvoiceKind.PARSED.value:
        return
    extraction = session.get(InvoiceExtraction, invoice.id)
    if extraction is None or extraction.method != "text":
        return
    fields = json.loads(extraction.fields)
    corrected = set(fields.get(_CORRECTED, []))
    for name in changed:
        field = CORRECTABLE.get(name)
        if field is not None and _differs(fields.get(field), _read_value(invoice, name)):
            corrected.add(field)
    if sorted(corrected) != fields.get(_CORRECTED, []):
        fields[_CORRECTED] = sorted(corrected)
        extraction.fields = json.dumps(fields)
        session.add(extraction)
    learn_from(session, invoice, actor_user_id)


def learn_from(session: Session, invoice: Invoice, actor_user_id: int | None) -> list[str]:
    """Teach the invoice's vendor where it prints each field a person corrected on this invoice;
    the fields taught. Nothing before the vendor is known."""
    if invoice.vendor_id is None or invoice.kind != InvoiceKind.PARSED.value:
        return []
    extraction = session.get(InvoiceExtraction, invoice.id)
    if extraction is None or extraction.layout is None:
        return []
    corrected = json.loads(extraction.fields).get(_CORRECTED, [])
    if not corrected:
        return []
    layout = Layout.from_json(json.loads(extraction.layout))
    names = {field: name for name, field in CORRECTABLE.items()}
    taught = []
    for field in corrected:
        hint = reading.learn(layout, field, _read_value(invoice, names[field]), invoice.number)
        if hint is not None:
            _keep(session, invoice.vendor_id, hint, actor_user_id)
            taught.append(field)
    session.flush()
    return taught


def _keep(session: Session, vendor_id: int, hint: reading.Hint, actor_user_id: int | None) -> None:
    row = session.exec(select(VendorReadingHint).where(col(VendorReadingHint.vendor_id) == vendor_id,
                                                       col(VendorReadingHint.field) == hint.field)).first()
    if row is None:
        row = VendorReadingHint(vendor_id=vendor_id, field=hint.field, relation=hint.relation, learned_from="")
    row.relation, row.label, row.page = hint.relation, (hint.label or None) and hint.label[:120], hint.page
    row.x0, row.top, row.x1, row.bottom = hint.box
    row.format = hint.format[:120] if hint.format else None
    row.learned_from = hint.learned_from[:64]
    row.updated_at, row.updated_by_id = utcnow(), actor_user_id
    session.add(row)

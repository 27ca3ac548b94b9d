"""Vendor data migration from CSV or XLSX: every row checked by the same rules as the vendor
form, and the file imported whole or not at all. The file is read with no database touched
(read_vendors_file) and imported in a short unit of work (take_vendors_file)."""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlmodel import Session, col

from vrm_dashboard.db.models import Intake, Vendor, stored_id
from vrm_dashboard.domain.activity_rules import MAX_REPORTED_PROBLEMS, ImportRefused, RowProblem
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.domain.vendor_rules import FieldErrors, VendorInput, validate_vendor
from vrm_dashboard.services.platform import audit
from vrm_dashboard.services.platform.actors import Actor, require
from vrm_dashboard.services.platform.tabular_files import ReceivedTable, receive_table
from vrm_dashboard.services.vendors.records import vendor_columns

if TYPE_CHECKING:
    import pandas as pd

INPUT_FIELDS = tuple(f.name for f in fields(VendorInput))
ALIASES = {"code": "vendor_code", "vendor_id": "vendor_code", "vendor": "name", "vendor_name": "name",
           "company": "legal_name", "e_mail": "email", "mail": "email", "status": "activity_status",
           "method": "payment_method", "vat": "vat_id", "tax": "tax_id"}


@dataclass
class VendorImportResult:
    intake_id: int
    created: int = 0
    refused: bool = False
    problems: list[RowProblem] = field(default_factory=list)
    total_problems: int = 0

    @property
    def message(self) -> str:
        if self.refused:
            return str(ImportRefused(self.problems, self.total_problems))
        return f"Imported {self.created:,} vendor{'' if self.created == 1 else 's'}"


def _field_of(column: str) -> str | None:
    key = column.strip().lower().replace(" ", "_").replace("-", "_")
    key = ALIASES.get(key, key)
    return key if key in INPUT_FIELDS else None


def read_vendors_file(content: bytes, filename: str) -> ReceivedTable:
    """Read a vendor file into a table, or the reason it is refused, touching no database.
    Reading an XLSX may take its worker's whole deadline, so callers read with no unit of work
    open (on SQLite one holds the write lock from its first statement), then import the result
    with take_vendors_file in a short one. ReadersUnavailable when no worker can be started."""
    return receive_table(content, filename)


def take_vendors_file(session: Session, actor: Actor, received: ReceivedTable,
                      channel: str = "upload") -> VendorImportResult:
    """Import a file read by read_vendors_file, all or nothing; a refused file is recorded as a
    failed intake with its reason."""
    require(actor, Action.INTAKE_IMPORT)
    require(actor, Action.VENDOR_CREATE)
    intake = Intake(channel=channel, kind="vendors", filename=received.filename[:255], sha256=received.sha256,
                    size_bytes=received.size_bytes, status="failed", created_by_id=actor.user_id)
    try:
        if received.frame is None:
            raise received.refusal or ImportRefused([RowProblem(0, "The file could not be read")], 1)
        clean = _checked(session, received.frame)
    except ImportRefused as refused:
        intake.reason = str(refused)
        session.add(intake)
        session.flush()
        audit.record(session, actor, "vendor.import_refused", "intake", intake.id, after={"reason": intake.reason})
        return VendorImportResult(stored_id(intake), refused=True, problems=refused.problems[:MAX_REPORTED_PROBLEMS],
                                  total_problems=refused.total_problems)
    for vendor in clean:
        session.add(vendor)
    intake.status, intake.rows_total, intake.rows_new = "accepted", len(clean), len(clean)
    session.add(intake)
    session.flush()
    for vendor in clean:
        audit.record(session, actor, "vendor.create", "vendor", vendor.id, after=vendor)
    return VendorImportResult(stored_id(intake), created=len(clean))


def import_vendors_file(session: Session, actor: Actor, content: bytes, filename: str,
                        channel: str = "upload") -> VendorImportResult:
    """read_vendors_file, then take_vendors_file. The file is read before the session runs a
    statement: given a session with no transaction open, nothing is locked while it is read.
    Whoever may not import vendors is refused before the file is read."""
    require(actor, Action.INTAKE_IMPORT)
    require(actor, Action.VENDOR_CREATE)
    return take_vendors_file(session, actor, read_vendors_file(content, filename), channel)


def _checked(session: Session, frame: pd.DataFrame) -> list[Vendor]:
    mapping = {column: _field_of(column) for column in frame.columns}
    if "vendor_code" not in mapping.values() or "name" not in mapping.values():
        raise ImportRefused([RowProblem(1, "the file needs vendor_code and name columns")], 1)
    existing = set(session.execute(select(col(Vendor.vendor_code))).scalars())
    seen: dict[str, int] = {}
    problems: list[RowProblem] = []
    clean: list[Vendor] = []
    for index, record in enumerate(frame.to_dict("records")):
        row = index + 2
        values = {key: v for c, v in record.items() if (key := mapping.get(c)) and v != ""}
        try:
            vendor = Vendor(**vendor_columns(validate_vendor(VendorInput(**values))))
        except FieldErrors as errors:
            problems.extend(RowProblem(row, f"{name.replace('_', ' ')}: {message}") for name, message in errors.errors.items())
            continue
        if vendor.vendor_code in existing:
            problems.append(RowProblem(row, f"vendor code {vendor.vendor_code} already exists"))
        elif vendor.vendor_code in seen:
            problems.append(RowProblem(row, f"vendor code {vendor.vendor_code} repeats row {seen[vendor.vendor_code]}"))
        seen.setdefault(vendor.vendor_code, row)
        clean.append(vendor)
    if problems:
        raise ImportRefused(problems[:MAX_REPORTED_PROBLEMS], len(problems))
    if not clean:
        raise ImportRefused([RowProblem(0, "The file has no data rows")], 1)
    return clean

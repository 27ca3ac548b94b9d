"""Vendor data migration from CSV or XLSX: every row checked by the same rules as the vendor
form, and the file imported whole or not at all."""
from __future__ import annotations

import hashlib
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
from vrm_dashboard.services.platform.tabular_files import read_table
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


def import_vendors_file(session: Session, actor: Actor, content: bytes, filename: str,
                        channel: str = "upload") -> VendorImportResult:
    require(actor, Action.INTAKE_IMPORT)
    require(actor, Action.VENDOR_CREATE)
    intake = Intake(channel=channel, kind="vendors", filename=filename[:255], sha256=hashlib.sha256(content).hexdigest(),
                    size_bytes=len(content), status="failed", created_by_id=actor.user_id)
    try:
        frame = read_table(content, filename)
        clean = _checked(session, frame)
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

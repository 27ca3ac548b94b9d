"""The Intake screen: activity files and vendor invoices uploaded (many at once, with
progress), what each became, the intake log and the connector runs."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import reflex as rx
from sqlmodel import Session

from vrm_dashboard.domain.activity_rules import FIELD_SYNONYMS
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.intake import activity_import, invoice_files as invoice_intake, log as intake_log
from vrm_dashboard.services.platform.actors import Actor
from vrm_dashboard.services.platform.errors import ServiceError
from vrm_dashboard.services.platform.tabular_files import MAX_FILE_BYTES as MAX_TABLE_BYTES, ReceivedTable
from vrm_dashboard.services.vendors import imports as vendor_import
from vrm_dashboard.ui import formatting as fmt
from vrm_dashboard.ui.states.session import SessionState, page_load
from vrm_dashboard.ui.uploads import file_name, read_within, upload_refusal, upload_size

log = logging.getLogger(__name__)

MAPPED_FIELDS = list(FIELD_SYNONYMS)
# One uploaded file read (its bytes and name; no database), and what was read taken as the
# actor in a unit of work: what became of it.
ReadWork = Callable[[bytes, str], ReceivedTable]
TakeWork = Callable[[Session, Actor, ReceivedTable], activity_import.ImportResult | vendor_import.VendorImportResult]
STATUS_LABELS = {"accepted": "Accepted", "failed": "Failed", "duplicate": "Duplicate"}


@dataclass
class UploadResult:
    """What became of one file of the last upload (and the invoice it made, if any)."""

    file: str = ""
    status: str = ""
    message: str = ""
    invoice_id: str = ""


@dataclass
class IntakeLogRow:
    """One file received through any channel, as the intake log shows it."""

    at: str = ""
    channel: str = ""
    kind: str = ""
    file: str = ""
    status: str = ""
    rows: str = ""
    invoice: str = ""
    invoice_id: str = ""
    reason: str = ""


@dataclass
class SyncRunRow:
    """One run of a connector or mailbox job."""

    job: str = ""
    at: str = ""
    status: str = ""
    rows: str = ""
    errors: str = ""
    seconds: str = ""
    # What went wrong, per source or set-aside file (URLs redacted by the service).
    problems: str = ""


class IntakeState(SessionState):
    source_name: str = "upload"
    progress: int = 0
    busy: bool = False
    results: list[UploadResult] = []
    intakes: list[IntakeLogRow] = []
    runs: list[SyncRunRow] = []
    error: str = ""
    mapping: dict[str, str] = {k: "" for k in MAPPED_FIELDS}
    mapping_message: str = ""

    @rx.event
    @page_load
    def load(self, actor: Actor) -> Any:
        self.results, self.progress = [], 0
        self._load_mapping()
        self._refresh()
        return None

    def _refresh(self) -> None:
        try:
            with self._acting(read_only=True) as (session, actor):
                page = intake_log.recent_intakes(session, actor)
                runs = intake_log.recent_sync_runs(session, actor, limit=10)
        except ServiceError as exc:
            self.error = str(exc)
            return
        self.intakes = [
            IntakeLogRow(at=fmt.day(r.at), channel=r.channel, kind=r.kind, file=r.filename,
                         status=STATUS_LABELS.get(r.status, r.status),
                         rows=f"{r.rows_new:,} / {r.rows_total:,}" if r.kind != "invoice" else "",
                         invoice=r.invoice_number, invoice_id=str(r.invoice_id or ""), reason=r.reason[:300])
            for r in page.rows
        ]
        self.runs = [
            SyncRunRow(job=r.job, at=fmt.day(r.started_at), status=r.status, rows=f"{r.rows:,}",
                       errors=str(r.errors), seconds=f"{r.seconds:.1f} s",
                       problems="; ".join(r.problems)[:600])
            for r in runs
        ]

    @rx.event
    def set_source_name(self, value: str) -> None:
        self.source_name = value.strip()[:80]
        self._load_mapping()

    def _load_mapping(self) -> None:
        try:
            with self._acting(read_only=True) as (session, actor):
                saved = activity_import.mapping_of(session, actor, self.source_name or "upload")
        except ServiceError as exc:
            self.mapping_message = str(exc)
            return
        self.mapping = {k: saved.get(k, "") for k in MAPPED_FIELDS}
        self.mapping_message = ""

    @rx.event
    def set_mapping(self, name: str, value: str) -> None:
        if name in MAPPED_FIELDS:
            self.mapping[name] = value

    @rx.event
    def save_mapping(self) -> None:
        try:
            with self._acting(Action.INTAKE_IMPORT) as (session, actor):
                activity_import.save_mapping(session, actor, self.source_name or "upload", dict(self.mapping))
        except ServiceError as exc:
            self.mapping_message = str(exc)
            return
        self.mapping_message = f"Column mapping saved for source '{self.source_name or 'upload'}'."

    @rx.event
    def on_progress(self, progress: dict) -> None:
        # Progress events can arrive after the upload handler has finished: only a transfer
        # still under way shows as busy.
        self.progress = int(round(float(progress.get("progress", 0)) * 100))
        self.busy = self.progress < 100

    def _refused(self, files: list[rx.UploadFile], *needs: Action) -> bool:
        """Refuse the whole upload, before any file is read, unless the user may import it."""
        refused = upload_refusal(self, *needs)
        if refused:
            self._finish([UploadResult(file=file_name(upload), status="Refused", message=refused) for upload in files])
        return bool(refused)

    async def _import_files(self, files: list[rx.UploadFile], needs: tuple[Action, ...], read: ReadWork,
                            take: TakeWork) -> None:
        """Each file imported on its own, all or nothing, once the user may import (`needs`)."""
        if self._refused(files, *needs):
            return
        results = []
        for upload in files:
            name = file_name(upload)
            content = await read_within(upload, MAX_TABLE_BYTES)
            if content is None:
                results.append(UploadResult(file=name, status="Refused",
                                            message=f"The file is larger than {MAX_TABLE_BYTES // 1_048_576} MB"))
                continue

            def run(content: bytes = content, name: str = name) -> Any:
                # Read before the unit of work that takes it begins, so that none is open (and on
                # SQLite no write lock held) while a spreadsheet keeps its worker busy.
                received = read(content, name)
                with self._acting() as (session, actor):
                    return take(session, actor, received)

            try:
                # A spreadsheet is read in a worker with a deadline: wait for it off the event loop.
                result = await asyncio.to_thread(run)
                results.append(UploadResult(file=name, status="Refused" if result.refused else "Imported",
                                            message=result.message))
            except ServiceError as exc:
                results.append(UploadResult(file=name, status="Refused", message=str(exc)))
            except Exception:  # noqa: BLE001 - one broken file must not stop the others
                log.exception("import of %s failed", name)
                results.append(UploadResult(file=name, status="Failed", message="The file could not be read"))
        self._finish(results)

    @rx.event
    async def upload_activity(self, files: list[rx.UploadFile]) -> None:
        source = self.source_name or "upload"
        await self._import_files(files, (Action.INTAKE_IMPORT,), activity_import.read_activity_file,
                                 lambda session, actor, received:
                                 activity_import.take_activity_file(session, actor, received, source_name=source))

    @rx.event
    async def upload_vendors(self, files: list[rx.UploadFile]) -> None:
        """Vendor data migration."""
        await self._import_files(files, (Action.INTAKE_IMPORT, Action.VENDOR_CREATE), vendor_import.read_vendors_file,
                                 vendor_import.take_vendors_file)

    @rx.event
    async def upload_invoices(self, files: list[rx.UploadFile]) -> None:
        if self._refused(files, Action.INTAKE_IMPORT):
            return
        results = []
        for upload in files:
            name = file_name(upload)
            content = await read_within(upload, invoice_intake.MAX_FILE_BYTES)

            def receive(content: bytes | None = content, name: str = name,
                        size: int | None = upload_size(upload)) -> invoice_intake.IntakeOutcome:
                # Read before the unit of work that enters it begins, so that none is open (and
                # on SQLite no write lock held) while a document keeps its reader busy.
                received = (invoice_intake.read_invoice(content, name) if content is not None
                            else invoice_intake.too_large(name, size))
                with self._acting(Action.INTAKE_IMPORT) as (session, actor):
                    return invoice_intake.take_invoice(session, actor, received, channel="upload")

            try:
                # Reading a document can take seconds (a worker with a deadline): off the event loop.
                outcome = await asyncio.to_thread(receive)
                message = outcome.message + "".join(f" · {p}" for p in outcome.problems)
                results.append(UploadResult(file=name, status=STATUS_LABELS.get(outcome.status, outcome.status),
                                            message=message, invoice_id=str(outcome.invoice_id or "")))
            except ServiceError as exc:
                results.append(UploadResult(file=name, status="Failed", message=str(exc)))
            except Exception:  # noqa: BLE001 - one broken file must not stop the others
                log.exception("invoice upload %s failed", name)
                results.append(UploadResult(file=name, status="Failed", message="The file could not be read"))
        self._finish(results)

    def _finish(self, results: list[UploadResult]) -> None:
        self.results = results
        self.busy, self.progress = False, 100
        self._refresh()

"""What arrived and what became of it: the intake log people read, one page at a time, and the
connector and mailbox runs. Names, reasons and run details are shown with any URL in them
redacted, also those recorded before URLs were redacted where they were written."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlmodel import Session, col

from vrm_dashboard.db.models import Intake, Invoice, JobRun, stored_id
from vrm_dashboard.db.tenancy import looking_past_scope, root_organization_id
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.platform.actors import Actor, require, scope_for
from vrm_dashboard.services.platform.redaction import redact_text

PAGE_SIZE = 25


@dataclass(frozen=True)
class IntakeRow:
    id: int
    at: datetime
    channel: str
    kind: str
    filename: str
    status: str
    reason: str
    rows_total: int
    rows_new: int
    invoice_id: int | None
    invoice_number: str
    sender: str


@dataclass(frozen=True)
class IntakePage:
    rows: list[IntakeRow]
    total: int
    page: int

    def as_dict(self) -> dict:
        return {"items": [{**asdict(r), "at": r.at.isoformat()} for r in self.rows], "total": self.total,
                "page": self.page}


def recent_intakes(session: Session, actor: Actor, page: int = 1, status: str = "", kind: str = "") -> IntakePage:
    require(actor, Action.INVOICE_VIEW)
    conditions: list[ColumnElement[bool]] = []
    if status:
        conditions.append(col(Intake.status) == status)
    if kind:
        conditions.append(col(Intake.kind) == kind)
    total = session.execute(select(func.count()).select_from(Intake).where(*conditions)).scalar_one()
    rows = session.execute(
        select(Intake, col(Invoice.number)).outerjoin(Invoice, col(Invoice.id) == Intake.invoice_id).where(*conditions)
        .order_by(col(Intake.id).desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()
    return IntakePage([
        IntakeRow(stored_id(i), i.created_at, i.channel, i.kind, redact_text(i.filename), i.status,
                  redact_text(i.reason or ""), i.rows_total, i.rows_new, i.invoice_id, number or "", i.sender or "")
        for i, number in rows
    ], int(total), page)


@dataclass(frozen=True)
class SyncRun:
    job: str
    started_at: datetime
    status: str
    rows: int
    errors: int
    seconds: float
    detail: str
    # What went wrong, one line per source or file: "drop: bad.csv: row 2: unknown vendor ...".
    problems: list[str]


# The connectors' run (sync_*) records each source's report with the source's organization:
# each organization reads its own sources' reports, and the rows and errors they add up to.
# Any other run (the installation's one mailbox, a run that failed as a whole, reports written
# before sources had owners) is the installation's own: its root organization and the platform
# admins read it; other organizations see of a connectors' run only that it ran and how it ended.
_CONNECTOR_RUNS = "sync_%"


def recent_sync_runs(session: Session, actor: Actor, limit: int = 20) -> list[SyncRun]:
    """The latest connector and mailbox runs: rows, errors, duration, and what failed."""
    require(actor, Action.INVOICE_VIEW)
    mine = scope_for(session, actor).organizations
    with looking_past_scope(session):
        root = root_organization_id(session)
    installations = mine is None or root in mine
    jobs: ColumnElement[bool] = col(JobRun.job).like(_CONNECTOR_RUNS)
    if installations:
        jobs = jobs | (col(JobRun.job) == "poll_invoice_mailbox")
    runs = session.execute(select(JobRun).where(jobs).order_by(col(JobRun.id).desc()).limit(limit)).scalars().all()
    return [_as_seen(run, mine, root, installations) for run in runs]


def _as_seen(run: JobRun, mine: frozenset[int] | None, root: int, installations: bool) -> SyncRun:
    seconds = (run.finished_at - run.started_at).total_seconds() if run.finished_at else 0.0
    reports = _reports(run)
    if mine is None:
        return SyncRun(run.job, run.started_at, run.status, run.rows, run.errors, seconds,
                       redact_text(run.detail or "")[:500], _problems(run, reports))
    if reports is None:
        if installations:
            return SyncRun(run.job, run.started_at, run.status, run.rows, run.errors, seconds,
                           redact_text(run.detail or "")[:500], _problems(run, None))
        return SyncRun(run.job, run.started_at, run.status, 0, 0, seconds, "", [])
    own = [r for r in reports if _owner(r, root) in mine]
    errors = sum(bool(r.get("error")) + len(r.get("rejected") or []) for r in own)
    status = run.status if run.status in ("running", "failed") else ("partly_failed" if errors else "succeeded")
    return SyncRun(run.job, run.started_at, status, sum(int(r.get("new_rows") or 0) for r in own), errors, seconds,
                   redact_text(json.dumps(own))[:500], _problems(run, own))


def _owner(report: dict, root: int) -> int:
    # A report from before sources had owners: the installation had one organization then.
    owner = report.get("owner")
    return owner if isinstance(owner, int) else root


def _reports(run: JobRun) -> list[dict] | None:
    """The per-source reports a connectors' run keeps as its detail; None for any other detail."""
    try:
        reports = json.loads(run.detail or "")
    except ValueError:
        return None
    if isinstance(reports, list) and all(isinstance(r, dict) for r in reports):
        return reports
    return None


def _problems(run: JobRun, reports: list[dict] | None) -> list[str]:
    """The failures a run's detail names: each connector's error and each file it set aside
    (the connectors' job), or the detail of another run that did not succeed."""
    if reports is not None:
        return [redact_text(f"{r.get('source', '')}: {problem}")[:500] for r in reports
                for problem in ([r["error"]] if r.get("error") else []) + list(r.get("rejected") or [])]
    return [redact_text(run.detail or "")[-500:]] if run.status != "succeeded" and run.detail else []

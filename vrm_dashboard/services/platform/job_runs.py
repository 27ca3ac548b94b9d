"""Recording what each scheduled job did: rows, errors, duration, outcome. The detail is kept
with any URL in it redacted (a connector's error or a traceback may quote one)."""
from __future__ import annotations

import traceback
from dataclasses import dataclass
from typing import Callable

from sqlalchemy.engine import Engine
from sqlmodel import Session

from vrm_dashboard.db.models import JobRun, utcnow
from vrm_dashboard.services.platform.redaction import redact_text


@dataclass(frozen=True)
class JobResult:
    """What a job that reports more than a row count returns: rows, errors and a summary."""

    rows: int
    errors: int = 0
    detail: str = ""


def run_recorded(engine: Engine, job: str, work: Callable[[Session], "int | JobResult"]) -> JobRun:
    """Run `work` in its own transaction and record the run, even when it fails."""
    with Session(engine, expire_on_commit=False) as session:
        run = JobRun(job=job, status="running")
        session.add(run)
        session.commit()
        try:
            result = work(session)
            session.commit()
            if isinstance(result, JobResult):
                run.rows, run.errors, run.detail = result.rows, result.errors, redact_text(result.detail) or None
            else:
                run.rows = int(result or 0)
            run.status = "succeeded" if not run.errors else "partly_failed"
        except Exception:
            session.rollback()
            run.status = "failed"
            run.errors = 1
            run.detail = redact_text(traceback.format_exc(limit=5))[-4000:]
        run.finished_at = utcnow()
        session.add(run)
        session.commit()
        return run

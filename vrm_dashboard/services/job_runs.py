"""Recording what each scheduled job did: rows, errors, duration, outcome."""
from __future__ import annotations

import traceback
from typing import Callable

from sqlalchemy.engine import Engine
from sqlmodel import Session

from vrm_dashboard.db.models import JobRun, utcnow


def run_recorded(engine: Engine, job: str, work: Callable[[Session], int]) -> JobRun:
    """Run `work` in its own transaction and record the run, even when it fails."""
    with Session(engine, expire_on_commit=False) as session:
        run = JobRun(job=job, status="running")
        session.add(run)
        session.commit()
        try:
            run.rows = int(work(session) or 0)
            session.commit()
            run.status = "succeeded"
        except Exception:
            session.rollback()
            run.status = "failed"
            run.errors = 1
            run.detail = traceback.format_exc(limit=5)[-4000:]
        run.finished_at = utcnow()
        session.add(run)
        session.commit()
        return run

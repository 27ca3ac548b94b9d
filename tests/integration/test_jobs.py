"""Scheduler jobs run through the recorder, which keeps every run's outcome."""
from sqlmodel import Session, select

from vrm_dashboard.db.models import JobRun
from vrm_dashboard.jobs.scheduler import JOBS, build_scheduler
from vrm_dashboard.services.platform.job_runs import run_recorded


def test_every_job_runs_and_is_recorded(db):
    for name, (work, _trigger) in JOBS.items():
        run = run_recorded(db, name, work)
        assert run.status == "succeeded", run.detail
    with Session(db) as session:
        assert {r.job for r in session.exec(select(JobRun)).all()} == set(JOBS)


def test_a_failing_job_is_recorded_with_its_error_and_changes_nothing(db):
    def broken(session):
        raise RuntimeError("connector unreachable")

    run = run_recorded(db, "broken", broken)
    assert run.status == "failed" and "connector unreachable" in run.detail and run.finished_at


def test_the_scheduler_knows_every_job():
    scheduler = build_scheduler()
    assert {job.id for job in scheduler.get_jobs()} == set(JOBS)

"""The scheduler process: runs each job on its schedule against the shared database."""
from __future__ import annotations

import logging
import signal
from datetime import datetime, timezone
from typing import Callable

from apscheduler.schedulers.blocking import BlockingScheduler
from sqlmodel import Session

from vrm_dashboard.db.engine import engine
from vrm_dashboard.parsing import sandbox
from vrm_dashboard.services.distribution import bounces, dispatch as distribution
from vrm_dashboard.services.intake import connectors, mailbox, scanned
from vrm_dashboard.services.mail import outgoing as outgoing_mail
from vrm_dashboard.services.payouts import execution as payout_execution
from vrm_dashboard.services.platform import housekeeping
from vrm_dashboard.services.platform.job_runs import JobResult, run_recorded
from vrm_dashboard.services.receivables import collection, consolidation, reminders

log = logging.getLogger("vrm.scheduler")

# name -> (work, trigger arguments). Later capabilities (intake, payouts, distribution,
# collection) register their jobs here.
JOBS: dict[str, tuple[Callable[[Session], "int | JobResult"], dict]] = {
    "purge_expired_sessions": (
        housekeeping.purge_expired_sessions,
        {"trigger": "interval", "hours": 1, "next_run_time": datetime.now(timezone.utc)},
    ),
    "purge_old_exports": (housekeeping.purge_old_exports, {"trigger": "interval", "hours": 6}),
    "reconcile_all_invoices": (housekeeping.reconcile_all_invoices, {"trigger": "cron", "hour": 3, "minute": 0}),
    "rebuild_invoice_rollup": (housekeeping.rebuild_invoice_rollup, {"trigger": "cron", "hour": 2, "minute": 30}),
    "sync_activity_sources": (connectors.sync_all, {"trigger": "interval", "minutes": 15}),
    # Does nothing until VRM_IMAP_HOST is set.
    "poll_invoice_mailbox": (mailbox.poll_mailbox, {"trigger": "interval", "minutes": 1}),
    # Scans uploaded through the screens or the API (never read by OCR in a web request).
    "read_scanned_invoices": (scanned.read_scanned, {"trigger": "interval", "minutes": 1}),
    # Pays what is due, retries what waited for its backoff, confirms provider payments.
    "execute_payouts": (payout_execution.execute_payouts, {"trigger": "interval", "minutes": 5}),
    # Only with VRM_SANDBOX_CALLBACK_URL: the sandbox provider pushes its outcomes.
    "sandbox_provider_callbacks": (payout_execution.deliver_provider_callbacks, {"trigger": "interval", "minutes": 1}),
    # Queues invoices whose trigger holds (or holds them with reasons); alerts what is late.
    "distribute_invoices": (distribution.distribute, {"trigger": "interval", "minutes": 5}),
    # Invoices, credit notes and remittance advices by e-mail; nothing until VRM_SMTP_HOST is set.
    "send_queued_email": (outgoing_mail.send_queued, {"trigger": "interval", "minutes": 1}),
    # Delivery-status notifications; nothing until VRM_BOUNCE_IMAP_HOST is set.
    "poll_bounces": (bounces.poll_bounces, {"trigger": "interval", "minutes": 5}),
    # Customer invoices past their due date, through the payment collector.
    "collect_overdue_invoices": (collection.collect_overdue, {"trigger": "cron", "hour": 6, "minute": 0}),
    # Reminders before and after due dates; sent by send_queued_email.
    "queue_payment_reminders": (reminders.queue_reminders, {"trigger": "cron", "hour": 7, "minute": 0}),
    # Last month's invoices of organizations that consolidate, on the first of the month.
    "consolidate_invoices": (consolidation.consolidate_last_month, {"trigger": "cron", "day": 1, "hour": 1}),
}


def _runner(name: str, work: Callable[[Session], int]) -> Callable[[], None]:
    def run() -> None:
        outcome = run_recorded(engine(), name, work)
        log.info("job %s %s (%d rows)", name, outcome.status, outcome.rows)
    return run


def build_scheduler() -> BlockingScheduler:
    scheduler = BlockingScheduler(timezone="UTC")
    for name, (work, trigger) in JOBS.items():
        # coalesce + one instance: a job that falls behind runs once, never twice at a time.
        scheduler.add_job(_runner(name, work), id=name, name=name, coalesce=True,
                          max_instances=1, misfire_grace_time=300, **trigger)
    return scheduler


def run_forever() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s scheduler %(levelname)s %(message)s")
    # The mailbox job reads untrusted PDFs in a worker: start it now, not on the first e-mail.
    sandbox.start()
    scheduler = build_scheduler()

    def stop(signum, _frame):  # type: ignore[no-untyped-def]
        log.info("stopping on signal %s", signum)
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("scheduler started with jobs: %s", ", ".join(JOBS))
    scheduler.start()

"""Starts the money runs for the crash test without paying Python's start-up each time.

It imports the app once, then forks one child per run; a child is a fresh run against the
scenario's database, outbox and ledgers. Commands on stdin:
  start <job> <crash point number or -> <scenario root> [file]  -> prints the child's pid
  wait <pid>                                                   -> prints its exit code (-9: killed)
Jobs: `payouts` (vrm payouts run), `collect` (the scheduler's collection job, charging through
a collector with its own ledger) and `statement` (importing the bank statement `file`, as
the finance manager on the reconciliation screen; exit code 3: it was imported before).
"""
from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

from sqlmodel import Session

from tests.helpers import DUE_DAY
from tests.ledger_collector import LedgerCollector
from vrm_dashboard import cli, config
from vrm_dashboard.db import engine as engine_module
from vrm_dashboard.rails import registry
from vrm_dashboard.services.payouts import bank_statements, execution  # noqa: F401  (imported once, before forking)
from vrm_dashboard.services.platform.errors import Conflict
from vrm_dashboard.services.platform.job_runs import run_recorded
from vrm_dashboard.services.receivables import collection

PAY_DAY = DUE_DAY.isoformat()
STATEMENT_IMPORTER = "finance_manager@test.example"
ALREADY_IMPORTED = 3


def _pay(root: str) -> int:
    return cli.main(["payouts", "run", "--date", PAY_DAY])


def _collect(root: str) -> int:
    # The scheduler's job as it runs, its collector (built from the installation's failure
    # rate) keeping a ledger of what it charged.
    registry.collector = lambda failure_percent: LedgerCollector(Path(root) / "collector.db", failure_percent)
    run = run_recorded(engine_module.engine(), "collect_overdue_invoices", collection.collect_overdue)
    return 0 if run.status != "failed" else 1


def _import_statement(root: str, file: str) -> int:
    with Session(engine_module.engine()) as session:
        actor = cli._cli_actor(session, STATEMENT_IMPORTER)
        try:
            bank_statements.import_statement(session, actor, Path(file).name, Path(file).read_bytes())
        except Conflict:
            return ALREADY_IMPORTED
        session.commit()
    return 0


JOBS = {"payouts": _pay, "collect": _collect, "statement": _import_statement}


def _child(job: str, crash_at: str, root: str, *args: str) -> None:
    code = 1
    try:
        os.environ.update({
            "VRM_DATABASE_URL": f"sqlite:///{root}/vrm.db", "VRM_PAYMENT_OUTBOX": f"{root}/outbox",
            "VRM_SANDBOX_PROVIDER_DB": f"{root}/provider.db",
        })
        if crash_at == "-":
            os.environ.pop("VRM_CRASH_AT", None)
        else:
            os.environ["VRM_CRASH_AT"] = crash_at
        config.settings.cache_clear()
        engine_module.engine.cache_clear()
        sys.stdout = open(os.devnull, "w")
        code = JOBS[job](root, *args)
    except BaseException:
        traceback.print_exc()
    finally:
        # Never back into the command loop: the child is one run.
        os._exit(code)


def main() -> None:
    for line in sys.stdin:
        command, *args = line.split()
        if command == "start":
            pid = os.fork()
            if pid == 0:
                _child(*args)
            print(pid, flush=True)
        elif command == "wait":
            _, status = os.waitpid(int(args[0]), 0)
            code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
            print(code, flush=True)


if __name__ == "__main__":
    main()

"""Starts payout runs for the crash test without paying Python's start-up each time.

It imports the app once, then forks one child per run; a child is a fresh payout run
against the scenario's database, outbox and provider ledger. Commands on stdin:
  start <crash point number or -> <scenario root>   -> prints the child's pid
  wait <pid>                                        -> prints its exit code (-9: killed)
"""
from __future__ import annotations

import os
import sys

from tests.helpers import DUE_DAY
from vrm_dashboard import cli, config  # noqa: F401  (imported once, before forking)
from vrm_dashboard.db import engine as engine_module

PAY_DAY = DUE_DAY.isoformat()


def _child(crash_at: str, root: str) -> None:
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
    os._exit(cli.main(["payouts", "run", "--date", PAY_DAY]))


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

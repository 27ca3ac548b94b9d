"""Named points where a crash is most dangerous in the runs that move money: the payout
run, the collection run and a bank statement's import.

In production this does nothing. The crash test sets VRM_CRASH_AT=N and the process kills
itself with SIGKILL (no cleanup, no commit, like a power cut) at the N-th point it reaches,
so the at-most-once guarantees are proven at every step instead of argued.
"""
from __future__ import annotations

import os
import signal

_reached = 0


def reached(name: str) -> None:
    global _reached
    plan = os.environ.get("VRM_CRASH_AT")
    if not plan:
        return
    _reached += 1
    if _reached == int(plan):
        log = os.environ.get("VRM_CRASH_LOG")
        if log:
            with open(log, "a") as out:
                out.write(f"{name}\n")
        os.kill(os.getpid(), signal.SIGKILL)

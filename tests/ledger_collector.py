"""A collector that keeps its own ledger, for the crash test: what it charged is read from
there, where the money is taken, not from our database.

Like a real collector it is a separate system (a SQLite file of its own, committed before it
answers), so a crash or a rollback on our side never undoes a charge; and it charges once per
idempotency key, answering a repeat with the first answer. The answer itself is the sandbox
collector's (rails/sandbox_collector.py), declines included.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from vrm_dashboard.rails.base import Charge
from vrm_dashboard.rails.sandbox_collector import SandboxCollector

_SCHEMA = """
CREATE TABLE IF NOT EXISTS charge (
    idempotency_key TEXT PRIMARY KEY,
    method TEXT NOT NULL,
    amount_minor INTEGER NOT NULL,
    currency TEXT NOT NULL,
    collected INTEGER NOT NULL,
    reference TEXT,
    reason TEXT,
    asked INTEGER NOT NULL DEFAULT 1
)"""


@dataclass
class LedgerCharge:
    idempotency_key: str
    method: str
    amount_minor: int
    currency: str
    collected: bool
    asked: int


class LedgerCollector:
    """rails.base.Collector over a ledger file."""

    def __init__(self, ledger: Path, failure_percent: int = 0) -> None:
        self.ledger = Path(ledger)
        self._decide = SandboxCollector(failure_percent)
        self._db = sqlite3.connect(self.ledger, timeout=30, isolation_level=None)
        self._db.execute("PRAGMA busy_timeout=30000")
        self._db.execute(_SCHEMA)

    def charge(self, idempotency_key: str, method: str, amount_minor: int, currency: str) -> Charge:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            first = self._db.execute("SELECT method, amount_minor, currency, collected, reference, reason "
                                     "FROM charge WHERE idempotency_key = ?", (idempotency_key,)).fetchone()
            if first is not None:
                # A repeat for another amount is the caller's bug; a real collector refuses it.
                assert first[:3] == (method, amount_minor, currency), f"key {idempotency_key} reused for {first}"
                self._db.execute("UPDATE charge SET asked = asked + 1 WHERE idempotency_key = ?", (idempotency_key,))
                answer = Charge(bool(first[3]), reference=first[4] or "", reason=first[5] or "")
            else:
                answer = self._decide.charge(idempotency_key, method, amount_minor, currency)
                self._db.execute("INSERT INTO charge VALUES (?, ?, ?, ?, ?, ?, ?, 1)",
                                 (idempotency_key, method, amount_minor, currency, int(answer.collected),
                                  answer.reference, answer.reason))
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        return answer


def charges(ledger: Path) -> list[LedgerCharge]:
    """Every charge the ledger holds (none when nothing was ever charged)."""
    if not ledger.exists():
        return []
    with sqlite3.connect(ledger) as db:
        rows = db.execute("SELECT idempotency_key, method, amount_minor, currency, collected, asked "
                          "FROM charge").fetchall()
    return [LedgerCharge(key, method, amount, currency, bool(collected), asked)
            for key, method, amount, currency, collected, asked in rows]

"""A sandbox online payout provider that behaves like a real one, without the internet.

It is a separate system with its own ledger (a SQLite file of its own), so a crash or a
rollback on our side never undoes what it did, just as with a real provider. Like one, it
- accepts a payout once per idempotency key and answers a repeat with the first payout;
- sometimes times out, either before taking the payout or after (the answer is lost);
- reports each payout paid or failed some time later (failure rate configurable), both to
  a status lookup and as signed callbacks to a URL.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import random
import sqlite3
import time
import urllib.request
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterator, Sequence

from vrm_dashboard.domain.payout_rules import Rail
from vrm_dashboard.rails.base import ProviderPayment, ProviderTimeout, Transfer

_SCHEMA = """
CREATE TABLE IF NOT EXISTS payment (
    payment_id TEXT PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    amount_minor INTEGER NOT NULL,
    currency TEXT NOT NULL,
    beneficiary TEXT NOT NULL,
    status TEXT NOT NULL,
    failure_reason TEXT,
    created_at TEXT NOT NULL,
    settled_at TEXT,
    callback_sent INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS payment_due ON payment (status, created_at)"""
SIGNATURE_HEADER = "X-Sandbox-Signature"


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _patiently(step: Callable[[], object], attempts: int = 100) -> None:
    """Run a step that SQLite refuses outright (no busy wait) while another client sets the
    ledger up at the same moment: switching to WAL, creating the tables."""
    for attempt in range(attempts):
        try:
            step()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.05)


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class SandboxProvider:
    """The online rail (rails.base.OnlinePayoutRail) for vendors paid by PayPal."""

    name = Rail.PROVIDER.value
    confirms_itself = True

    def __init__(self, ledger: Path, failure_percent: int = 5, timeout_percent: int = 2,
                 settle_seconds: int = 30, rng: random.Random | None = None) -> None:
        self.ledger = Path(ledger)
        self.failure_percent = failure_percent
        self.timeout_percent = timeout_percent
        self.settle_after = timedelta(seconds=settle_seconds)
        self._rng = rng or random.Random()
        self.ledger.parent.mkdir(parents=True, exist_ok=True)
        self._connection: sqlite3.Connection | None = None
        _patiently(lambda: self._db().executescript(_SCHEMA))

    def _db(self) -> sqlite3.Connection:
        # One connection per client, as an HTTP client keeps its connection alive.
        if self._connection is None:
            connection = sqlite3.connect(self.ledger, timeout=30, isolation_level=None, check_same_thread=False)
            connection.execute("PRAGMA busy_timeout=30000")
            if connection.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                _patiently(lambda: connection.execute("PRAGMA journal_mode=WAL"))
            connection.execute("PRAGMA synchronous=NORMAL")
            self._connection = connection
        return self._connection

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _times_out(self) -> bool:
        # Half the timeouts happen before the payout is taken, half after (answer lost).
        return self._rng.random() * 200 < self.timeout_percent

    def submit(self, transfers: Sequence[Transfer]) -> dict[str, ProviderPayment | str]:
        """The transfers, paid to each vendor's payout account e-mail, in one request."""
        return self.submit_batch([(t.idempotency_key, t.amount_minor, t.currency, t.paypal_email or "")
                                  for t in transfers])

    def submit_batch(self, items: list[tuple[str, int, str, str]]) -> dict[str, ProviderPayment | str]:
        """Many payouts in one request, as payout APIs take them: (key, amount, currency,
        beneficiary) each; answers per key the payout, or why it was refused. A timeout
        hits the whole request."""
        if self._times_out():
            raise ProviderTimeout("The provider did not answer (request timed out)")
        answers: dict[str, ProviderPayment | str] = {}
        now = _now().isoformat()
        with self._transaction() as db:
            for key, amount_minor, currency, beneficiary in items:
                answers[key] = self._take(db, key, amount_minor, currency, beneficiary, now)
        if self._times_out():
            raise ProviderTimeout("The provider's answer was lost (response timed out)")
        return answers

    @staticmethod
    def _take(db: sqlite3.Connection, key: str, amount_minor: int, currency: str, beneficiary: str,
              now: str) -> ProviderPayment | str:
        """One payout of a request: the payout taken (or taken before under this key), or why not."""
        if not beneficiary or "@" not in beneficiary:
            return "The provider needs the vendor's payout account e-mail"
        if amount_minor <= 0:
            return "The provider pays positive amounts only"
        row = db.execute("SELECT payment_id, idempotency_key, amount_minor, currency, status, failure_reason "
                         "FROM payment WHERE idempotency_key = ?", (key,)).fetchone()
        if row is None:
            row = ("po_" + hashlib.sha256(key.encode()).hexdigest()[:20], key, amount_minor, currency, "accepted", None)
            db.execute("INSERT INTO payment (payment_id, idempotency_key, amount_minor, currency, beneficiary, "
                       "status, created_at) VALUES (?, ?, ?, ?, ?, 'accepted', ?)", (*row[:4], beneficiary, now))
        elif (row[2], row[3]) != (amount_minor, currency):
            return "The idempotency key was used before for a different amount"
        return ProviderPayment(*row)

    def _settle_due(self) -> None:
        due = (_now() - self.settle_after).isoformat()
        with self._transaction() as db:
            for payment_id, key in db.execute(
                "SELECT payment_id, idempotency_key FROM payment WHERE status = 'accepted' AND created_at <= ?", (due,)
            ).fetchall():
                # The same key always fails or always succeeds, so runs can be repeated.
                failed = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % 100 < self.failure_percent
                db.execute("UPDATE payment SET status = ?, failure_reason = ?, settled_at = ? WHERE payment_id = ?",
                           ("failed" if failed else "paid", "Beneficiary account closed" if failed else None,
                            _now().isoformat(), payment_id))

    def lookup(self, idempotency_key: str) -> ProviderPayment | None:
        return self.lookup_many([idempotency_key]).get(idempotency_key)

    def lookup_many(self, keys: Sequence[str]) -> dict[str, ProviderPayment]:
        self._settle_due()
        found: dict[str, ProviderPayment] = {}
        db = self._db()
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for row in db.execute("SELECT payment_id, idempotency_key, amount_minor, currency, status, "
                                  f"failure_reason FROM payment WHERE idempotency_key IN ({marks})", chunk):
                found[row[1]] = ProviderPayment(*row)
        return found

    def send_callbacks(self, url: str, secret: str, limit: int = 500) -> int:
        """POST each settled, not yet reported payout to `url`, signed with HMAC-SHA256."""
        self._settle_due()
        db = self._db()
        rows = db.execute("SELECT payment_id, idempotency_key, status, failure_reason FROM payment "
                          "WHERE status != 'accepted' AND callback_sent = 0 LIMIT ?", (limit,)).fetchall()
        sent = 0
        for payment_id, key, status, reason in rows:
            body = json.dumps({"payment_id": payment_id, "idempotency_key": key, "status": status,
                               "failure_reason": reason}).encode()
            request = urllib.request.Request(url, data=body, method="POST", headers={
                "Content-Type": "application/json", SIGNATURE_HEADER: sign(secret, body)})
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    if response.status >= 300:
                        continue
            except OSError:
                continue  # tried again on the next run, as a provider retries webhooks
            db.execute("UPDATE payment SET callback_sent = 1 WHERE payment_id = ?", (payment_id,))
            sent += 1
        return sent

    def payments(self) -> list[ProviderPayment]:
        """The whole ledger: what the provider actually paid out (for checks and tests)."""
        rows = self._db().execute("SELECT payment_id, idempotency_key, amount_minor, currency, status, "
                                  "failure_reason FROM payment ORDER BY payment_id").fetchall()
        return [ProviderPayment(*row) for row in rows]

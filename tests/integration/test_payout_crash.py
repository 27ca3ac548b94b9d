"""At most once under kill -9: each run that moves money is killed at many random points
(its own crash points, services/platform/crash_points.py, and at random moments from
outside), restarted, sometimes beside a second run, until it is done; then nothing may have
happened twice.

- The payout run: nothing paid twice, read from where money leaves (the sandbox provider's
  own ledger and the payment files in the bank outbox), not from our database.
- The scheduler's collection run: no customer invoice charged twice, read from the
  collector's own ledger (tests/ledger_collector.py).
- A bank statement's import, retried after each kill until it is in: recorded once, each
  transfer it confirms settled once, its return applied once.
"""
from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlmodel import Session, select

from tests.helpers import DUE_DAY, SYSTEM, use_database
from tests.ledger_collector import charges
from tests.payout_book import approved_book, provider_of, references_in_payment_files, use_payout_environment
from tests.payout_crash_runner import ALREADY_IMPORTED
from vrm_dashboard.config import PROJECT_ROOT
from vrm_dashboard.db import tenancy
from vrm_dashboard.db.models import (
    AuditEntry,
    BankStatement,
    CollectionAttempt,
    Invoice,
    InvoiceFlag,
    Notification,
    PaymentTransaction,
    Payout,
    StatementLine,
    stored_id,
)
from vrm_dashboard.domain.collection_rules import MAX_ATTEMPTS
from vrm_dashboard.rails.sandbox_provider import SandboxProvider
from vrm_dashboard.services.identity.access_control import install_catalogue
from vrm_dashboard.services.payouts.execution import execute_payouts
from vrm_dashboard.services.platform import settings as app_settings
from vrm_dashboard.services.receivables import organizations, records as receivables

PAY_DAY = DUE_DAY.isoformat()
MIN_KILLS = 50
# Roughly how many crash points a run passes on this book; drawing a little beyond it
# lets some runs finish.
CRASH_POINTS = 18


class Runner:
    """The forking run starter (tests/payout_crash_runner.py), one per test."""

    def __init__(self, env: dict) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "tests.payout_crash_runner"], cwd=PROJECT_ROOT,
                                        env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def _ask(self, line: str) -> int:
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        return int(self.process.stdout.readline())

    def start(self, job: str, crash_at: int | None, root: Path, *args: str) -> int:
        return self._ask(" ".join(["start", job, str(crash_at or "-"), str(root), *args]))

    def wait(self, pid: int) -> int:
        return self._ask(f"wait {pid}")

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


def _settled(url: str) -> bool:
    engine = create_engine(url)
    with engine.connect() as conn:
        waiting = conn.execute(text(
            "SELECT COUNT(*) FROM payout WHERE status IN ('awaiting_payout', 'payout_approval')")).scalar()
        open_ = conn.execute(text(
            "SELECT COUNT(*) FROM payment_transaction WHERE status = 'new' OR "
            "(status = 'processing' AND (submitted_at IS NULL OR rail = 'provider'))")).scalar()
        undelivered = conn.execute(text("SELECT COUNT(*) FROM payment_file WHERE delivered_at IS NULL")).scalar()
        # Time passes between runs: retries that were waiting for their backoff are due.
        conn.execute(text("UPDATE payment_transaction SET next_attempt_at = NULL"))
        conn.commit()
    engine.dispose()
    return waiting == 0 and open_ == 0 and undelivered == 0


def _check_paid_exactly_once(url: str, root: Path) -> dict:
    engine = create_engine(url)
    with Session(engine) as session:
        transactions = {t.id: t for t in session.exec(select(PaymentTransaction)).all()}
        payouts = session.exec(select(Payout)).all()
    engine.dispose()
    by_key = {t.idempotency_key: t for t in transactions.values()}
    ledger = SandboxProvider(root / "provider.db").payments()
    # Every payment the provider made belongs to exactly one of our transactions, for its amount.
    for payment in ledger:
        assert payment.idempotency_key in by_key, f"provider paid an unknown key {payment.idempotency_key}"
        assert payment.amount_minor == by_key[payment.idempotency_key].target_amount_minor
    file_refs = references_in_payment_files(root / "outbox")
    assert len(file_refs) == len(set(file_refs)), "a transfer appears in two payment files"
    paid_by_transaction: dict[int, int] = {}
    for payment in ledger:
        paid_by_transaction[by_key[payment.idempotency_key].id] = 1
    ref_to_id = {t.reference: t.id for t in transactions.values()}
    for ref in file_refs:
        paid_by_transaction[ref_to_id[ref]] = paid_by_transaction.get(ref_to_id[ref], 0) + 1
    outcomes = {"paid": 0, "failed": 0, "in_review": 0, "processing": 0}
    for payout in payouts:
        assert payout.status in outcomes, f"payout {payout.id} left in {payout.status}"
        outcomes[payout.status] += 1
        sent = paid_by_transaction.get(payout.transaction_id, 0)
        assert sent <= 1, f"payout {payout.id} was sent {sent} times"
        transaction = transactions[payout.transaction_id]
        if transaction.rail in ("sepa", "ach"):
            assert sent == 1, f"payout {payout.id} is in no payment file"
        if payout.status == "paid":
            assert sent == 1 or transaction.rail == "manual"
    for t in transactions.values():
        covered = sum(p.amount_minor for p in payouts if p.transaction_id == t.id)
        assert covered == t.source_amount_minor, f"transaction {t.id} lost or gained payouts"
    return outcomes


def _run_until_settled(runner: Runner, job: str, root: Path, rng: random.Random, first_crash_at: int,
                       settled: Callable[[], bool], *args: str, finished: tuple[int, ...] = (0,),
                       kill_within: float = 0.4) -> tuple[int, int]:
    """Start `job` again and again in `root` until a run ends well and `settled()` holds:
    (kills, of which from outside). A scenario's first run dies at `first_crash_at`; later
    runs die at random points or from outside (within `kill_within` seconds of its start),
    a quarter of them beside a second run. `finished` are the exit codes of runs that ended well."""
    kills = outside_kills = 0
    for _round in range(60):
        from_outside = _round > 0 and rng.random() < 0.25
        if _round == 0:
            crash_at: int | None = first_crash_at
        else:
            crash_at = None if from_outside else rng.randint(1, 8)
        pids = [runner.start(job, crash_at, root, *args)]
        if rng.random() < 0.25:
            pids.append(runner.start(job, None, root, *args))  # a second scheduler at the same time
        if from_outside:
            time.sleep(rng.uniform(0.0, kill_within))
            try:
                os.kill(pids[0], signal.SIGKILL)
            except ProcessLookupError:
                pass
        codes = [runner.wait(pid) for pid in pids]
        assert all(code in (*finished, -9) for code in codes), codes
        killed = codes[0] == -9
        kills += killed
        outside_kills += killed and from_outside
        if not killed and settled():
            return kills, outside_kills
    pytest.fail(f"{job} in {root.name} did not settle")


def _start_book(sqlite_template: Path, path: Path) -> Engine:
    shutil.copy(sqlite_template, path)
    engine = use_database(f"sqlite:///{path}")
    with Session(engine) as session:
        install_catalogue(session)
        session.commit()
    return engine


def _scenario(start: Path, root: Path) -> str:
    root.mkdir()
    shutil.copy(start, root / "vrm.db")
    return f"sqlite:///{root / 'vrm.db'}"


def _points(crash_log: Path) -> set[str]:
    return set(crash_log.read_text().split()) if crash_log.exists() else set()


def test_kill_9_at_random_points_never_pays_twice(monkeypatch, sqlite_template, tmp_path):
    start = tmp_path / "start.db"
    engine = _start_book(sqlite_template, start)
    use_payout_environment(monkeypatch, tmp_path / "unused")
    with Session(engine) as session:
        approved_book(session, per_vendor=3)
    engine.dispose()

    rng = random.Random(20261122)
    kills = outside_kills = scenarios = 0
    crash_log = tmp_path / "crash-points.log"
    runner = Runner({**os.environ, "VRM_CRASH_LOG": str(crash_log), "VRM_PAYOUT_CLAIM_LEASE_SECONDS": "0",
                     "VRM_SANDBOX_SETTLE_SECONDS": "0", "VRM_SANDBOX_FAILURE_PERCENT": "10",
                     "VRM_SANDBOX_TIMEOUT_PERCENT": "20"})
    try:
        while kills < MIN_KILLS:
            scenarios += 1
            root = tmp_path / f"scenario-{scenarios}"
            url = _scenario(start, root)
            # A scenario's first run dies at each of the first points in turn, so every step
            # of a fresh run is covered.
            killed, from_outside = _run_until_settled(runner, "payouts", root, rng,
                                                      (scenarios - 1) % CRASH_POINTS + 1, lambda: _settled(url))
            kills += killed
            outside_kills += from_outside
            _check_paid_exactly_once(url, root)
    finally:
        runner.close()
    points = _points(crash_log)
    print(f"{kills} kills ({outside_kills} from outside) over {scenarios} scenarios at points {sorted(points)}")
    assert kills >= MIN_KILLS
    assert {"batched", "provider_claimed", "provider_called", "file_written"} <= points


# The collection run -------------------------------------------------------------------------

COLLECTION_KILLS = 25
# A fresh collection run passes: claimed, one charge per invoice, settled.
COLLECTION_POINTS = 12
# Card, direct debit (a few declined: .51 and .52 are the sandbox's test amounts, and a share
# at random), and a customer who pays by wire (never charged).
CARD, DEBIT, WIRE = [10_000, 10_051, 12_345, 13_000, 9_999], [20_000, 20_052, 21_000], [30_000]


def _receivables_book(session: Session) -> None:
    """Overdue customer invoices of three organizations: one pays by card, one by direct
    debit, one by wire."""
    distributor = organizations.create_organization(session, SYSTEM, "Northwind", "distributor", "DE")
    card = organizations.create_organization(session, SYSTEM, "Contoso", "direct_customer", "DE", distributor.id)
    wire = organizations.create_organization(session, SYSTEM, "Fabrikam", "seller", "US", distributor.id)
    debit = organizations.create_organization(session, SYSTEM, "Tailspin", "end_customer", "US", wire.id)
    card.collection_method, debit.collection_method = "credit_card", "ach"
    session.add_all([card, debit])
    session.commit()
    issued = date.today() - timedelta(days=120)  # due long before the scheduler's yesterday
    for org, amounts in ((card, CARD), (debit, DEBIT), (wire, WIRE)):
        for cents in amounts:
            receivables.bill(session, SYSTEM, stored_id(org), "EUR",
                             [receivables.ChargeLine("Licences", Decimal(1), cents)], issued)
    app_settings.put(session, SYSTEM, app_settings.COLLECTOR_FAILURE_PERCENT, 30)
    session.commit()


def _collection_settled(url: str) -> bool:
    engine = create_engine(url)
    with engine.connect() as conn:
        unfinished = conn.execute(text(
            "SELECT COUNT(*) FROM collection_attempt WHERE outcome = 'pending'")).scalar()
        collectable = conn.execute(text(
            "SELECT COUNT(*) FROM invoice i WHERE i.organization_id IS NOT NULL AND (i.status IN "
            "('approved', 'processing') OR (i.status = 'failed' AND (SELECT COUNT(*) FROM collection_attempt a "
            f"WHERE a.invoice_id = i.id) < {MAX_ATTEMPTS}))")).scalar()
        # Time passes between runs: failed charges are due to be tried again.
        conn.execute(text("UPDATE collection_attempt SET attempted_at = '2000-01-01 00:00:00.000000'"))
        conn.commit()
    engine.dispose()
    return unfinished == 0 and collectable == 0


def _check_collected_at_most_once(url: str, root: Path) -> dict[str, int]:
    engine = create_engine(url)
    with Session(engine) as session:
        invoices = {i.id: i for i in session.exec(select(Invoice).where(Invoice.organization_id.is_not(None))).all()}
        attempts = session.exec(select(CollectionAttempt)).all()
        settled = Counter(int(e.object_id) for e in session.exec(
            select(AuditEntry).where(AuditEntry.action == "receivable.collected")).all())
        flagged = session.exec(select(InvoiceFlag).where(InvoiceFlag.flag == "paid_twice")).all()
    engine.dispose()
    by_key = {a.idempotency_key: a for a in attempts}
    ledger = charges(root / "collector.db")
    charged = {c.idempotency_key: c for c in ledger}
    # Every charge the collector holds is one of our attempts, for its amount.
    for c in ledger:
        assert c.idempotency_key in by_key, f"the collector charged an unknown key {c.idempotency_key}"
        attempt = by_key[c.idempotency_key]
        assert (c.amount_minor, c.currency, c.method) == (attempt.amount_minor, attempt.currency, attempt.method)
    collected = Counter(by_key[c.idempotency_key].invoice_id for c in ledger if c.collected)
    recorded = Counter(a.invoice_id for a in attempts if a.outcome == "collected")
    outcomes: Counter[str] = Counter()
    for invoice in invoices.values():
        assert collected[invoice.id] <= 1, f"invoice {invoice.number} was charged {collected[invoice.id]} times"
        assert recorded[invoice.id] <= 1, f"invoice {invoice.number} has {recorded[invoice.id]} collected attempts"
        assert invoice.status in ("paid", "failed"), f"invoice {invoice.number} left {invoice.status}"
        assert (invoice.status == "paid") == (collected[invoice.id] == 1), invoice.number
        outcomes[invoice.status] += 1
    for attempt in attempts:
        # Each attempt asked the collector, recorded its answer and moved its invoice, once.
        assert attempt.outcome != "pending"
        assert attempt.idempotency_key in charged, f"attempt {attempt.idempotency_key} settled unasked"
        assert (attempt.outcome == "collected") == charged[attempt.idempotency_key].collected
    assert settled == Counter(a.invoice_id for a in attempts), "an attempt settled its invoice twice (or never)"
    assert sum(c.amount_minor for c in ledger if c.collected) == sum(
        i.total_minor for i in invoices.values() if i.status == "paid")
    assert flagged == [], "an invoice charged once is flagged as paid twice"
    return dict(outcomes)


def test_kill_9_in_the_collection_run_never_charges_an_invoice_twice(sqlite_template, tmp_path):
    start = tmp_path / "start.db"
    engine = _start_book(sqlite_template, start)
    with Session(engine) as session:
        _receivables_book(session)
    engine.dispose()

    rng = random.Random(20261123)
    kills = outside_kills = scenarios = 0
    outcomes: Counter[str] = Counter()
    crash_log = tmp_path / "crash-points.log"
    runner = Runner({**os.environ, "VRM_CRASH_LOG": str(crash_log)})
    try:
        while kills < COLLECTION_KILLS:
            scenarios += 1
            root = tmp_path / f"scenario-{scenarios}"
            url = _scenario(start, root)
            killed, from_outside = _run_until_settled(runner, "collect", root, rng,
                                                      (scenarios - 1) % COLLECTION_POINTS + 1,
                                                      lambda: _collection_settled(url))
            kills += killed
            outside_kills += from_outside
            outcomes.update(_check_collected_at_most_once(url, root))
    finally:
        runner.close()
    points = _points(crash_log)
    print(f"{kills} kills ({outside_kills} from outside) over {scenarios} scenarios at points {sorted(points)}; "
          f"invoices {dict(outcomes)}")
    assert kills >= COLLECTION_KILLS
    assert {"collection_claimed", "collection_charged", "collection_settled"} <= points
    assert outcomes["paid"] and outcomes["failed"]


# A bank statement's import ---------------------------------------------------------------

STATEMENT_KILLS = 25


def _camt(entries: list[str]) -> bytes:
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\">"
            "<BkToCstmrStmt><GrpHdr><MsgId>STMT</MsgId><CreDtTm>2026-12-02T08:00:00</CreDtTm></GrpHdr><Stmt><Id>1</Id>"
            "<Acct><Id><IBAN>DE89370400440532013000</IBAN></Id></Acct>" + "".join(entries)
            + "</Stmt></BkToCstmrStmt></Document>").encode()


def _line(minor: int, currency: str, direction: str, reference: str, day: str, return_code: str = "") -> str:
    returned = f"<RtrInf><Rsn><Cd>{return_code}</Cd></Rsn></RtrInf>" if return_code else ""
    party = "Cdtr" if direction == "DBIT" else "Dbtr"
    return (f"<Ntry><Amt Ccy=\"{currency}\">{minor // 100}.{minor % 100:02d}</Amt><CdtDbtInd>{direction}</CdtDbtInd>"
            f"<Sts>BOOK</Sts><BookgDt><Dt>{day}</Dt></BookgDt><NtryDtls><TxDtls><Refs><EndToEndId>{reference}"
            f"</EndToEndId></Refs><RltdPties><{party}><Nm>Someone</Nm></{party}></RltdPties>{returned}</TxDtls>"
            "</NtryDtls></Ntry>")


def _statements(session: Session, folder: Path) -> tuple[list[Path], dict[str, tuple[int, str]], int]:
    """Two days' statements of the installation's account: the first confirms the file and
    manual transfers and a customer's payment, the second repeats a line and returns the ACH
    transfer."""
    transfers = {t.rail: t for t in session.exec(select(PaymentTransaction)).all()}
    # A customer of the installation's own organization, whose account the statements are.
    org = organizations.create_organization(session, SYSTEM, "Customer AG", "direct_customer", "DE",
                                            tenancy.root_organization_id(session))
    receivable = receivables.bill(session, SYSTEM, stored_id(org), "EUR",
                                  [receivables.ChargeLine("Licences", Decimal(1), 150_000)], date(2026, 11, 1),
                                  number="AR-2026-0042")
    session.commit()
    sepa, ach, manual = transfers["sepa"], transfers["ach"], transfers["manual"]
    sepa_line = _line(sepa.target_amount_minor, "EUR", "DBIT", sepa.reference, "2026-12-02")
    days = [
        [sepa_line, _line(ach.target_amount_minor, "USD", "DBIT", ach.reference, "2026-12-02"),
         _line(manual.target_amount_minor, "EUR", "DBIT", "NOTPROVIDED", "2026-12-02"),  # matched by amount
         _line(150_000, "EUR", "CRDT", "AR-2026-0042", "2026-12-02"), _line(9_900, "EUR", "DBIT", "FEE", "2026-12-02")],
        [sepa_line, _line(ach.target_amount_minor, "USD", "CRDT", ach.reference, "2026-12-04", "AC04")],
    ]
    files = []
    for n, lines in enumerate(days, start=1):
        files.append(folder / f"day-{n}.xml")
        files[-1].write_bytes(_camt(lines))
    return files, {rail: (stored_id(t), t.reference) for rail, t in transfers.items()}, stored_id(receivable)


def _statement_in(url: str, file: Path) -> bool:
    engine = create_engine(url)
    with engine.connect() as conn:
        found = conn.execute(text("SELECT COUNT(*) FROM bank_statement s JOIN stored_document d ON d.id = "
                                  "s.document_id WHERE d.sha256 = :digest"),
                             {"digest": hashlib.sha256(file.read_bytes()).hexdigest()}).scalar()
    engine.dispose()
    return bool(found)


def _check_settled_once(url: str, transfers: dict[str, tuple[int, str]], receivable: int) -> None:
    engine = create_engine(url)
    with Session(engine) as session:
        statements = session.exec(select(BankStatement)).all()
        lines = session.exec(select(StatementLine).order_by(StatementLine.statement_id, StatementLine.line_no)).all()
        audited = Counter((e.action, e.object_id) for e in session.exec(select(AuditEntry)).all())
        status = {t.rail: t.status for t in session.exec(select(PaymentTransaction)).all()}
        payouts = {rail: {p.status for p in session.exec(select(Payout).where(Payout.transaction_id == t)).all()}
                   for rail, (t, _reference) in transfers.items()}
        invoices = {rail: {i.status for i in session.exec(select(Invoice).join(Payout, Payout.invoice_id == Invoice.id)
                                                          .where(Payout.transaction_id == t)).all()}
                    for rail, (t, _reference) in transfers.items()}
        paid_in = session.get(Invoice, receivable)
        told = Counter(n.user_id for n in session.exec(select(Notification).where(
            Notification.subject == f"Transfer {transfers['ach'][1]} returned")).all())
    engine.dispose()
    # Each statement once per organization, every line of it once.
    assert Counter((s.owner_id, s.document_id) for s in statements) == Counter(
        {(s.owner_id, s.document_id): 1 for s in statements}) and len(statements) == 2
    assert [(line.statement_id, line.outcome) for line in lines] == [
        (statements[0].id, "matched"), (statements[0].id, "matched"), (statements[0].id, "matched"),
        (statements[0].id, "pay_in"), (statements[0].id, "unmatched"),
        (statements[1].id, "duplicate"), (statements[1].id, "returned")]
    assert audited["bank_statement.import", str(statements[0].id)] == 1
    assert audited["bank_statement.import", str(statements[1].id)] == 1
    # Each confirmed transfer settled once, its payouts and invoices with it; the return once.
    for rail in ("sepa", "ach", "manual"):
        assert audited["payment_transaction.paid", str(transfers[rail][0])] == 1, rail
    assert (status["sepa"], payouts["sepa"], invoices["sepa"]) == ("paid", {"paid"}, {"paid"})
    assert (status["manual"], payouts["manual"], invoices["manual"]) == ("paid", {"paid"}, {"paid"})
    assert (status["ach"], payouts["ach"], invoices["ach"]) == ("failed", {"failed"}, {"failed"})
    assert audited["payment_transaction.failed", str(transfers["ach"][0])] == 1
    assert told and set(told.values()) == {1}, "the payout team is told of the return once"
    assert (paid_in.status, paid_in.payment_method) == ("paid", "wire")
    assert audited["invoice.paid_by_customer", str(receivable)] == 1


def test_kill_9_in_a_statement_import_settles_each_transfer_once(monkeypatch, sqlite_template, tmp_path):
    start = tmp_path / "start.db"
    engine = _start_book(sqlite_template, start)
    use_payout_environment(monkeypatch, tmp_path / "sent")
    with Session(engine) as session:
        approved_book(session, per_vendor=2)
        execute_payouts(session, today=DUE_DAY, provider=provider_of(tmp_path / "sent"))
        session.commit()
        files, transfers, receivable = _statements(session, tmp_path)
    engine.dispose()
    # Points of each import: read, one per line, imported (before the commit).
    points_of = {file: len(_camt_lines(file)) + 2 for file in files}

    rng = random.Random(20261124)
    kills = outside_kills = scenarios = 0
    crash_log = tmp_path / "crash-points.log"
    runner = Runner({**os.environ, "VRM_CRASH_LOG": str(crash_log)})
    try:
        while kills < STATEMENT_KILLS:
            scenarios += 1
            root = tmp_path / f"scenario-{scenarios}"
            url = _scenario(start, root)
            for file in files:
                # The same file imported again after each kill, until it is in.
                killed, from_outside = _run_until_settled(
                    runner, "statement", root, rng, (scenarios - 1) % points_of[file] + 1,
                    lambda: _statement_in(url, file), str(file), finished=(0, ALREADY_IMPORTED),
                    kill_within=0.1)  # an import takes a few tens of milliseconds
                kills += killed
                outside_kills += from_outside
            _check_settled_once(url, transfers, receivable)
    finally:
        runner.close()
    points = _points(crash_log)
    print(f"{kills} kills ({outside_kills} from outside) over {scenarios} scenarios at points {sorted(points)}")
    assert kills >= STATEMENT_KILLS
    assert {"statement_read", "statement_line_reconciled", "statement_imported"} <= points


def _camt_lines(file: Path) -> list[str]:
    return file.read_text().split("<Ntry>")[1:]

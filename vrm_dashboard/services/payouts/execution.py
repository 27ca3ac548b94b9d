"""Paying cleared payouts through their rails, exactly once.

The scheduler job runs these steps; each ends in a commit, so a crash (kill -9 at any
point) loses at most the step in flight, and the next run picks up from the database:

1. batch: cleared payouts due today become one transaction per vendor, currency and rail,
   with an idempotency key, converted at the day's stored rate. Payout and invoice move to
   Processing in the same commit.
2. submit: a file rail claims its new transactions and stores the file in the same commit,
   so a file either exists with its transfers or not at all. An online rail (the provider)
   is called after the claim is committed, with the idempotency keys; it repeats its first
   answer for a key it has seen, so a resubmission cannot pay twice. Any other rail's
   transfers wait for a person.
3. deliver: stored files are handed to their rail (written to the bank outbox under their
   own name; again after a crash, same name and bytes: the bank sees one file).
4. recover: an online claim left in flight by a dead run is looked up at its rail:
   taken means submitted; not taken means tried again with the same key, or held for a
   person once the provider's idempotency window has passed.
5. confirm: a rail that confirms itself (poll, or the provider's signed callback) settles
   Paid or Failed.

The rails are the protocols of rails.base, chosen in rails.registry: the steps depend on
what a rail is (file, online, or a person's), never on which rail it is.

Two runs at once are safe: every move is a conditional UPDATE on the status it expects,
and batching holds a lock (SQLite's write lock, a PostgreSQL advisory lock).

The scheduler's run is the system's and pays every organization's payouts; a person's run
(`run_now`) pays only their organization's. Reads go through the session (its scoping hook);
the set-based writes run on the connection, past the hook, so they either state the scope or
act only on ids those scoped reads returned. A payment file carries one organization's
transfers: it is that organization's instruction to its bank.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, String, and_, bindparam, case, cast, func, insert, literal, or_, select, text, update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from vrm_dashboard.config import settings
from vrm_dashboard.db import tenancy
from vrm_dashboard.db.models import (
    Invoice,
    PaymentFile,
    PaymentTransaction,
    Payout,
    StoredDocument,
    Vendor,
    stored_id,
    utcnow,
)
from vrm_dashboard.db.models.payouts import PayoutStatus, TransactionStatus
from vrm_dashboard.db.row_locks import lock_rows
from vrm_dashboard.domain.invoice_status import InvoiceStatus
from vrm_dashboard.domain.money import MoneyError
from vrm_dashboard.domain.payout_rules import MAX_ATTEMPTS, Rail, next_attempt_after
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.domain.vendor_rules import ActivityStatus
from vrm_dashboard.rails import registry
from vrm_dashboard.rails.base import (
    FilePayoutRail,
    OnlinePayoutRail,
    PayerAccount,
    PaymentFileContent,
    PayoutRail,
    ProviderTimeout,
    RailError,
    Transfer,
)
from vrm_dashboard.rails.sandbox_provider import sign
from vrm_dashboard.services.invoices import moves as invoice_moves
from vrm_dashboard.services.payouts import fx_rates, moves as payout_moves
from vrm_dashboard.services.payouts.bank_accounts import (
    ACCOUNT_COLUMNS as _ACCOUNT_COLUMNS,
    accounts as _accounts,
    bank_fingerprint,
)
from vrm_dashboard.services.payouts.payer import missing_account, payer_account
from vrm_dashboard.services.payouts.settlement import settle_failed, settle_paid, stored_ids
from vrm_dashboard.services.platform import audit, crash_points, documents, settings as app_settings
from vrm_dashboard.services.platform.actors import Actor, require
from vrm_dashboard.services.platform.job_runs import JobResult

T = TransactionStatus
JOB = Actor.system("execute_payouts")
FILE_MAX_TRANSFERS = 10_000
PROVIDER_CHUNK = 1_000  # payouts per online request
# A provider remembers an idempotency key this long; after that a resubmission could pay
# again, so an unresolved claim goes to a person instead.
PROVIDER_IDEMPOTENCY_WINDOW = timedelta(hours=24)
_BATCH_LOCK = 0x5652_4D50  # "VRMP"


@dataclass
class RunReport:
    batched: int = 0
    submitted: int = 0
    files: int = 0
    delivered: int = 0
    recovered: int = 0
    paid: int = 0
    failed: int = 0
    in_review: int = 0
    retrying: int = 0
    problems: int = 0

    def result(self) -> JobResult:
        detail = ", ".join(f"{k} {v}" for k, v in vars(self).items() if v)
        return JobResult(rows=self.batched + self.submitted + self.paid + self.failed, errors=self.problems,
                         detail=detail or "nothing due")


def reference_of(transaction_id: int) -> str:
    """Our end-to-end reference: fits SEPA (35) and NACHA's individual id (15) fields."""
    return f"VRM{transaction_id:012d}"


def _reference_sql(session: Session) -> ColumnElement[str]:
    """reference_of(id) computed by the database, for thousands of new transfers at once."""
    digits = cast(PaymentTransaction.id, String)
    if session.get_bind().dialect.name == "postgresql":
        return literal("VRM") + func.lpad(digits, 12, "0")
    return literal("VRM") + func.substr(literal("000000000000") + digits, -12, 12)


def execute_payouts(session: Session, today: date | None = None, provider: OnlinePayoutRail | None = None,
                    rails: Mapping[str, PayoutRail] | None = None) -> JobResult:
    """The scheduler job: every step of a payout run, each committed on its own. `rails`
    (by rail id) defaults to the configured ones (rails.registry); `provider` puts an online
    rail in the place of the configured one of its name."""
    today = today or date.today()
    if rails is None:
        rails = registry.payout_rails(*([provider] if provider is not None else []))
    elif provider is not None:
        rails = {**rails, provider.name: provider}
    files = [rail for rail in rails.values() if isinstance(rail, FilePayoutRail)]
    online = [rail for rail in rails.values() if isinstance(rail, OnlinePayoutRail)]
    by_people = [rail for rail in rails.values() if not isinstance(rail, (FilePayoutRail, OnlinePayoutRail))]
    worker = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
    report = RunReport()
    batch_cleared_payouts(session, today, report)
    for online_rail in online:
        recover_interrupted(session, online_rail, report)
    for file_rail in files:
        submit_file_rail(session, worker, file_rail, report)
    for online_rail in online:
        submit_online(session, worker, online_rail, report)
    for people_rail in by_people:
        hand_to_people(session, worker, people_rail, report)
    deliver_files(session, rails, report)
    for online_rail in online:
        if online_rail.confirms_itself:
            confirm_online(session, online_rail, report)
    return report.result()


def _cooled_off(session: Session, now: datetime) -> ColumnElement[bool]:
    """Vendors whose bank details have not changed within their payer's cooling-off period
    (each organization's own, or the installation's)."""
    installation, own = app_settings.by_organization(session, app_settings.COOLING_OFF_HOURS)

    def since(hours: Any) -> ColumnElement[bool]:
        return col(Vendor.bank_details_changed_at) <= now - timedelta(hours=int(hours))

    return or_(col(Vendor.bank_details_changed_at).is_(None),
               case(*((col(Vendor.owner_id) == owner, since(hours)) for owner, hours in own.items()),
                    else_=since(installation)) if own else since(installation))


def _cleared(session: Session, today: date) -> ColumnElement[bool]:
    now = utcnow()
    vendor_ok = select(col(Vendor.id)).where(
        col(Vendor.activity_status) == ActivityStatus.ACTIVE.value, _cooled_off(session, now))
    # Its invoice is checked again too: one archived, sent back or re-issued since is not paid.
    invoice_owed = select(col(Invoice.id)).where(col(Invoice.status) == InvoiceStatus.APPROVED.value)
    return and_(col(Payout.status) == PayoutStatus.AWAITING_PAYOUT.value, col(Payout.transaction_id).is_(None),
                col(Payout.pay_date) <= today, col(Payout.vendor_id).in_(vendor_ok),
                col(Payout.invoice_id).in_(invoice_owed), tenancy.owned(Payout, session))


def _lock_batching(session: Session) -> None:
    # SQLite: the unit of work already holds the write lock (BEGIN IMMEDIATE).
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _BATCH_LOCK})


def batch_cleared_payouts(session: Session, today: date, report: RunReport) -> None:
    _lock_batching(session)
    cleared = _cleared(session, today)
    # What a transfer is built from holds until it is: its payouts, their invoices (an archive
    # meanwhile voids the payout) and their vendors (a change of account meanwhile).
    lock_rows(session, col(Payout.id), cleared)
    lock_rows(session, col(Invoice.id), col(Invoice.id).in_(select(col(Payout.invoice_id)).where(cleared)))
    lock_rows(session, col(Vendor.id), col(Vendor.id).in_(select(col(Payout.vendor_id)).where(cleared)))
    groups = session.execute(
        select(col(Payout.vendor_id), col(Payout.currency), col(Payout.rail), col(Vendor.currency),
               func.sum(Payout.amount_minor), func.count())
        .join(Vendor, col(Vendor.id) == Payout.vendor_id).where(cleared)
        .group_by(col(Payout.vendor_id), col(Payout.currency), col(Payout.rail), col(Vendor.currency))
    ).all()
    if not groups:
        session.commit()
        return
    run = uuid.uuid4().hex[:12]
    now = utcnow()
    # The payout account each transfer is cleared for: it is paid to that one only (_claim).
    cleared_accounts = _accounts(session, {vendor_id for vendor_id, *_rest in groups})
    rows, unconvertible = [], []
    for vendor_id, currency, rail, target, total, count in groups:
        try:
            conversion = fx_rates.convert(session, int(total), currency, target, today)
        except MoneyError as exc:
            unconvertible.append({"v": vendor_id, "c": currency, "reason": str(exc)[:255]})
            continue
        except ArithmeticError as exc:  # decimal's InvalidOperation, DivisionByZero, Overflow: refuse, never abort
            unconvertible.append({"v": vendor_id, "c": currency, "reason": (
                f"{currency} cannot be converted to {target} on {today} ({type(exc).__name__}): "
                "check the exchange rates")[:255]})
            continue
        rows.append({
            "vendor_id": vendor_id, "rail": rail, "status": T.NEW.value,
            "idempotency_key": f"{run}-{vendor_id}-{currency}-{rail}", "payout_count": int(count),
            "source_currency": currency, "source_amount_minor": int(total), "target_currency": target,
            "target_amount_minor": conversion.target_minor,
            "rate": None if currency == target else conversion.rate,
            "rate_source": None if currency == target else conversion.source_label[:60],
            "attempts": 0, "created_at": now, "updated_at": now, "bank_fingerprint": cleared_accounts[vendor_id],
        })
    conn = session.connection()
    if unconvertible:
        conn.execute(update(Payout).where(cleared, col(Payout.vendor_id) == bindparam("v"),
                                          col(Payout.currency) == bindparam("c"))
                     .values(failure_reason=bindparam("reason")), unconvertible)
        report.problems += len(unconvertible)
    if rows:
        conn.execute(insert(PaymentTransaction), rows)
        ours = col(PaymentTransaction.idempotency_key).like(f"{run}-%")
        conn.execute(update(PaymentTransaction).where(ours).values(reference=_reference_sql(session)))
        ids = list(conn.execute(select(col(PaymentTransaction.id)).where(ours)).scalars())
        key = (literal(f"{run}-") + cast(Payout.vendor_id, String) + literal("-") + col(Payout.currency)
               + literal("-") + col(Payout.rail))
        match = select(col(PaymentTransaction.id)).where(
            col(PaymentTransaction.idempotency_key) == key).scalar_subquery()
        payout_moves.move_payouts(
            session, JOB, and_(cleared, select(col(PaymentTransaction.id)).where(
                col(PaymentTransaction.idempotency_key) == key).exists()),
            PayoutStatus.PROCESSING, action="payout.batched", values={"transaction_id": match, "failure_reason": None})
        invoice_moves.move_invoices(session, JOB, col(Invoice.id).in_(select(col(Payout.invoice_id)).where(
            col(Payout.transaction_id).in_(select(col(PaymentTransaction.id)).where(ours)))), InvoiceStatus.PROCESSING,
            action="invoice.payment_started")
        audit.record_where(session, JOB, "payment_transaction.created", "payment_transaction", PaymentTransaction.id,
                           ours, None, {"status": T.NEW.value})
        report.batched += len(ids)
    session.commit()
    crash_points.reached("batched")


def _owned_transfers(session: Session, ids: list[int], today: date) -> list[tuple[int, Transfer]]:
    """The transfers of these transactions, each with the organization that pays it (its
    vendor's owner)."""
    t, v = PaymentTransaction, Vendor
    rows = session.execute(
        select(col(t.id), col(t.reference), col(t.idempotency_key), col(t.target_amount_minor),
               col(t.target_currency), col(v.vendor_code), col(v.legal_name), col(v.name), col(v.iban), col(v.bic),
               col(v.account_number), col(v.routing_number), col(v.paypal_email), col(v.owner_id))
        .join(v, col(v.id) == t.vendor_id).where(col(t.id).in_(ids)).order_by(col(t.id))
    ).all()
    return [(owner, Transfer(
        transaction_id=tid, reference=reference or reference_of(tid), idempotency_key=key or "",
        vendor_code=code, beneficiary=legal_name or name, amount_minor=amount, currency=currency,
        execution_date=today, description=f"{reference} {code} payout", iban=iban, bic=bic,
        account_number=account, routing_number=routing, paypal_email=paypal,
    )) for tid, reference, key, amount, currency, code, legal_name, name, iban, bic, account, routing, paypal, owner
        in rows]


def _transfers(session: Session, ids: list[int], today: date) -> list[Transfer]:
    return [transfer for _owner, transfer in _owned_transfers(session, ids, today)]


def _hold_changed_accounts(session: Session, claimed: list[int]) -> list[int]:
    """The claimed transfers whose vendor's payout account is still the one they were cleared
    for. The others are held, however far they got: one never handed to a rail fails (its
    payouts wait for the cooling-off and a person's retry), one a provider may have taken
    already goes to a person (In Review)."""
    t = PaymentTransaction
    rows = session.execute(select(col(t.id), col(t.bank_fingerprint), col(t.attempts), *_ACCOUNT_COLUMNS)
                           .join(Vendor, col(Vendor.id) == t.vendor_id).where(col(t.id).in_(claimed))).all()
    changed = {tid: attempts for tid, cleared, attempts, *details in rows
               if cleared is not None and cleared != bank_fingerprint(*details)}
    if not changed:
        return claimed
    reason = "The vendor's bank details changed after this payment was cleared"
    unsent = [tid for tid, attempts in changed.items() if attempts <= 1]
    maybe_sent = [tid for tid, attempts in changed.items() if attempts > 1]
    settle_failed(session, JOB, unsent, f"{reason}: retry it after the cooling-off, once the change is checked",
                  from_statuses=(T.PROCESSING.value,))
    settle_failed(session, JOB, maybe_sent, f"{reason}: check with the provider whether it paid the old account",
                  from_statuses=(T.PROCESSING.value,), status=T.IN_REVIEW.value)
    return [tid for tid in claimed if tid not in changed]


def _claim(session: Session, worker: str, ids: list[int]) -> list[int]:
    """Take these new transactions for this run; returns the ones it got (and may pay)."""
    return _hold_changed_accounts(session, _take(session, worker, ids))


def _vendor_active() -> ColumnElement[bool]:
    # A vendor put on hold or deactivated since its transfer was made is not paid: it waits.
    return col(PaymentTransaction.vendor_id).in_(select(col(Vendor.id)).where(
        col(Vendor.activity_status) == ActivityStatus.ACTIVE.value))


def _take(session: Session, worker: str, ids: list[int]) -> list[int]:
    now = utcnow()
    return payout_moves.move_transfers(
        session, JOB, and_(col(PaymentTransaction.id).in_(ids), col(PaymentTransaction.status) == T.NEW.value,
                           _vendor_active()),
        T.PROCESSING, action="payment_transaction.claimed", detail={"run": worker},
        values={"claimed_by": worker, "claimed_at": now,
                "first_claimed_at": func.coalesce(PaymentTransaction.first_claimed_at, now),
                "attempts": col(PaymentTransaction.attempts) + 1})


def _due(rail: str, limit: int) -> Select[int | None]:
    now = utcnow()
    return (select(col(PaymentTransaction.id)).where(
        col(PaymentTransaction.status) == T.NEW.value, col(PaymentTransaction.rail) == rail, _vendor_active(),
        or_(col(PaymentTransaction.next_attempt_at).is_(None), col(PaymentTransaction.next_attempt_at) <= now))
        .order_by(col(PaymentTransaction.id)).limit(limit))


def _unpayable(rail: FilePayoutRail, t: Transfer, payer: PayerAccount) -> str | None:
    """Why a file rail cannot carry this transfer (the vendor's account data), if it cannot."""
    try:
        rail.build([t], t.currency, payer)
    except RailError as exc:
        return str(exc)
    return None


def submit_file_rail(session: Session, worker: str, rail: FilePayoutRail, report: RunReport) -> None:
    today = date.today()
    while True:
        due = list(session.execute(_due(rail.name, FILE_MAX_TRANSFERS)).scalars())
        if not due:
            session.commit()
            return
        # Claim, build and store in one commit: the file exists with its transfers, or not at all.
        claimed = _claim(session, worker, due)
        # One file per paying organization and currency: a file is one payer's instruction
        # to its bank, and never carries another organization's transfers.
        by_payer: dict[tuple[int, str], list[Transfer]] = {}
        for owner, t in _owned_transfers(session, claimed, today):
            by_payer.setdefault((owner, t.currency), []).append(t)
        built: PaymentFileContent | None
        for (owner, currency), group in by_payer.items():
            payer = payer_account(session, owner)
            lacking = missing_account(rail.name, payer)
            if lacking is not None:
                report.failed += len(settle_failed(session, JOB, [t.transaction_id for t in group], lacking,
                                                   from_statuses=(T.PROCESSING.value,)))
                continue
            try:
                built = rail.build(group, currency, payer)
            except RailError:
                # Only now look for the transfers the rail cannot carry, one by one.
                group = _fail_unpayable(session, rail, group, payer, report)
                built = rail.build(group, currency, payer) if group else None
            if built is not None:
                _store_file(session, owner, rail.name, currency, group, built)
                report.files += 1
                report.submitted += len(group)
        session.commit()
        crash_points.reached(f"{rail.name}_file_stored")


def _fail_unpayable(session: Session, rail: FilePayoutRail, transfers: list[Transfer], payer: PayerAccount,
                    report: RunReport) -> list[Transfer]:
    """Fail the transfers a file rail cannot carry (the vendor's account data), with the reason;
    returns the rest."""
    bad = {t.transaction_id: reason for t in transfers if (reason := _unpayable(rail, t, payer))}
    for reason in set(bad.values()):
        report.failed += len(settle_failed(session, JOB, [i for i, r in bad.items() if r == reason], reason,
                                           from_statuses=(T.PROCESSING.value,)))
    return [t for t in transfers if t.transaction_id not in bad]


def _store_file(session: Session, owner: int, rail: str, currency: str, transfers: list[Transfer],
                built: PaymentFileContent) -> None:
    document = documents.store(session, built.content, built.filename, built.content_type)
    payment_file = PaymentFile(owner_id=owner, rail=rail, reference=built.reference, currency=currency,
                               transfer_count=len(transfers), total_minor=sum(t.amount_minor for t in transfers),
                               document_id=stored_id(document))
    session.add(payment_file)
    session.flush()
    now = utcnow()
    session.connection().execute(update(PaymentTransaction).where(
        col(PaymentTransaction.id).in_([t.transaction_id for t in transfers])).values(
        file_id=payment_file.id, submitted_at=now, updated_at=now))


def submit_online(session: Session, worker: str, rail: OnlinePayoutRail, report: RunReport) -> None:
    today = date.today()
    while True:
        due = list(session.execute(_due(rail.name, PROVIDER_CHUNK)).scalars())
        if not due:
            session.commit()
            return
        claimed = _claim(session, worker, due)
        session.commit()
        crash_points.reached(f"{rail.name}_claimed")
        transfers = _transfers(session, claimed, today)
        accepted, retry, refused = [], [], {}
        try:
            answers = rail.submit(transfers)
        except ProviderTimeout:
            retry = [t.transaction_id for t in transfers]
        else:
            for t in transfers:
                answer = answers.get(t.idempotency_key)
                if answer is None:  # no word on this one: as a timeout, tried again under its key
                    retry.append(t.transaction_id)
                elif isinstance(answer, str):
                    refused[t.transaction_id] = answer
                else:
                    accepted.append(t.transaction_id)
        crash_points.reached(f"{rail.name}_called")
        _record_submissions(session, worker, accepted, retry, refused, report)
        session.commit()
        crash_points.reached(f"{rail.name}_recorded")


def _record_submissions(session: Session, worker: str, accepted: list[int], retry: list[int],
                        refused: dict[int, str], report: RunReport) -> None:
    conn = session.connection()
    now = utcnow()
    mine = and_(col(PaymentTransaction.claimed_by) == worker, col(PaymentTransaction.status) == T.PROCESSING.value,
                col(PaymentTransaction.submitted_at).is_(None))
    if accepted:
        conn.execute(update(PaymentTransaction).where(col(PaymentTransaction.id).in_(accepted), mine)
                     .values(submitted_at=now, updated_at=now, failure_reason=None))
        report.submitted += len(accepted)
    if retry:
        _retry_later(session, retry, mine, "The provider did not answer; trying again", report)
    for reason in set(refused.values()):
        report.failed += len(settle_failed(session, JOB, [i for i, r in refused.items() if r == reason], reason,
                                           from_statuses=(T.PROCESSING.value,)))


def _retry_later(session: Session, ids: list[int], condition: ColumnElement[bool], reason: str,
                 report: RunReport) -> None:
    conn = session.connection()
    now = utcnow()
    exhausted = stored_ids(conn.execute(select(col(PaymentTransaction.id)).where(
        col(PaymentTransaction.id).in_(ids), condition, col(PaymentTransaction.attempts) >= MAX_ATTEMPTS)).scalars())
    if exhausted:
        report.in_review += len(settle_failed(
            session, JOB, exhausted, f"No answer from the provider after {MAX_ATTEMPTS} attempts: check with the "
            "provider whether it paid, then mark it paid or retry it", from_statuses=(T.PROCESSING.value,),
            status=T.IN_REVIEW.value))
    waiting = [i for i in ids if i not in set(exhausted)]
    attempts = dict(conn.execute(select(col(PaymentTransaction.id), col(PaymentTransaction.attempts))
                                 .where(col(PaymentTransaction.id).in_(waiting))).all())
    for tid in waiting:
        payout_moves.move_transfers(
            session, JOB, and_(col(PaymentTransaction.id) == tid, condition), T.NEW, action="payment_transaction.retry_later",
            detail={"reason": reason}, values={"claimed_by": None, "claimed_at": None, "failure_reason": reason,
                                               "next_attempt_at": next_attempt_after(int(attempts.get(tid, 1)), now)})
    report.retrying += len(waiting)


def hand_to_people(session: Session, worker: str, rail: PayoutRail, report: RunReport) -> None:
    """Manual and wire transfers wait, in Processing, for a person to pay and record them."""
    due = list(session.execute(_due(rail.name, 100_000)).scalars())
    if due:
        claimed = _claim(session, worker, due)
        now = utcnow()
        session.connection().execute(update(PaymentTransaction).where(col(PaymentTransaction.id).in_(claimed))
                                     .values(submitted_at=now))
        report.submitted += len(claimed)
    session.commit()


def deliver_files(session: Session, rails: Mapping[str, PayoutRail], report: RunReport) -> None:
    pending = session.execute(select(PaymentFile, StoredDocument)
                              .join(StoredDocument, col(StoredDocument.id) == PaymentFile.document_id)
                              .where(col(PaymentFile.delivered_at).is_(None)).order_by(col(PaymentFile.id))).all()
    for payment_file, document in pending:
        rail = rails.get(payment_file.rail)
        if not isinstance(rail, FilePayoutRail):
            report.problems += 1  # its rail is not configured in this run: kept for a run that has it
            continue
        rail.deliver(document.filename, document.content)
        crash_points.reached("file_written")
        session.connection().execute(update(PaymentFile).where(col(PaymentFile.id) == payment_file.id,
                                                               col(PaymentFile.delivered_at).is_(None),
                                                               tenancy.owned(PaymentFile, session))
                                     .values(delivered_at=utcnow()))
        session.commit()
        report.delivered += 1
    session.commit()


def recover_interrupted(session: Session, rail: OnlinePayoutRail, report: RunReport) -> None:
    """Online claims whose run died before recording the answer."""
    now = utcnow()
    lease = timedelta(seconds=settings().payouts.claim_lease_seconds)
    stale = session.execute(select(col(PaymentTransaction.id), col(PaymentTransaction.idempotency_key),
                                   col(PaymentTransaction.claimed_by), col(PaymentTransaction.first_claimed_at)).where(
        col(PaymentTransaction.rail) == rail.name, col(PaymentTransaction.status) == T.PROCESSING.value,
        col(PaymentTransaction.submitted_at).is_(None), col(PaymentTransaction.claimed_at) <= now - lease)).all()
    if not stale:
        session.commit()
        return
    known = rail.lookup_many([key for _, key, _, _ in stale])
    conn = session.connection()
    for tid, key, claimed_by, first_claimed in stale:
        same_claim = and_(col(PaymentTransaction.id) == tid, col(PaymentTransaction.claimed_by) == claimed_by,
                          col(PaymentTransaction.status) == T.PROCESSING.value,
                          col(PaymentTransaction.submitted_at).is_(None))
        if key in known:
            conn.execute(update(PaymentTransaction).where(same_claim).values(submitted_at=now, updated_at=now))
        elif first_claimed is not None and first_claimed <= now - PROVIDER_IDEMPOTENCY_WINDOW:
            report.in_review += len(settle_failed(
                session, JOB, [tid], "Interrupted long ago and unknown to the provider: confirm with the provider "
                "before retrying", from_statuses=(T.PROCESSING.value,), status=T.IN_REVIEW.value))
        else:
            # Never taken: try again, with the same key.
            payout_moves.move_transfers(session, JOB, same_claim, T.NEW, action="payment_transaction.recovered",
                                        values={"claimed_by": None, "claimed_at": None})
        report.recovered += 1
    session.commit()
    crash_points.reached("recovered")


def confirm_online(session: Session, rail: OnlinePayoutRail, report: RunReport) -> None:
    """The outcome of every submitted transfer of a rail that confirms itself."""
    last_id = 0
    while True:
        rows = session.execute(select(col(PaymentTransaction.id), col(PaymentTransaction.idempotency_key)).where(
            col(PaymentTransaction.rail) == rail.name, col(PaymentTransaction.status) == T.PROCESSING.value,
            col(PaymentTransaction.submitted_at).is_not(None), col(PaymentTransaction.id) > last_id)
            .order_by(col(PaymentTransaction.id)).limit(5_000)).all()
        if not rows:
            session.commit()
            return
        last_id = rows[-1][0]
        known = rail.lookup_many([key for _, key in rows])
        paid = [tid for tid, key in rows if key in known and known[key].status == "paid"]
        report.paid += len(settle_paid(session, JOB, paid, confirmation=None, from_statuses=(T.PROCESSING.value,),
                                       confirmations={tid: known[key].payment_id for tid, key in rows
                                                      if key in known}))
        for tid, key in rows:
            payment = known.get(key)
            if payment is not None and payment.status == "failed":
                apply_provider_outcome(session, tid, payment.status, payment.payment_id, payment.failure_reason,
                                       count_failed=report)
        session.commit()
        crash_points.reached("confirmed")


def apply_provider_outcome(session: Session, transaction_id: int, status: str, payment_id: str,
                           failure_reason: str | None, count_failed: RunReport | None = None) -> list[int]:
    """A provider's final word on a transaction; returns it when it became paid."""
    if status == "paid":
        return settle_paid(session, JOB, [transaction_id], confirmation=payment_id,
                           from_statuses=(T.PROCESSING.value,))
    if status == "failed":
        failed = settle_failed(session, JOB, [transaction_id], f"Provider: {failure_reason or 'payment failed'}",
                               from_statuses=(T.PROCESSING.value,))
        if count_failed is not None:
            count_failed.failed += len(failed)
    return []


def record_provider_callback(session: Session, idempotency_key: str, status: str, payment_id: str,
                             failure_reason: str | None) -> bool:
    """A signed callback from the provider; True when it changed a transaction."""
    tid = session.execute(select(col(PaymentTransaction.id)).where(
        col(PaymentTransaction.idempotency_key) == idempotency_key,
        col(PaymentTransaction.rail) == Rail.PROVIDER.value,
        col(PaymentTransaction.submitted_at).is_not(None))).scalar_one_or_none()
    if tid is None:
        return False
    report = RunReport()
    paid = apply_provider_outcome(session, tid, status, payment_id, failure_reason, report)
    return bool(paid or report.failed)


def run_now(session: Session, actor: Actor) -> JobResult:
    """A person starts a payout run at once instead of waiting for the schedule."""
    require(actor, Action.PAYOUT_MANAGE)
    audit.record(session, actor, "payouts.run_requested", "job", "execute_payouts")
    session.commit()
    return execute_payouts(session)


def provider_callback_secret() -> str:
    """The secret the provider signs its callbacks with, derived from the app's secret key."""
    return hmac.new(settings().secret_key.encode(), b"payout-provider-callbacks", hashlib.sha256).hexdigest()


def callback_signed(body: bytes, signature: str | None) -> bool:
    """Whether a callback really comes from the provider (HMAC-SHA256 of the body)."""
    if not signature:
        return False
    # As bytes: compare_digest refuses a str with non-ASCII characters (a 500 for a crafted header).
    expected = sign(provider_callback_secret(), body)
    return hmac.compare_digest(signature.encode("utf-8", "replace"), expected.encode())


def deliver_provider_callbacks(session: Session) -> int:
    """The sandbox provider's side: post its signed status callbacks to our endpoint."""
    url = settings().payouts.provider_callback_url
    if not url:
        return 0
    return registry.sandbox_provider().send_callbacks(url, provider_callback_secret())

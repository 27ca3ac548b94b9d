"""The money path as a state machine (issue 19): random sequences of what people, the payout
run, the provider and the bank do, over the real services, with the money invariants checked
after every step.

People create, submit, edit, approve (one or two approvers), reject, withdraw and archive
invoices; approve payouts; run payouts against the sandbox provider with failures and
time-outs; retry; record manual payments; import bank statements with payments, returns and
duplicates; change vendors' bank details and put vendors on hold. Time is the model's: the
retry back-off and the cooling-off period pass only when a rule says so (it moves the stored
moments back), so every example replays the same way.

What must hold after every step is read from the database and the provider's ledger, mostly
from the audit log (who moved what, from which status to which), never from what the model
believes it did:
- every status change of an invoice or payout is allowed by its status machine, follows on
  from the status before it, and names its actor; the last audited status is the current one;
- no invoice is paid more than its total, no payout by more than one paid transfer;
- the provider's ledger and our provider transfers agree: what it paid we show paid (or still
  open, awaiting its answer), what we show paid it paid;
- no control was bypassed: segregation of duties and two approvers on invoices, segregation
  on payouts, payout approval above its threshold, holds, the cooling-off after a change of
  bank details, and a payout batched only for an Approved invoice.

`tests/integration/test_money_model.py` runs it on SQLite and PostgreSQL within `make test`;
`python -m bench soak` runs it for many more examples.
"""
from __future__ import annotations

import json
import random
import shutil
import sqlite3
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlalchemy import text, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

from tests.helpers import DUE_DAY, SYSTEM, make_invoice, make_user, use_database, vendor_input
from tests.payout_book import VENDORS, provider_of
from vrm_dashboard.db import engine as engine_module
from vrm_dashboard.db.models import AuditEntry, Invoice, PaymentTransaction, Payout, Vendor
from vrm_dashboard.domain.approval_rules import needs_two_approvers
from vrm_dashboard.domain.invoice_rules import InvoiceEdit
from vrm_dashboard.domain.invoice_status import ALLOWED_TRANSITIONS, IllegalTransition, InvoiceStatus
from vrm_dashboard.domain.money import to_major_string
from vrm_dashboard.domain.payout_rules import PAYOUT_TRANSITIONS
from vrm_dashboard.services.identity.access_control import install_catalogue
from vrm_dashboard.services.invoices import approvals, records as invoices
from vrm_dashboard.services.invoices.approvals import Selection
from vrm_dashboard.services.payouts import bank_statements, execution, records as payouts
from vrm_dashboard.services.platform import settings as app_settings
from vrm_dashboard.services.platform.actors import Actor
from vrm_dashboard.services.platform.errors import Conflict, FieldErrors, NotFound, PermissionDenied
from vrm_dashboard.services.vendors import records as vendor_service

S = InvoiceStatus
# What a service answers when it refuses a step: the step changes nothing, and that is fine.
REFUSALS = (Conflict, FieldErrors, NotFound, PermissionDenied, IllegalTransition)
TWO_APPROVERS_ABOVE = {"*": "150"}       # EUR/USD 150.00: amounts are drawn from 50.00 to 300.00
PAYOUT_APPROVAL_ABOVE = {"*": "200"}
COOLING_OFF_HOURS = 72
PEOPLE = ("finance", "clerk", "approver_a", "approver_b", "approver_c")
RAILS = tuple(VENDORS)
# A second set of bank details per rail, to change to and back.
OTHER_DETAILS = {
    "sepa": {"iban": "FR1420041010050500013M02606"},
    "ach": {"account_number": "000987654321"},
    "provider": {"paypal_email": "creator-new@pay.example"},
    "manual": {"iban": "GB82WEST12345698765432", "bic": "WESTGB22"},
}
SUBMITTED_FROM = (S.DRAFT.value, S.DRAFT_VALID.value)
# Issue 19, "payouts follow their invoice": a transfer goes only to the bank details it was
# cleared with, so a change between batching and sending holds it (execution._claim).
CHANGE_AFTER_CLEARING_HOLDS = True
OPEN_TRANSFER = ("new", "processing", "in_review")


# --- a fresh database per example ------------------------------------------------------------

def sqlite_reset(url: str, template: Path) -> Callable[[], Engine]:
    """Each call: the SQLite database at `url` copied afresh from its migrated template."""
    path = Path(url.removeprefix("sqlite:///"))

    def reset() -> Engine:
        engine_module.engine().dispose()  # no connection keeps the old file open
        for suffix in ("-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        shutil.copy(template, path)
        return use_database(url)
    return reset


def postgres_reset(url: str) -> Callable[[], Engine]:
    """Each call: the migrated PostgreSQL database at `url` emptied (TRUNCATE fires no row
    triggers, so the append-only audit log empties too)."""
    import vrm_dashboard.db.models  # noqa: F401  (every table in the metadata)

    def reset() -> Engine:
        engine = use_database(url)
        names = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        return engine
    return reset


# --- reading the record -------------------------------------------------------------------

def _utc(moment: datetime | str) -> datetime:
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@dataclass
class Entry:
    """One audit entry, its before and after read back."""

    id: int
    at: datetime
    actor: int | None
    label: str
    action: str
    object_type: str
    object_id: int
    before: dict[str, Any]
    after: dict[str, Any]

    @property
    def status_change(self) -> tuple[str, str] | None:
        old, new = self.before.get("status"), self.after.get("status")
        return (old, new) if isinstance(old, str) and isinstance(new, str) and old != new else None


def _entries(session: Session) -> list[Entry]:
    rows = session.exec(select(AuditEntry).where(AuditEntry.object_type.in_(("invoice", "payout", "vendor")))
                        .order_by(AuditEntry.id)).all()
    return [Entry(r.id, _utc(r.at), r.actor_user_id, r.actor_label, r.action, r.object_type, int(r.object_id),
                  json.loads(r.before) if r.before else {}, json.loads(r.after) if r.after else {}) for r in rows]


class Violation(AssertionError):
    """An invariant of the money path does not hold."""


# --- the machine -------------------------------------------------------------------------

class MoneyModel(RuleBasedStateMachine):
    """Bound to a database and a scratch folder by `bound()`."""

    reset: ClassVar[Callable[[], Engine]]
    scratch: ClassVar[Path]
    examples: ClassVar[int] = 0
    steps: ClassVar[int] = 0

    def __init__(self) -> None:
        super().__init__()
        cls = type(self)
        cls.examples += 1
        self.engine = cls.reset()
        self.root = cls.scratch / f"example-{cls.examples}"
        self.root.mkdir(parents=True, exist_ok=True)
        self.session = Session(self.engine)
        install_catalogue(self.session)
        self.session.commit()
        self.people: dict[str, Actor] = {
            "finance": make_user(self.session, "finance_manager", "finance@test.example"),
            "clerk": make_user(self.session, "finance_manager", "clerk@test.example"),
            **{name: make_user(self.session, "approver", f"{name}@test.example") for name in PEOPLE[2:]}}
        self.vendors: dict[str, int] = {}
        for rail, fields in VENDORS.items():
            vendor = vendor_service.create_vendor(self.session, self.people["finance"], vendor_input(**fields))
            self.vendors[rail] = int(vendor.id or 0)
        self.session.commit()
        # Each invoice's status and total when made (creation writes no audit entry).
        self.created: dict[int, tuple[str, int]] = {}
        self.numbers = 0
        self.statements = 0
        self.lines: list[str] = []                              # statement lines imported, for duplicates
        self.transfers_of: dict[int, set[int]] = defaultdict(set)  # payout -> every transfer it was in
        # Bank-details changes: (vendor, changed at, cooling-off over at, None: not yet).
        self.holds: list[list[Any]] = []
        self.payout_approval = False

    def teardown(self) -> None:
        self.session.close()
        self.engine.dispose()

    # -- helpers --

    def _attempt(self, step: Callable[[], object]) -> None:
        """Run a person's step; a refusal changes nothing."""
        try:
            step()
        except REFUSALS:
            self.session.rollback()
        else:
            self.session.commit()
        self.session.expire_all()

    def _invoices(self, *statuses: str) -> list[Invoice]:
        query = select(Invoice).where(Invoice.id.in_(list(self.created))).order_by(Invoice.id)
        if statuses:
            query = query.where(Invoice.status.in_(statuses))
        return list(self.session.exec(query).all())

    def _pick(self, rows: list[Any], everything: list[Any], pick: int) -> Any:
        """Mostly a row the step makes sense for; now and then any row, to see it refused."""
        if rows and pick % 5:
            return rows[pick % len(rows)]
        return everything[pick % len(everything)] if everything else None

    def _ledger(self) -> dict[str, tuple[int, str, str, datetime]]:
        """The provider's ledger by idempotency key: amount, currency, status, taken at."""
        path = self.root / "provider.db"
        if not path.exists():
            return {}
        with sqlite3.connect(path) as db:
            return {key: (amount, currency, status, _utc(created)) for key, amount, currency, status, created in
                    db.execute("SELECT idempotency_key, amount_minor, currency, status, created_at FROM payment")}

    # -- setup --

    @initialize(payout_approval=st.booleans())
    def settings(self, payout_approval: bool) -> None:
        self.payout_approval = payout_approval
        app_settings.put(self.session, SYSTEM, app_settings.TWO_APPROVER_THRESHOLDS, TWO_APPROVERS_ABOVE)
        app_settings.put(self.session, SYSTEM, app_settings.PAYOUT_APPROVAL_ENABLED, payout_approval)
        app_settings.put(self.session, SYSTEM, app_settings.PAYOUT_APPROVAL_THRESHOLDS, PAYOUT_APPROVAL_ABOVE)
        app_settings.put(self.session, SYSTEM, app_settings.COOLING_OFF_HOURS, COOLING_OFF_HOURS)
        self.session.commit()

    @initialize(first=st.lists(st.tuples(st.sampled_from(RAILS), st.integers(5_000, 30_000),
                                         st.sampled_from(("finance", "clerk")), st.booleans()),
                               min_size=2, max_size=4))
    def first_invoices(self, first: list[tuple[str, int, str, bool]]) -> None:
        """A few invoices to start with, some already submitted by whoever made them."""
        for rail, amount, by, submitted in first:
            invoice_id = self._create(rail, amount, by)
            if submitted:
                self._attempt(lambda: invoices.submit_invoice(self.session, self.people[by], invoice_id))

    # -- invoices --

    @precondition(lambda self: len(self.created) < 10)
    @rule(rail=st.sampled_from(RAILS), amount=st.integers(5_000, 30_000), by=st.sampled_from(("finance", "clerk")))
    def create_invoice(self, rail: str, amount: int, by: str) -> None:
        self._create(rail, amount, by)

    def _create(self, rail: str, amount: int, by: str) -> int:
        """A new draft, valid, made by a finance person (made as an import makes it: no audit
        entry, its first status is the model's to remember)."""
        self.numbers += 1
        vendor = self.session.get(Vendor, self.vendors[rail])
        assert vendor is not None
        invoice = make_invoice(self.session, self.vendors[rail], f"MM-{self.numbers}", amount, status="draft_valid",
                               currency=vendor.currency)
        invoice.created_by_id = self.people[by].user_id
        self.session.add(invoice)
        self.session.commit()
        invoice_id = int(invoice.id or 0)
        self.created[invoice_id] = (S.DRAFT_VALID.value, amount)
        return invoice_id

    @precondition(lambda self: self.created)
    @rule(pick=st.integers(0, 99))
    def work_the_queue(self, pick: int) -> None:
        """People work through what waits for them: drafts submitted by a finance person,
        pending invoices approved (as first or second approver) and payouts approved, each by
        the next person in turn, whom the controls may refuse. Now and then someone tries the
        step on an invoice it does not fit, to see it refused."""
        for k, invoice in enumerate(self._invoices(S.DRAFT_VALID.value, S.PENDING.value)):
            person = self.people[PEOPLE[(pick + k) % len(PEOPLE)]]
            if invoice.status == S.DRAFT_VALID.value:
                submitter = self.people[("finance", "clerk")[(pick + k) % 2]]
                self._attempt(lambda: invoices.submit_invoice(self.session, submitter, invoice.id))
            else:
                self._attempt(lambda: approvals.approve(self.session, person, Selection([invoice.id])))
        for k, payout in enumerate(self._payouts("payout_approval")):
            person = self.people[PEOPLE[(pick + k + 2) % len(PEOPLE)]]
            self._attempt(lambda: payouts.approve(self.session, person, [payout.id]))
        if pick % 4 == 0:
            anything = self._invoices()[pick % len(self.created)]
            person = self.people[PEOPLE[pick % len(PEOPLE)]]
            self._attempt(lambda: approvals.approve(self.session, person, Selection([anything.id])))
            self._attempt(lambda: invoices.submit_invoice(self.session, person, anything.id))

    @precondition(lambda self: self.created)
    @rule(pick=st.integers(0, 99), by=st.sampled_from(("finance", "clerk", "approver_a")),
          amount=st.integers(5_000, 30_000))
    def edit(self, pick: int, by: str, amount: int) -> None:
        invoice = self._pick(self._invoices(*invoices.EDITABLE), self._invoices(), pick)
        total = to_major_string(amount, invoice.currency)
        edit = InvoiceEdit(invoice.number, invoice.issue_date.isoformat(), DUE_DAY.isoformat(), invoice.currency,
                           total, to_major_string(0, invoice.currency), total)
        self._attempt(lambda: invoices.edit_invoice(self.session, self.people[by], invoice.id, edit))

    @precondition(lambda self: self.created)
    @rule(pick=st.integers(0, 99), by=st.sampled_from(PEOPLE),
          how=st.sampled_from(("reject", "withdraw_approval", "archive")))
    def send_back(self, pick: int, by: str, how: str) -> None:
        """An invoice rejected (from Pending), its approval withdrawn (Approved back to Pending),
        or archived (from wherever it may be)."""
        actor = self.people[by]
        if how == "reject":
            invoice = self._pick(self._invoices(S.PENDING.value), self._invoices(), pick)
            self._attempt(lambda: approvals.reject(self.session, actor, Selection([invoice.id]), "Wrong rate"))
        elif how == "withdraw_approval":
            invoice = self._pick(self._invoices(S.APPROVED.value), self._invoices(), pick)
            self._attempt(lambda: invoices.move_invoice(self.session, actor, invoice.id, S.PENDING))
        else:
            invoice = self._pick(self._invoices(S.APPROVED.value, S.FAILED.value, S.REJECTED.value, S.PAID.value),
                                 self._invoices(), pick)
            self._attempt(lambda: invoices.archive_invoice(self.session, actor, invoice.id))

    # -- payouts --

    def _payouts(self, *statuses: str) -> list[Payout]:
        query = select(Payout).order_by(Payout.id)
        if statuses:
            query = query.where(Payout.status.in_(statuses))
        return list(self.session.exec(query).all())

    @rule(failure=st.sampled_from((0, 0, 100)), timeout=st.sampled_from((0, 0, 60, 200)), seed=st.integers(0, 2**16))
    def run_payouts(self, failure: int, timeout: int, seed: int) -> None:
        """The payout job, against a provider that fails every payment it settles now (100) or
        none (0), and times out (before or after taking the payments) as often as drawn."""
        provider = provider_of(self.root, failure=failure, timeout=timeout, settle=0, rng=random.Random(seed))
        execution.execute_payouts(self.session, today=DUE_DAY, provider=provider)
        self.session.commit()
        self.session.expire_all()

    @rule(rail=st.sampled_from(RAILS))
    def time_passes(self, rail: str) -> None:
        """Time passes: transfers waiting after a provider time-out are due again, and this
        vendor's last change of bank details is older than the cooling-off period."""
        self.session.connection().execute(update(PaymentTransaction).where(
            PaymentTransaction.status == "new", PaymentTransaction.next_attempt_at.is_not(None))
            .values(next_attempt_at=datetime.now(timezone.utc) - timedelta(seconds=1)))
        self.session.commit()
        self._cooling_off_passes(rail)

    @precondition(lambda self: self.created)
    @rule(pick=st.integers(0, 99), by=st.sampled_from(PEOPLE))
    def retry(self, pick: int, by: str) -> None:
        """A person retries a failed payout, or one in review after checking the provider never
        took its transfer (as the screen tells them to)."""
        ledger = self._ledger()
        unknown = {t.id for t in self.session.exec(select(PaymentTransaction)).all()
                   if t.rail != "provider" or t.idempotency_key not in ledger}
        payout = self._pick([p for p in self._payouts("failed", "in_review")
                             if p.status == "failed" or p.transaction_id in unknown], [], pick)
        if payout is not None:
            self._attempt(lambda: payouts.retry(self.session, self.people[by], [payout.id]))

    @rule(pick=st.integers(0, 99), by=st.sampled_from(PEOPLE))
    def record_manual_payment(self, pick: int, by: str) -> None:
        """A person confirms a transfer paid: a wire they sent, a file the bank ran, or a
        provider payment in review that the provider's dashboard shows paid."""
        ledger = self._ledger()
        transfers = [t for t in self.session.exec(select(PaymentTransaction).where(
            PaymentTransaction.status.in_(("processing", "in_review"))).order_by(PaymentTransaction.id)).all()
            if t.rail != "provider" or ledger.get(t.idempotency_key or "", (0, "", ""))[2] == "paid"]
        if transfers:
            transfer = transfers[pick % len(transfers)]
            self._attempt(lambda: payouts.mark_paid(self.session, self.people[by], transfer.id, f"BANK-{pick}"))

    @rule(kinds=st.lists(st.sampled_from(("debit", "return", "credit_back", "duplicate", "unmatched")),
                         min_size=1, max_size=3), pick=st.integers(0, 99))
    def import_statement(self, kinds: list[str], pick: int) -> None:
        """A bank statement: our transfers debited, returned (with a reason, or credited back in
        full without one), a booking seen before, and a line of someone else's. Provider
        transfers are the provider's to pay, never on our statement."""
        self.statements += 1
        ours = list(self.session.exec(select(PaymentTransaction).where(
            PaymentTransaction.rail != "provider", PaymentTransaction.status.in_(("processing", "in_review", "paid")))
            .order_by(PaymentTransaction.id)).all())
        lines: list[str] = []
        for n, kind in enumerate(kinds):
            day = f"2026-12-{(self.statements + n) % 28 + 1:02d}"
            if kind == "duplicate" and self.lines:
                lines.append(self.lines[(pick + n) % len(self.lines)])
                continue
            if kind in ("debit", "return", "credit_back") and ours:
                t = ours[(pick + n) % len(ours)]
                amount = to_major_string(t.target_amount_minor, t.target_currency)
                sign, reason = {"debit": ("-", ""), "return": ("", "AC04"), "credit_back": ("", "")}[kind]
                lines.append(f"{day},{sign}{amount},{t.target_currency},{t.reference},Vendor,payout,{reason}")
            else:
                lines.append(f"{day},-{self.statements}.17,EUR,OTHER-{self.statements},Someone,rent,")
        content = ("booking date,amount,currency,reference,counterparty,description,return reason\n"
                   + "".join(f"{line}\n" for line in lines)).encode()
        self._attempt(lambda: bank_statements.import_statement(
            self.session, self.people["finance"], f"statement-{self.statements}.csv", content))
        self.lines.extend(lines)

    # -- vendors --

    @rule(rail=st.sampled_from(RAILS), by=st.sampled_from(("finance", "clerk")))
    def change_bank_details(self, rail: str, by: str) -> None:
        """Switch the vendor to its other bank details (or back)."""
        vendor = self.session.get(Vendor, self.vendors[rail])
        assert vendor is not None
        data = vendor_service.vendor_input_of(vendor)
        original = vendor_input(**VENDORS[rail])
        for name, other in OTHER_DETAILS[rail].items():
            setattr(data, name, getattr(original, name) if getattr(data, name).replace(" ", "") == other.replace(
                " ", "") else other)
        before = vendor.bank_details_changed_at
        self._attempt(lambda: vendor_service.update_vendor(self.session, self.people[by], self.vendors[rail], data))
        vendor = self.session.get(Vendor, self.vendors[rail])
        assert vendor is not None
        if vendor.bank_details_changed_at is not None and vendor.bank_details_changed_at != before:
            self.holds.append([vendor.id, _utc(vendor.bank_details_changed_at), None])

    def _cooling_off_passes(self, rail: str) -> None:
        vendor_id = self.vendors[rail]
        vendor = self.session.get(Vendor, vendor_id)
        assert vendor is not None
        if vendor.bank_details_changed_at is not None:
            vendor.bank_details_changed_at -= timedelta(hours=COOLING_OFF_HOURS + 1)
            self.session.add(vendor)
        self.session.commit()
        now = datetime.now(timezone.utc)
        for hold in self.holds:
            if hold[0] == vendor_id and hold[2] is None:
                hold[2] = now

    @rule(rail=st.sampled_from(RAILS), status=st.sampled_from(("on_hold", "active", "active")))
    def hold_vendor(self, rail: str, status: str) -> None:
        vendor = self.session.get(Vendor, self.vendors[rail])
        assert vendor is not None
        data = vendor_service.vendor_input_of(vendor)
        data.activity_status = status
        self._attempt(lambda: vendor_service.update_vendor(self.session, self.people["finance"], vendor.id, data))

    # -- the invariants --

    @invariant()
    def money_path_holds(self) -> None:
        type(self).steps += 1
        # On the machine's own session, between its transactions: SQLite has one writer, and
        # every transaction of this app takes the write lock.
        self.session.commit()
        self.session.expire_all()
        check_money_path(self.session, self)
        self.session.commit()


def check_money_path(session: Session, model: MoneyModel) -> None:
    """Every invariant of the money path, from the record; raises Violation naming what broke."""
    entries = _entries(session)
    invoice_rows = {i.id: i for i in session.exec(select(Invoice)).all()}
    payout_rows = {p.id: p for p in session.exec(select(Payout)).all()}
    transfers = {t.id: t for t in session.exec(select(PaymentTransaction)).all()}
    for p in payout_rows.values():
        if p.transaction_id is not None:
            model.transfers_of[int(p.id or 0)].add(p.transaction_id)
    people = {a.user_id: name for name, a in model.people.items()}
    _statuses_follow_the_machines(entries, model, invoice_rows, payout_rows)
    _paid_once(model, invoice_rows, payout_rows, transfers)
    _ledger_agrees(model, payout_rows, transfers)
    _controls_held(entries, model, invoice_rows, payout_rows, transfers, people)


def _statuses_follow_the_machines(entries: list[Entry], model: MoneyModel, invoice_rows: dict, payout_rows: dict) -> None:
    last: dict[tuple[str, int], str] = {("invoice", i): status for i, (status, _) in model.created.items()}
    for e in entries:
        if e.object_type == "vendor" or (change := e.status_change) is None:
            continue
        key = (e.object_type, e.object_id)
        old, new = change
        if not e.label or (e.actor is None and not e.label.startswith("system:")):
            raise Violation(f"{e.action} of {key} has no actor: {e.label!r}")
        if e.object_type == "invoice":
            statuses = [old, new]
            if e.action == "invoice.edit":
                # An edit sends the invoice back through validation: via Draft to Draft Valid.
                statuses = [old, S.DRAFT.value, new] if old not in (S.DRAFT.value, S.DRAFT_VALID.value) else [new]
            for a, b in zip(statuses, statuses[1:]):
                if S(b) not in ALLOWED_TRANSITIONS[S(a)]:
                    raise Violation(f"Invoice {e.object_id} moved {a} -> {b} ({e.action}, entry {e.id})")
        elif new not in PAYOUT_TRANSITIONS[old]:
            raise Violation(f"Payout {e.object_id} moved {old} -> {new} ({e.action}, entry {e.id})")
        if e.object_type == "payout" and key not in last:
            last[key] = old  # created in this status (its creation entry names no status)
        if last.get(key) != old:
            raise Violation(f"{key} left {old} ({e.action}, entry {e.id}) but was {last.get(key)}: an unaudited move")
        last[key] = new
    for invoice_id, invoice in invoice_rows.items():
        if last.get(("invoice", invoice_id), invoice.status) != invoice.status:
            raise Violation(f"Invoice {invoice_id} is {invoice.status}, its audit says {last[('invoice', invoice_id)]}")
    for payout_id, payout in payout_rows.items():
        start = last.get(("payout", payout_id), payout.status)
        if start != payout.status:
            raise Violation(f"Payout {payout_id} is {payout.status}, its audit says {start}")


def _paid_once(model: MoneyModel, invoice_rows: dict, payout_rows: dict, transfers: dict) -> None:
    paid_per_invoice: dict[int, int] = defaultdict(int)
    for payout_id, payout in payout_rows.items():
        paid = [t for t in model.transfers_of.get(payout_id, set()) if transfers[t].status == "paid"]
        if len(paid) > 1:
            raise Violation(f"Payout {payout_id} was paid by {len(paid)} transfers: {sorted(paid)}")
        if (payout.status == "paid") != bool(paid) or (paid and payout.transaction_id != paid[0]):
            raise Violation(f"Payout {payout_id} is {payout.status} (transfer {payout.transaction_id}); "
                            f"paid transfers {paid}")
        if paid:
            paid_per_invoice[payout.invoice_id] += payout.amount_minor
    for invoice_id, amount in paid_per_invoice.items():
        invoice = invoice_rows[invoice_id]
        if amount > invoice.total_minor:
            raise Violation(f"Invoice {invoice_id} of {invoice.total_minor} was paid {amount}")
        if invoice.status not in (S.PAID.value, S.ARCHIVED.value):
            raise Violation(f"Invoice {invoice_id} has a paid payout but is {invoice.status}")
    for invoice_id, invoice in invoice_rows.items():
        if invoice.status == S.PAID.value and invoice_id not in paid_per_invoice:
            raise Violation(f"Invoice {invoice_id} is Paid without a paid payout")
    for tid, transfer in transfers.items():
        members = [p for p in payout_rows.values() if p.transaction_id == tid]
        if transfer.status == "paid" and sum(p.amount_minor for p in members) != transfer.source_amount_minor:
            raise Violation(f"Transfer {tid} paid {transfer.source_amount_minor} for payouts of "
                            f"{sum(p.amount_minor for p in members)}")


def _ledger_agrees(model: MoneyModel, payout_rows: dict, transfers: dict) -> None:
    ledger = model._ledger()
    ours = {t.idempotency_key: t for t in transfers.values() if t.rail == "provider"}
    for key, (amount, currency, status, _taken) in ledger.items():
        transfer = ours.get(key)
        if transfer is None or (transfer.target_amount_minor, transfer.target_currency) != (amount, currency):
            raise Violation(f"The provider holds payment {key} of {amount} {currency} that no transfer of ours is")
        if status == "paid" and transfer.status not in ("paid", *OPEN_TRANSFER):
            raise Violation(f"The provider paid {key} but transfer {transfer.id} is {transfer.status}")
        if status == "failed" and transfer.status == "paid":
            raise Violation(f"The provider failed {key} but transfer {transfer.id} is paid")
    for key, transfer in ours.items():
        if transfer.status == "paid" and ledger.get(key or "", (0, "", ""))[2] != "paid":
            raise Violation(f"Transfer {transfer.id} is paid but the provider did not pay it")
    # In money: what the provider paid is what our provider payouts marked paid, plus what
    # still awaits its answer.
    provider_paid = sum(amount for amount, _c, status, _t in ledger.values() if status == "paid")
    awaiting = sum(t.target_amount_minor for key, t in ours.items()
                   if t.status in OPEN_TRANSFER and ledger.get(key or "", (0, "", ""))[2] == "paid")
    marked = sum(p.amount_minor for p in payout_rows.values() if p.status == "paid" and p.rail == "provider")
    if provider_paid != marked + awaiting:
        raise Violation(f"The provider paid {provider_paid}; our provider payouts marked paid {marked}, "
                        f"awaiting its answer {awaiting}")


def _controls_held(entries: list[Entry], model: MoneyModel, invoice_rows: dict, payout_rows: dict,
                   transfers: dict, people: dict) -> None:
    vendor_status: dict[int, str] = defaultdict(lambda: "active")
    invoice_status = {i: status for i, (status, _) in model.created.items()}
    total = {i: amount for i, (_, amount) in model.created.items()}
    submitter: dict[int, int | None] = {}
    editors: dict[int, set[int | None]] = defaultdict(set)
    last_editor: dict[int, int | None] = {}
    approvers_ever: dict[int, set[int | None]] = defaultdict(set)
    submitters_ever: dict[int, set[int | None]] = defaultdict(set)
    round_approvers: dict[int, set[int | None]] = defaultdict(set)
    thresholds = TWO_APPROVERS_ABOVE
    for e in entries:
        who = people.get(e.actor, e.label)
        if e.object_type == "vendor":
            if "activity_status" in e.after:
                vendor_status[e.object_id] = e.after["activity_status"]
            continue
        if e.object_type == "invoice":
            i = e.object_id
            invoice = invoice_rows.get(i)
            if invoice is None:
                continue
            creator = invoice.created_by_id
            if e.action in ("invoice.approved", "invoice.approval_recorded"):
                if vendor_status[invoice.vendor_id] == "on_hold":
                    raise Violation(f"Invoice {i} approved by {who} while its vendor was {vendor_status[invoice.vendor_id]}")
                for role, user in (("created", creator), ("submitted", submitter.get(i)),
                                   ("last edited", last_editor.get(i))):
                    if user is not None and user == e.actor:
                        raise Violation(f"Invoice {i} approved by {who}, who {role} it (entry {e.id})")
                if e.action == "invoice.approved" and needs_two_approvers(total[i], invoice.currency, thresholds) \
                        and not (round_approvers[i] - {e.actor}):
                    raise Violation(f"Invoice {i} of {total[i]} approved by {who} alone (entry {e.id})")
                round_approvers[i].add(e.actor)
                approvers_ever[i].add(e.actor)
            elif e.action == "invoice.edit":
                editors[i].add(e.actor)
                last_editor[i] = e.actor
                total[i] = int(e.after.get("total_minor", total[i]))
                round_approvers[i] = set()  # an edit lets earlier approvals lapse
            elif e.action == "invoice.rejected":
                round_approvers[i] = set()
            elif e.action == "invoice.pending" and e.before.get("status") in SUBMITTED_FROM:
                submitter[i] = e.actor
                submitters_ever[i].add(e.actor)
            if (change := e.status_change) is not None:
                invoice_status[i] = change[1]
            continue
        payout = payout_rows[e.object_id]
        i = payout.invoice_id
        if e.action == "payout.approved":
            invoice = invoice_rows[i]
            barred = approvers_ever[i] | editors[i] | {invoice.created_by_id, payout.created_by_id}
            barred |= submitters_ever[i]
            if e.actor in barred:
                raise Violation(f"Payout {payout.id} approved by {who}, who approved, submitted, edited or created "
                                f"invoice {i} (entry {e.id})")
            if vendor_status[payout.vendor_id] == "on_hold":
                raise Violation(f"Payout {payout.id} approved by {who} while its vendor was on hold")
        elif e.action == "payout.batched":
            if invoice_status.get(i) != S.APPROVED.value:
                raise Violation(f"Payout {payout.id} batched while invoice {i} was {invoice_status.get(i)} "
                                f"(entry {e.id})")
            if vendor_status[payout.vendor_id] != "active":
                raise Violation(f"Payout {payout.id} batched while its vendor was {vendor_status[payout.vendor_id]}")
    for payout in payout_rows.values():
        first = next((e for e in entries if e.object_type == "payout" and e.object_id == payout.id
                      and e.status_change), None)
        started = first.before["status"] if first else payout.status
        invoice = invoice_rows[payout.invoice_id]
        if model.payout_approval and needs_two_approvers(payout.amount_minor, invoice.currency, PAYOUT_APPROVAL_ABOVE) \
                and started != "payout_approval":
            raise Violation(f"Payout {payout.id} of {payout.amount_minor} skipped payout approval")
    _cooling_off_held(model, transfers)


def _cooling_off_held(model: MoneyModel, transfers: dict) -> None:
    """No transfer went out to a vendor within the cooling-off after a change of its bank
    details: neither batched while the vendor was held, nor sent after a change that came
    between its batching and its sending (the details it was cleared with are not the ones
    it would go to)."""
    ledger = model._ledger()
    for transfer in transfers.values():
        if transfer.rail == "provider" and transfer.idempotency_key in ledger:
            sent: datetime | None = ledger[transfer.idempotency_key][3]
        else:
            sent = _utc(transfer.submitted_at) if transfer.submitted_at else None
        if sent is None:
            continue
        batched = _utc(transfer.created_at)
        for vendor_id, changed, over in model.holds:
            if not CHANGE_AFTER_CLEARING_HOLDS and changed > batched:
                continue
            if vendor_id == transfer.vendor_id and changed <= sent and (over is None or over > batched):
                raise Violation(f"Transfer {transfer.id} ({transfer.rail}) batched {batched:%H:%M:%S.%f} and sent "
                                f"{sent:%H:%M:%S.%f}, within the cooling-off of the change of vendor {vendor_id}'s "
                                f"bank details at {changed:%H:%M:%S.%f}")


def bound(reset: Callable[[], Engine], scratch: Path) -> type[MoneyModel]:
    """The machine on this database (emptied per example) and scratch folder."""
    return type("MoneyModelRun", (MoneyModel,), {"reset": staticmethod(reset), "scratch": scratch,
                                                 "examples": 0, "steps": 0})

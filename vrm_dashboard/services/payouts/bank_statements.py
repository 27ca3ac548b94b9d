"""Payment reconciliation: a bank statement's lines matched to our transfers and invoices.

Money out and money in are told apart by the line's sign and the bank's transaction code,
never by a missing word. A debit carrying a transfer's reference (or, failing that, the only
open transfer of that amount and currency) confirms it paid. Money coming back that names a
transfer (a return code or reason, a reversed debit, or a credit of its very amount) returns
it: a paid one too, since the bank took the payment back; its payouts and invoices are Failed
for a person to retry, and the payout team is notified. A credit naming a customer invoice
number for its amount settles that invoice (a pay-in). Everything else is an exception for a
person, with its reason: unmatched lines, lines seen before (duplicates), amounts that differ,
returns, lines naming what was settled before, and lines the rules cannot classify.

A statement is its owner's bank account: its lines match only that organization's transfers
and the receivables it issued, and are duplicates only of lines of its earlier statements.
(A receivable billed *to* the organization is its supplier's to settle, not its own.) This
holds whoever imports it, the system included, not only through the session's scope.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from sqlalchemy import and_, func, select
from sqlmodel import Session, col

from vrm_dashboard.db import tenancy
from vrm_dashboard.db.models import (
    BankStatement,
    Invoice,
    PaymentTransaction,
    StatementLine,
    StoredDocument,
    Vendor,
    stored_id,
)
from vrm_dashboard.db.models.payouts import TransactionStatus
from vrm_dashboard.domain.collection_rules import CustomerPaymentMethod
from vrm_dashboard.domain.intake_rules import printable
from vrm_dashboard.domain.invoice_status import InvoiceStatus
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.distribution.dispatch import alert_team
from vrm_dashboard.services.invoices import flags as invoice_flags, moves as invoice_moves
from vrm_dashboard.services.payouts.settlement import settle_failed, settle_paid
from vrm_dashboard.services.platform import audit, crash_points, documents
from vrm_dashboard.services.platform.actors import Actor, require
from vrm_dashboard.services.platform.errors import Conflict, FieldErrors
from vrm_dashboard.statements.entries import Direction, StatementEntry, StatementError
from vrm_dashboard.statements.readers import read_statement

T = TransactionStatus
OUR_REFERENCE = re.compile(r"VRM\d{12}")
MATCHED, RETURNED, SETTLED_INVOICE = "matched", "returned", "pay_in"
UNMATCHED, DUPLICATE, AMOUNT_DIFFERS = "unmatched", "duplicate", "amount_differs"
# A line naming something settled before (a paid transfer or receivable), and one the rules
# cannot classify (a reversal, a return of a failed transfer, a credit naming our transfer at
# another amount): each is listed with its reason for a person.
ALREADY_SETTLED, NEEDS_REVIEW = "settled_before", "review"
EXCEPTIONS = (UNMATCHED, DUPLICATE, AMOUNT_DIFFERS, RETURNED, ALREADY_SETTLED, NEEDS_REVIEW)
OUTCOME_LABELS = {
    MATCHED: "Confirmed paid", RETURNED: "Returned transfer", SETTLED_INVOICE: "Customer payment",
    UNMATCHED: "Unmatched", DUPLICATE: "Duplicate", AMOUNT_DIFFERS: "Amount differs",
    ALREADY_SETTLED: "Already settled", NEEDS_REVIEW: "Needs review",
}
_RECEIVABLE_OPEN = (InvoiceStatus.PENDING.value, InvoiceStatus.APPROVED.value, InvoiceStatus.PROCESSING.value,
                    InvoiceStatus.FAILED.value)


@dataclass
class StatementReport:
    statement_id: int
    format: str
    lines: int
    outcomes: dict[str, int] = field(default_factory=dict)

    @property
    def exceptions(self) -> int:
        return sum(n for outcome, n in self.outcomes.items() if outcome in EXCEPTIONS)


def _key(entry: StatementEntry) -> str:
    raw = "|".join([entry.booking_date.isoformat(), str(entry.amount_minor), entry.currency, entry.reference,
                    entry.counterparty, entry.description, entry.return_reason])
    return hashlib.sha256(raw.encode()).hexdigest()


def _our_transaction(session: Session, entry: StatementEntry, owner: int) -> PaymentTransaction | None:
    """The owner's transfer this line reports, if any, as it is now: an earlier line of the
    statement may have settled it (on the connection, past the session's identity map)."""
    owners = col(PaymentTransaction.vendor_id).in_(select(col(Vendor.id)).where(col(Vendor.owner_id) == owner))
    found = OUR_REFERENCE.search(f"{entry.reference} {entry.description}")
    if found:
        return session.execute(select(PaymentTransaction).where(
            col(PaymentTransaction.reference) == found.group(0), owners).execution_options(
            populate_existing=True)).scalar_one_or_none()
    if entry.amount_minor >= 0:
        return None
    # No reference: the only open file or manual transfer of exactly this amount.
    candidates = session.execute(select(PaymentTransaction).where(
        owners, col(PaymentTransaction.status).in_([T.PROCESSING.value, T.IN_REVIEW.value]),
        col(PaymentTransaction.rail) != "provider", col(PaymentTransaction.target_currency) == entry.currency,
        col(PaymentTransaction.target_amount_minor) == -entry.amount_minor).limit(2).execution_options(
        populate_existing=True)).scalars().all()
    return candidates[0] if len(candidates) == 1 else None


def _named_receivable(session: Session, entry: StatementEntry, owner: int, open_only: bool) -> Invoice | None:
    """The receivable the owner issued that this credit names: open and for its amount (the one
    it pays), or, with `open_only` False, any that it names (to say why it pays none)."""
    words = set(re.findall(r"[A-Za-z0-9][A-Za-z0-9\-/]{3,}", f"{entry.reference} {entry.description}"))
    if not words:
        return None
    named = select(Invoice).where(col(Invoice.number).in_(words), col(Invoice.owner_id) == owner,
                                  col(Invoice.organization_id).is_not(None))
    if open_only:
        # A member of a consolidated invoice is paid with it, never on its own.
        named = named.where(col(Invoice.currency) == entry.currency, col(Invoice.total_minor) == entry.amount_minor,
                            col(Invoice.status).in_(_RECEIVABLE_OPEN), col(Invoice.consolidated_into_id).is_(None))
    return session.execute(named.order_by(col(Invoice.id)).limit(1)).scalar_one_or_none()


def _receivable(session: Session, entry: StatementEntry, owner: int) -> Invoice | None:
    """The open receivable the owner issued that this credit pays, if any."""
    return _named_receivable(session, entry, owner, open_only=True)


def _amount(minor: int, currency: str) -> str:
    return f"{abs(minor)} {currency} (minor units)"


def _returned(session: Session, actor: Actor, entry: StatementEntry, transaction: PaymentTransaction,
              owner: int, evidence: str) -> tuple[str, str, int | None, int | None]:
    """Money of our transfer came back: its payouts and invoices are open to be paid again
    (Failed: a person retries them), and the payout team is told. Paid transfers too: the bank
    took the payment back."""
    reason = f"Returned by the bank ({evidence}) on {entry.booking_date}"
    reopened = settle_failed(session, actor, [stored_id(transaction)], reason,
                             from_statuses=(T.PROCESSING.value, T.PAID.value, T.IN_REVIEW.value))
    if not reopened:
        return NEEDS_REVIEW, (f"Return ({evidence}) of transfer {transaction.reference}, which is "
                              f"{transaction.status}: nothing changed, check it was not paid twice"), transaction.id, None
    alert_team(session, f"Transfer {transaction.reference} returned",
               f"The bank returned transfer {transaction.reference} ({_amount(entry.amount_minor, entry.currency)}) "
               f"on {entry.booking_date}: {evidence}. Its payouts are Failed; check the vendor's bank details "
               "and retry them on Smart Payouts.", owner_id=owner, team=Action.PAYOUT_MANAGE)
    return RETURNED, f"{reason}; payout open to retry", transaction.id, None


def _credit(session: Session, actor: Actor, entry: StatementEntry, label: str,
            owner: int) -> tuple[str, str, int | None, int | None]:
    """Money paid in: a customer settling a receivable we issued, or a line for a person."""
    invoice = _receivable(session, entry, owner)
    if invoice is not None:
        this = and_(col(Invoice.id) == invoice.id, col(Invoice.owner_id) == owner)
        collecting = invoice.status == InvoiceStatus.PROCESSING.value
        if collecting:
            # A card collection is under way too: paid by wire, and flagged for a person to
            # stop or refund the other channel.
            invoice_flags.flag(session, this, "two_channels",
                               "Paid by wire while a card collection was under way: check it did not also charge")
        # A customer's own transfer: the invoice was paid by wire.
        moved = invoice_moves.move_invoices(
            session, actor, this, InvoiceStatus.PAID, action="invoice.paid_by_customer",
            detail={"statement": label, "payment_method": CustomerPaymentMethod.WIRE.value},
            values={"payment_method": CustomerPaymentMethod.WIRE.value})
        if not moved:  # settled by another channel a moment ago: a second payment for a person
            return NEEDS_REVIEW, (f"Customer invoice {invoice.number} was settled meanwhile: a second payment, "
                                  "to refund or allocate"), None, invoice.id
        note = f"Settles customer invoice {invoice.number}"
        return SETTLED_INVOICE, note + (" (a card collection was under way: flagged)" if collecting else ""), \
            None, invoice.id
    named = _named_receivable(session, entry, owner, open_only=False)
    if named is None:
        return UNMATCHED, "No open transfer or customer invoice matches this credit", None, None
    if named.consolidated_into_id is not None and named.status != InvoiceStatus.PAID.value:
        return NEEDS_REVIEW, (f"Customer invoice {named.number} is billed within a consolidated invoice: "
                        "the payment is allocated to that one by a person"), None, named.id
    if named.status == InvoiceStatus.PAID.value:
        return ALREADY_SETTLED, (f"Customer invoice {named.number} is already paid"
                                 f"{f' ({named.payment_method})' if named.payment_method else ''}: "
                                 "a second payment, to refund or allocate"), None, named.id
    if named.currency != entry.currency or named.total_minor != entry.amount_minor:
        return AMOUNT_DIFFERS, (f"Customer invoice {named.number} is for "
                                f"{_amount(named.total_minor, named.currency)}"), None, named.id
    return NEEDS_REVIEW, f"Customer invoice {named.number} is {named.status}, not open for payment", None, named.id


def _reconcile(session: Session, actor: Actor, entry: StatementEntry, label: str,
               owner: int) -> tuple[str, str, int | None, int | None]:
    """(outcome, note, transaction id, invoice id) for one new line of a statement of `owner`,
    applying what it proves.

    Which way the money went is the line's sign and the bank's transaction code
    (StatementEntry.direction): only money out confirms a transfer paid; money back that names
    a transfer returns it."""
    direction = entry.direction
    if direction == Direction.NONE:
        return UNMATCHED, "The line moves no money", None, None
    transaction = _our_transaction(session, entry, owner)
    if direction == Direction.REVERSAL:
        if not OUR_REFERENCE.search(f"{entry.reference} {entry.description}"):
            transaction = None  # an open transfer of the same amount is no clue to what this reverses
        return NEEDS_REVIEW, (f"The bank takes back an earlier credit ({entry.bank_code or 'reversal'})"
                              + (f" naming transfer {transaction.reference}" if transaction else "")
                              + ": find the booking it reverses"), transaction.id if transaction else None, None
    if direction == Direction.RETURN:
        if transaction is None:
            return UNMATCHED, (f"Money returned ({_evidence(entry)}) naming no transfer of ours: "
                               "find the payment it belongs to"), None, None
        return _returned(session, actor, entry, transaction, owner, _evidence(entry))
    if direction == Direction.CREDIT:
        if transaction is None:
            return _credit(session, actor, entry, label, owner)
        # Money in that names our transfer: it came back. Without the bank's return code that
        # holds only for the transfer's very amount; any other credit is a person's to classify.
        if transaction.target_currency == entry.currency and transaction.target_amount_minor == entry.amount_minor:
            return _returned(session, actor, entry, transaction, owner, "credited back in full, no return code")
        return NEEDS_REVIEW, (f"A credit of {_amount(entry.amount_minor, entry.currency)} names transfer "
                              f"{transaction.reference} of {_amount(transaction.target_amount_minor, transaction.target_currency)} "
                              "without a return code: check with the bank"), transaction.id, None
    if transaction is None:
        found = OUR_REFERENCE.search(f"{entry.reference} {entry.description}")
        return UNMATCHED, (f"Reference {found.group(0)} is no transfer of this account's organization" if found
                           else "No transfer matches this line"), None, None
    if transaction.target_currency != entry.currency or transaction.target_amount_minor != abs(entry.amount_minor):
        return AMOUNT_DIFFERS, (f"Transfer {transaction.reference} is "
                                f"{_amount(transaction.target_amount_minor, transaction.target_currency)}"), transaction.id, None
    if transaction.status == T.PAID.value:
        return ALREADY_SETTLED, (f"Transfer {transaction.reference} was already confirmed paid "
                                 f"({transaction.confirmation_reference or 'no reference'}): "
                                 "a second debit may be a second payment"), transaction.id, None
    if transaction.status not in (T.PROCESSING.value, T.IN_REVIEW.value):
        return NEEDS_REVIEW, (f"Transfer {transaction.reference} is {transaction.status}, yet the bank "
                              "debited it: check it was not paid twice before retrying"), transaction.id, None
    settle_paid(session, actor, [stored_id(transaction)], confirmation=label,
                from_statuses=(T.PROCESSING.value, T.IN_REVIEW.value))
    return MATCHED, "", transaction.id, None


def _evidence(entry: StatementEntry) -> str:
    """What books this line as a return, for the note a person reads."""
    return ", ".join(part for part in (entry.return_reason, entry.bank_code if entry.return_coded else "",
                                       "reversal" if entry.reversal else "") if part) or "return"


def import_statement(session: Session, actor: Actor, filename: str, content: bytes) -> StatementReport:
    """Read a statement and reconcile every line, all in one transaction."""
    require(actor, Action.PAYOUT_MANAGE)
    filename = printable(filename) or "statement"  # stored and shown: no NUL or line breaks
    try:
        kind, entries = read_statement(content)
    except StatementError as exc:
        raise FieldErrors({"file": str(exc)}) from None
    digest = hashlib.sha256(content).hexdigest()
    earlier = session.execute(select(col(BankStatement.imported_at)).join(
        StoredDocument, col(StoredDocument.id) == BankStatement.document_id).where(
        col(StoredDocument.sha256) == digest)
    ).scalar_one_or_none()
    if earlier is not None:
        raise Conflict(f"This statement was already imported on {earlier:%Y-%m-%d %H:%M}")
    crash_points.reached("statement_read")
    document = documents.store(session, content, filename, "text/plain")
    statement = BankStatement(document_id=stored_id(document), filename=filename[:255], format=kind,
                              line_count=len(entries), imported_by_id=actor.user_id)
    session.add(statement)
    session.flush()
    statement_id = stored_id(statement)
    # Stamped from whoever imports it (db/tenancy.py); its lines reach only this owner's records.
    owner = tenancy.owner(statement)
    owners_statements = select(col(BankStatement.id)).where(col(BankStatement.owner_id) == owner)
    report = StatementReport(statement_id, kind, len(entries))
    seen: set[str] = set()
    for number, entry in enumerate(entries, start=1):
        key = _key(entry)
        before = key in seen or session.execute(select(func.count()).select_from(StatementLine).where(
            col(StatementLine.line_key) == key, col(StatementLine.statement_id).in_(owners_statements))
        ).scalar_one() > 0
        seen.add(key)
        if before:
            outcome, note, tid, iid = DUPLICATE, "The same booking was imported before", None, None
        else:
            outcome, note, tid, iid = _reconcile(session, actor, entry, f"{filename[:40]} line {number}", owner)
        session.add(StatementLine(
            statement_id=statement_id, line_no=number, booking_date=entry.booking_date,
            amount_minor=entry.amount_minor, currency=entry.currency, reference=entry.reference[:140],
            counterparty=entry.counterparty[:140], description=entry.description[:255], line_key=key,
            outcome=outcome, note=note[:255], transaction_id=tid, invoice_id=iid))
        report.outcomes[outcome] = report.outcomes.get(outcome, 0) + 1
        crash_points.reached("statement_line_reconciled")
    session.flush()
    audit.record(session, actor, "bank_statement.import", "bank_statement", statement.id,
                 after={"filename": filename, "format": kind, "lines": len(entries), **report.outcomes})
    crash_points.reached("statement_imported")  # everything applied, nothing committed
    return report


@dataclass
class ExceptionRow:
    line_id: int
    statement: str
    booking_date: str
    amount_minor: int
    currency: str
    reference: str
    counterparty: str
    outcome: str
    note: str


def exceptions(session: Session, actor: Actor, limit: int = 100) -> list[ExceptionRow]:
    """The newest lines a person must look at."""
    require(actor, Action.PAYOUT_VIEW)
    rows = session.execute(select(StatementLine, col(BankStatement.filename)).join(
        BankStatement, col(BankStatement.id) == StatementLine.statement_id).where(
        col(StatementLine.outcome).in_(EXCEPTIONS)).order_by(col(StatementLine.id).desc()).limit(limit)).all()
    return [ExceptionRow(line.id, name, line.booking_date.isoformat(), line.amount_minor, line.currency,
                         line.reference, line.counterparty, line.outcome, line.note) for line, name in rows]

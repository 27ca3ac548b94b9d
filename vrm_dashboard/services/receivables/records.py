"""Customer invoices (receivables): made with the terms in force for their organization on
the day they are generated, and dated by their posting date.

An invoice keeps the terms it was generated with; its due date is its posting date plus
those terms, so only a change of posting date moves it."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import update
from sqlmodel import Session, col

from vrm_dashboard.db.models import Invoice, InvoiceKind, InvoiceLine, stored_id, utcnow
from vrm_dashboard.domain.collection_rules import OPEN_STATUSES, CustomerPaymentMethod
from vrm_dashboard.domain.invoice_status import InvoiceStatus
from vrm_dashboard.domain.money import MAX_MINOR_UNITS, MoneyError, check_currency, check_finite
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.domain.terms_rules import TermsError, due_date
from vrm_dashboard.services.platform import audit
from vrm_dashboard.services.platform.actors import Actor, require
from vrm_dashboard.services.platform.errors import Conflict, FieldErrors, NotFound
from vrm_dashboard.services.receivables import organizations


@dataclass(frozen=True)
class ChargeLine:
    description: str
    quantity: Decimal
    unit_price_minor: int

    @property
    def amount_minor(self) -> int:
        # Half-up to the cent, as printed on the line.
        return int((self.quantity * self.unit_price_minor).to_integral_value(rounding="ROUND_HALF_UP"))


def _line_problem(line: ChargeLine) -> str | None:
    """Why a line cannot be billed: a quantity or price no invoice has, or an amount too large to store."""
    try:
        check_finite(line.quantity, "The quantity")
    except MoneyError as exc:
        return str(exc)
    if abs(line.unit_price_minor) >= MAX_MINOR_UNITS or abs(line.amount_minor) >= MAX_MINOR_UNITS:
        return f"The amount of {line.description[:40]!r} is too large to be an amount"
    return None


def _amount_problems(lines: list[ChargeLine], tax_rate_percent: Decimal) -> dict[str, str]:
    errors: dict[str, str] = {}
    problem = next((p for p in map(_line_problem, lines) if p), None)
    if problem:
        errors["lines"] = problem
    if not tax_rate_percent.is_finite() or not 0 <= tax_rate_percent <= 100:
        errors["tax_rate_percent"] = "The tax rate is a percentage from 0 to 100"
    elif not problem and abs(sum(line.amount_minor for line in lines)) * 2 >= MAX_MINOR_UNITS:
        # The tax adds at most the subtotal again.
        errors["lines"] = "The invoice's total is too large to be an amount"
    return errors


def bill(session: Session, actor: Actor, organization_id: int, currency: str, lines: list[ChargeLine],
         issue_date: date, tax_rate_percent: Decimal = Decimal(0), number: str | None = None,
         status: str = InvoiceStatus.APPROVED.value, tax_minor: int | None = None) -> Invoice:
    """A customer invoice to one of the actor's organizations, with the terms in force for it
    on the day it is generated (`issue_date`), posted that day."""
    require(actor, Action.COLLECTION_MANAGE)
    errors = {}
    try:
        check_currency(currency)
    except MoneyError as exc:
        errors["currency"] = str(exc)
    if not lines:
        errors["lines"] = "An invoice needs at least one line"
    errors.update(_amount_problems(lines, tax_rate_percent))
    if errors:
        raise FieldErrors(errors)
    org, = organizations.require_managed(session, actor, [organization_id])
    org_id = stored_id(org)
    terms = organizations.terms_for(session, {org_id}, issue_date)[org_id]
    try:
        due = due_date(issue_date, terms)
    except TermsError as exc:
        raise FieldErrors({"issue_date": str(exc)}) from None
    subtotal = sum(line.amount_minor for line in lines)
    tax = tax_minor if tax_minor is not None else int(
        (Decimal(subtotal) * tax_rate_percent / 100).to_integral_value(rounding="ROUND_HALF_UP"))
    invoice = Invoice(
        number=number or f"AR-PENDING-{secrets.token_hex(8)}", kind=InvoiceKind.SELF_GENERATED.value,
        # The issuer owns a receivable: the customer's parent organization, which manages it.
        organization_id=org.id, owner_id=org.parent_id, currency=currency, subtotal_minor=subtotal, tax_minor=tax,
        total_minor=subtotal + tax, issue_date=issue_date, posting_date=issue_date,
        payment_terms_days=terms, due_date=due,
        payment_method=CustomerPaymentMethod.UNKNOWN.value, status=status,
        billing_period=f"{issue_date:%Y-%m}", created_by_id=actor.user_id)
    session.add(invoice)
    session.flush()
    if number is None:
        invoice.number = f"AR-{issue_date:%Y}-{invoice.id:07d}"
    for position, line in enumerate(lines, start=1):
        session.add(InvoiceLine(invoice_id=stored_id(invoice), position=position, description=line.description[:255],
                                quantity=line.quantity, unit_price_minor=line.unit_price_minor,
                                amount_minor=line.amount_minor))
    session.add(invoice)
    session.flush()
    audit.record(session, actor, "receivable.create", "invoice", invoice.id, after=invoice)
    return invoice


def _own_receivable(session: Session, actor: Actor, invoice_id: int) -> Invoice:
    invoice = session.get(Invoice, invoice_id)
    if invoice is None or invoice.organization_id is None:
        raise NotFound(f"No customer invoice {invoice_id}")
    organizations.require_managed(session, actor, [invoice.organization_id])
    return invoice


def set_posting_date(session: Session, actor: Actor, invoice_id: int, posting_date: date) -> Invoice:
    """Post the invoice on another day; its due date follows with the invoice's own terms."""
    require(actor, Action.COLLECTION_MANAGE)
    invoice = _own_receivable(session, actor, invoice_id)
    if invoice.status not in OPEN_STATUSES or invoice.status == InvoiceStatus.PROCESSING.value:
        raise Conflict(f"Invoice {invoice.number} is {invoice.status}: its dates can no longer change")
    if invoice.consolidated_into_id is not None:
        raise Conflict(f"Invoice {invoice.number} is part of a consolidated invoice: change that one")
    if posting_date < invoice.issue_date:
        raise FieldErrors({"posting_date": f"The posting date cannot be before the invoice date {invoice.issue_date}"})
    terms = invoice.payment_terms_days if invoice.payment_terms_days is not None else organizations.default_terms()
    try:
        due = due_date(posting_date, terms)
    except TermsError as exc:
        raise FieldErrors({"posting_date": str(exc)}) from None
    before = {"posting_date": invoice.posting_date, "due_date": invoice.due_date}
    invoice.posting_date, invoice.due_date = posting_date, due
    invoice.updated_at, invoice.updated_by_id = utcnow(), actor.user_id
    session.add(invoice)
    session.flush()
    audit.record(session, actor, "receivable.posting_date", "invoice", invoice.id, before=before,
                 after={"posting_date": invoice.posting_date, "due_date": invoice.due_date})
    return invoice


def set_reminders_stopped(session: Session, actor: Actor, invoice_ids: list[int], stopped: bool) -> int:
    """The "stop reminders" switch of single invoices."""
    require(actor, Action.COLLECTION_MANAGE)
    invoices = [_own_receivable(session, actor, int(i)) for i in invoice_ids]
    changed = [i for i in invoices if i.reminders_stopped != stopped]
    if changed:
        session.execute(update(Invoice).where(col(Invoice.id).in_([i.id for i in changed])).values(
            reminders_stopped=stopped, updated_at=utcnow()))
        audit.record_many(session, actor, "receivable.reminders", "invoice", [
            (i.id, {"reminders_stopped": not stopped}, {"reminders_stopped": stopped}) for i in changed])
    return len(changed)


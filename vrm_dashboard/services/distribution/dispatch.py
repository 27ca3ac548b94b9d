"""Automatic distribution: which invoices are due to be e-mailed, the checks that hold one
back, the 24-hour deadline and its alert, and what the team does with held, bounced and
failed deliveries. Sending itself is services.mail.outgoing."""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import ColumnElement, and_, exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from vrm_dashboard.db import tenancy
from vrm_dashboard.db.models import (
    AppSetting,
    DocumentType,
    EmailDelivery,
    Invoice,
    InvoiceLine,
    Notification,
    Organization,
    Permission,
    RolePermission,
    User,
    UserRole,
    Vendor,
    stored_id,
    utcnow,
)
from vrm_dashboard.domain.distribution_rules import (
    SEND_WITHIN,
    TRIGGER_STATUSES,
    DeliveryStatus as D,
    InvoiceFacts,
    InvoiceType,
    Trigger,
    hold_reasons,
)
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.distribution import branding
from vrm_dashboard.services.mail import outgoing as outgoing_mail
from vrm_dashboard.services.platform import audit, settings as cfg
from vrm_dashboard.services.platform.actors import Actor, require
from vrm_dashboard.services.platform.errors import Conflict, FieldErrors, NotFound
from vrm_dashboard.services.platform.job_runs import JobResult

CHUNK = 1000
JOB = Actor.system("distribute_invoices")
OPEN = (D.QUEUED.value, D.HELD.value, D.SENDING.value)


@lru_cache(maxsize=4096)
def recipient_problem(address: str) -> str | None:
    """Why an address cannot receive mail, or None. Syntax only: no DNS from here."""
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        return str(exc)
    return None


def subject_for(company: str, invoice: Invoice) -> str:
    what = "credit note" if invoice.document_type == DocumentType.CREDIT_NOTE.value else "invoice"
    return f"Your {company} {what} {invoice.number}"[:255]


def _since(session: Session) -> datetime | None:
    raw = cfg.get(session, cfg.DISTRIBUTION_SINCE)
    return datetime.fromisoformat(raw) if raw else None


def _triggered(session: Session) -> ColumnElement[bool]:
    """SQL: the invoice's type is distributed and its trigger holds, by its owner's triggers
    (each organization's own, or the installation's): one run mails every organization's."""
    installation, own = cfg.by_organization(session, cfg.DISTRIBUTION_TRIGGERS)

    def by(triggers: dict[str, str]) -> ColumnElement[bool]:
        holds = lambda t: col(Invoice.status).in_(TRIGGER_STATUSES[Trigger(triggers[t.value])])  # noqa: E731
        customer = and_(col(Invoice.organization_id).is_not(None), holds(InvoiceType.CUSTOMER))
        self_billing = and_(col(Invoice.organization_id).is_(None), col(Invoice.vendor_id).is_not(None),
                            col(Invoice.kind) == "self_generated", holds(InvoiceType.SELF_BILLING))
        return or_(customer, self_billing)

    if not own:
        return by(installation)
    return or_(*(and_(col(Invoice.owner_id) == owner, by(triggers)) for owner, triggers in own.items()),
               and_(col(Invoice.owner_id).not_in(list(own)), by(installation)))


@dataclass
class _Candidate:
    invoice: Invoice
    name: str | None
    address: str | None
    lines_minor: int | None
    line_count: int


def _recipients(session: Session, invoices: list[Invoice]) -> dict[int, tuple[str | None, str | None]]:
    vendor_ids = {i.vendor_id for i in invoices if i.organization_id is None and i.vendor_id}
    org_ids = {i.organization_id for i in invoices if i.organization_id}
    vendors = {v.id: (v.legal_name or v.name, v.email) for v in session.execute(
        select(Vendor).where(col(Vendor.id).in_(vendor_ids))).scalars()} if vendor_ids else {}
    orgs = {o.id: (o.name, o.billing_email) for o in session.execute(
        select(Organization).where(col(Organization.id).in_(org_ids))).scalars()} if org_ids else {}
    return {stored_id(i): (orgs.get(i.organization_id) if i.organization_id else vendors.get(i.vendor_id))
            or (None, None) for i in invoices}


def _candidates(session: Session, invoices: list[Invoice]) -> list[_Candidate]:
    ids = [i.id for i in invoices]
    sums = {row[0]: (int(row[1]), int(row[2])) for row in session.execute(
        select(col(InvoiceLine.invoice_id), func.sum(InvoiceLine.amount_minor), func.count())
        .where(col(InvoiceLine.invoice_id).in_(ids)).group_by(col(InvoiceLine.invoice_id)))}
    recipients = _recipients(session, invoices)
    return [_Candidate(i, *recipients[stored_id(i)], *(sums.get(i.id) or (None, 0))) for i in invoices]


def check(candidate: _Candidate) -> list[str]:
    invoice = candidate.invoice
    facts = InvoiceFacts(
        number=invoice.number or "", currency=invoice.currency, subtotal_minor=invoice.subtotal_minor,
        tax_minor=invoice.tax_minor, total_minor=invoice.total_minor, lines_minor=candidate.lines_minor,
        line_count=candidate.line_count, recipient_name=candidate.name, recipient=candidate.address,
        issue_date_set=invoice.issue_date is not None)
    return hold_reasons(facts, recipient_problem(candidate.address) if candidate.address else None)


def _insert_ignoring_existing(session: Session, rows: list[dict]) -> None:
    """Insert deliveries; an invoice another run queued meanwhile keeps that run's row."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.connection().execute(insert(EmailDelivery).on_conflict_do_nothing(index_elements=["invoice_id"]), rows)


def delivery_row(invoice: Invoice, company: str, candidate_reasons: list[str], address: str | None,
                 now: datetime) -> dict:
    return {
        "owner_id": invoice.owner_id, "invoice_id": invoice.id, "recipient": (address or "")[:254],
        "subject": subject_for(company, invoice),
        "status": D.HELD.value if candidate_reasons else D.QUEUED.value,
        "hold_reasons": "\n".join(candidate_reasons) or None, "token": secrets.token_urlsafe(24),
        "attempts": 0, "send_by": now + SEND_WITHIN, "created_at": now,
    }


def queue_invoices(session: Session, invoices: list[Invoice], now: datetime | None = None) -> tuple[int, int]:
    """Queue these invoices for sending, or hold them with reasons: (queued, held)."""
    now = now or utcnow()
    companies: dict[int, str] = {}

    def company_of(invoice: Invoice) -> str:
        # Each invoice goes out in its owner's name: a run queues every organization's invoices.
        owner = tenancy.owner(invoice)
        if owner not in companies:
            companies[owner] = branding.current(session, owner).company_name
        return companies[owner]

    queued = held = 0
    for start in range(0, len(invoices), CHUNK):
        rows = []
        for candidate in _candidates(session, invoices[start:start + CHUNK]):
            reasons = check(candidate)
            rows.append(delivery_row(candidate.invoice, company_of(candidate.invoice), reasons, candidate.address,
                                     now))
            held += bool(reasons)
            queued += not reasons
        _insert_ignoring_existing(session, rows)
    return queued, held


def queue_due(session: Session, now: datetime | None = None, limit: int = 20_000) -> tuple[int, int]:
    """Every invoice whose trigger holds and that has no delivery yet."""
    since = _since(session)
    query = select(Invoice).where(
        _triggered(session), ~exists().where(col(EmailDelivery.invoice_id) == Invoice.id))
    if since is not None:
        query = query.where(col(Invoice.updated_at) >= since)
    invoices = list(session.execute(query.order_by(col(Invoice.id)).limit(limit)).scalars())
    return queue_invoices(session, invoices, now)


def recheck_held(session: Session) -> int:
    """Held invoices whose problem was fixed (an address added, say) are queued."""
    held = session.execute(select(EmailDelivery, Invoice).join(Invoice, col(Invoice.id) == EmailDelivery.invoice_id)
                           .where(col(EmailDelivery.status) == D.HELD.value).limit(CHUNK)).all()
    if not held:
        return 0
    by_invoice = {c.invoice.id: c for c in _candidates(session, [invoice for _d, invoice in held])}
    released = 0
    for delivery, invoice in held:
        candidate = by_invoice[invoice.id]
        reasons = check(candidate)
        delivery.recipient = (candidate.address or "")[:254]
        delivery.hold_reasons = "\n".join(reasons) or None
        if not reasons:
            delivery.status = D.QUEUED.value
            released += 1
        session.add(delivery)
    return released


def _managers(session: Session, organization_id: int, action: Action = Action.DISTRIBUTION_MANAGE) -> list[int]:
    """The organization's active users who may do `action` (run distribution, by default; an
    account in no organization works in the root organization, db/tenancy.py)."""
    members = col(User.organization_id) == organization_id
    if organization_id == tenancy.root_organization_id(session):
        members = or_(members, col(User.organization_id).is_(None))
    return list(session.execute(
        select(col(User.id)).distinct().join(UserRole, col(UserRole.user_id) == User.id)
        .join(RolePermission, col(RolePermission.role_id) == UserRole.role_id)
        .join(Permission, col(Permission.id) == RolePermission.permission_id)
        .where(col(Permission.action) == action.value, col(User.is_active), members,
               col(User.vendor_id).is_(None))).scalars())


def alert_team(session: Session, subject: str, body: str, owner_id: int | None = None,
               team: Action = Action.DISTRIBUTION_MANAGE) -> None:
    """Notify the team (distribution, or those who may do `team`) of the organization the alert
    is about (`owner_id`, the owner of the invoice or delivery it names): never another
    organization's team, which must not read its invoice numbers. Without one, the organization
    the session acts for."""
    if owner_id is None:
        scope = tenancy.scope_of(session)
        owner_id = scope.home if scope is not None and scope.home is not None else tenancy.root_organization_id(session)
    for user_id in _managers(session, owner_id, team):
        session.add(Notification(owner_id=owner_id, user_id=user_id, subject=subject[:200], body=body))


def alert_overdue(session: Session, now: datetime | None = None) -> int:
    """Tell each organization's team, once per invoice, about its invoices not sent within
    their 24 hours."""
    now = now or utcnow()
    late = session.execute(select(col(EmailDelivery.id), col(Invoice.number), col(EmailDelivery.status),
                                  col(EmailDelivery.hold_reasons), col(EmailDelivery.owner_id))
                           .join(Invoice, col(Invoice.id) == EmailDelivery.invoice_id)
                           .where(col(EmailDelivery.status).in_(OPEN), col(EmailDelivery.send_by) < now,
                                  col(EmailDelivery.alerted_at).is_(None)).order_by(col(EmailDelivery.id))).all()
    if not late:
        return 0
    by_owner: dict[int, list] = {}
    for row in late:
        by_owner.setdefault(row[4], []).append(row)
    for owner_id, rows in by_owner.items():
        listed = "\n".join(f"{number}: {status}" + (f" ({(reasons or '').splitlines()[0]})" if reasons else "")
                           for _id, number, status, reasons, _owner in rows[:20])
        more = f"\n... and {len(rows) - 20} more" if len(rows) > 20 else ""
        alert_team(session, f"{len(rows)} invoice(s) not sent within 24 hours",
                   f"These invoices missed their distribution deadline:\n{listed}{more}", owner_id=owner_id)
    session.execute(update(EmailDelivery).where(col(EmailDelivery.id).in_([row[0] for row in late]))
                    .values(alerted_at=now))
    return len(late)


def distribute(session: Session) -> JobResult:
    """The scheduler job: queue what is due, release what was fixed, alert what is late."""
    queued, held = queue_due(session)
    released = recheck_held(session)
    late = alert_overdue(session)
    return JobResult(queued + released, errors=held + late,
                     detail=f"queued {queued}, held {held}, released {released}, late {late}")


def send_now(session: Session, actor: Actor) -> str:
    """A person runs distribution at once: queue what is due, then send it (no worker
    processes: this runs inside the web server)."""
    require(actor, Action.DISTRIBUTION_MANAGE)
    audit.record(session, actor, "distribution.run_requested", "job", "distribute_invoices")
    queued = distribute(session)
    session.commit()
    sent = outgoing_mail.send_queued(session, parallel=False)
    return f"Distribution: {queued.detail}. Mail: {sent.detail or 'nothing to send'}."


def _delivery(session: Session, delivery_id: int) -> EmailDelivery:
    delivery = session.get(EmailDelivery, delivery_id)
    if delivery is None or delivery.invoice_id is None:
        raise NotFound(f"No invoice delivery {delivery_id}")
    return delivery


def send_again(session: Session, actor: Actor, delivery_id: int, recipient: str | None = None) -> EmailDelivery:
    """Queue a held, bounced or failed invoice again, to a corrected address if given."""
    require(actor, Action.DISTRIBUTION_MANAGE)
    delivery = _delivery(session, delivery_id)
    if delivery.status not in (D.HELD.value, D.BOUNCED.value, D.FAILED.value):
        raise Conflict(f"This invoice is {delivery.status}; only held, bounced or failed ones are sent again")
    before = audit.snapshot(delivery)
    if recipient is not None and recipient.strip():
        problem = recipient_problem(recipient.strip())
        if problem:
            raise FieldErrors({"recipient": problem})
        delivery.recipient = recipient.strip()
    invoice = session.get(Invoice, delivery.invoice_id)
    assert invoice is not None, "a delivery's invoice is a foreign key"
    candidate = _candidates(session, [invoice])[0]
    candidate.address = delivery.recipient or candidate.address
    reasons = check(candidate)
    if reasons:
        raise Conflict("Still held: " + "; ".join(reasons))
    now = utcnow()
    delivery.status, delivery.hold_reasons, delivery.attempts = D.QUEUED.value, None, 0
    delivery.next_attempt_at = delivery.claimed_at = delivery.bounced_at = None
    delivery.last_error, delivery.send_by, delivery.alerted_at = None, now + SEND_WITHIN, None
    session.add(delivery)
    session.flush()
    audit.record(session, actor, "delivery.send_again", "email_delivery", delivery.id, before=before, after=delivery)
    return delivery


def queue_now(session: Session, actor: Actor, invoices: list[Invoice]) -> None:
    """Documents the team issues by hand (credit notes, revisions) go out at once."""
    require(actor, Action.DISTRIBUTION_MANAGE)
    queue_invoices(session, invoices)


def record_distribution_start(session: Session, at: datetime | None = None) -> None:
    """What exists now is history: later changes are distributed, earlier ones never."""
    row = session.get(AppSetting, cfg.DISTRIBUTION_SINCE) or AppSetting(key=cfg.DISTRIBUTION_SINCE, value="")
    row.value = json.dumps((at or utcnow() + timedelta(seconds=1)).isoformat())
    row.updated_at = utcnow()
    session.add(row)

"""Organizations in their hierarchy and their payment terms.

A user manages the organizations directly below their own: a distributor's admins its direct
customers and sellers, a seller's admins its end customers. Every read and change here is
limited to that scope, whoever calls (a screen, the API, a crafted event)."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import ColumnElement, Select, SQLColumnExpression, false, func, insert, or_, select, true, update
from sqlmodel import Session, col

from vrm_dashboard.config import settings
from vrm_dashboard.db.models import Organization, OrganizationTier, PaymentTermsChange, User, utcnow
from vrm_dashboard.domain.collection_rules import CHARGEABLE
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.domain.terms_rules import TermsError, effective_from, parse_terms, terms_on
from vrm_dashboard.services.platform import audit
from vrm_dashboard.services.platform.actors import Actor, require
from vrm_dashboard.services.platform.errors import FieldErrors, NotFound, PermissionDenied

MAX_PAGE_SIZE = 200
TIER_LABELS = {
    OrganizationTier.DISTRIBUTOR.value: "Distributor",
    OrganizationTier.DIRECT_CUSTOMER.value: "Direct Customer",
    OrganizationTier.SELLER.value: "Indirect Seller",
    OrganizationTier.END_CUSTOMER.value: "End Customer",
}
# Which tiers sit directly below which: the hierarchy the whole product assumes.
CHILD_TIERS = {
    OrganizationTier.DISTRIBUTOR.value: {OrganizationTier.DIRECT_CUSTOMER.value, OrganizationTier.SELLER.value},
    OrganizationTier.SELLER.value: {OrganizationTier.END_CUSTOMER.value},
}


def default_terms() -> int:
    return settings().default_payment_terms_days


def effective_terms(org: Organization) -> int:
    return org.payment_terms_days if org.payment_terms_days is not None else default_terms()


def managed(actor: Actor) -> ColumnElement[bool]:
    """The organizations this actor may see and change, as a condition on Organization."""
    if "system" in actor.roles:
        return true()
    if actor.organization_id is None:
        return false()
    return col(Organization.parent_id) == actor.organization_id


def require_managed(session: Session, actor: Actor, organization_ids: list[int]) -> list[Organization]:
    """The organizations, all of them within the actor's scope, or NotFound (nothing is changed
    for any of them). One outside the scope answers exactly as one that does not exist: an
    error never tells of another organization, not even its name."""
    wanted = set(organization_ids)
    found = list(session.execute(select(Organization).where(col(Organization.id).in_(wanted), managed(actor)))
                 .scalars())
    if len(found) != len(wanted):
        missing = sorted(wanted - {o.id for o in found})
        raise NotFound(f"No organization {', '.join(map(str, missing[:5]))} among those you manage")
    return found


@dataclass
class OrganizationQuery:
    search: str = ""
    tier: str = ""
    country: str = ""
    uses_default: str = ""  # "yes", "no" or "" (either)
    status: str = ""  # "active", "inactive" or ""
    sort: str = "name"
    descending: bool = False
    page: int = 1
    page_size: int = 25


@dataclass
class OrganizationRow:
    id: int
    name: str
    erp_id: str
    country: str
    tier: str
    is_active: bool
    configured_days: int | None
    payment_terms_days: int
    uses_default: bool
    updated_at: datetime
    updated_by: str
    # A change made this month, in force from this day (None: nothing pending).
    pending_from: date | None = None
    reminders_stopped: bool = False


@dataclass
class OrganizationPage:
    rows: list[OrganizationRow]
    total_rows: int
    page: int
    page_count: int


# "terms" sorts by the terms in force, an expression built per query (see _ordered).
SORTABLE: dict[str, SQLColumnExpression[Any] | None] = {
    "name": col(Organization.name), "erp_id": col(Organization.erp_id), "id": col(Organization.id),
    "country": col(Organization.country), "tier": col(Organization.tier), "status": col(Organization.is_active),
    "terms": None, "default": col(Organization.payment_terms_days).is_(None),
    "updated_at": col(Organization.updated_at), "updated_by": col(User.full_name),
}


def _conditions(actor: Actor, query: OrganizationQuery) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [managed(actor)]
    text = query.search.strip()
    if text:
        like = f"%{text.lower()}%"
        matches: list[ColumnElement[bool]] = [func.lower(Organization.name).like(like),
                                              func.lower(Organization.erp_id).like(like)]
        if text.isdigit():
            matches.append(col(Organization.id) == int(text))
        conditions.append(or_(*matches))
    if query.tier:
        if query.tier not in TIER_LABELS:
            raise FieldErrors({"tier": f"Unknown tier {query.tier!r}"})
        conditions.append(col(Organization.tier) == query.tier)
    if query.country:
        conditions.append(col(Organization.country) == query.country.strip().upper())
    if query.uses_default in ("yes", "no"):
        conditions.append(col(Organization.payment_terms_days).is_(None) if query.uses_default == "yes"
                          else col(Organization.payment_terms_days).is_not(None))
    if query.status in ("active", "inactive"):
        conditions.append(col(Organization.is_active).is_(query.status == "active"))
    return conditions


def _ordered(statement: Select[Organization, str], query: OrganizationQuery) -> Select[Organization, str]:
    if query.sort not in SORTABLE:
        raise FieldErrors({"sort": f"Cannot sort by {query.sort!r}"})
    # The default can change, so terms sort by what is in force, not what is stored.
    column = SORTABLE[query.sort] if query.sort != "terms" else func.coalesce(
        Organization.payment_terms_days, default_terms())
    assert column is not None, 'only "terms" has no column, and it got its expression above'
    tie = col(Organization.id).desc() if query.descending else col(Organization.id)
    return statement.order_by(column.desc() if query.descending else column.asc(), tie)


def _rows_of(session: Session, statement: Select[Organization, str], today: date) -> list[OrganizationRow]:
    found = session.execute(statement).all()
    ids = [o.id for o, _ in found]
    pending: dict[int, date] = dict(session.execute(
        select(col(PaymentTermsChange.organization_id), func.max(PaymentTermsChange.effective_from))
        .where(col(PaymentTermsChange.organization_id).in_(ids), col(PaymentTermsChange.effective_from) > today)
        .group_by(col(PaymentTermsChange.organization_id))).all()) if ids else {}
    return [
        OrganizationRow(o.id, o.name, o.erp_id or "", o.country, o.tier, o.is_active, o.payment_terms_days,
                        effective_terms(o), o.payment_terms_days is None, o.updated_at, who or "",
                        pending.get(o.id), o.reminders_stopped)
        for o, who in found
    ]


def _select_rows() -> Select[Organization, str]:
    return select(Organization, col(User.full_name)).outerjoin(User, col(User.id) == Organization.updated_by_id)


def list_organizations(session: Session, actor: Actor, query: OrganizationQuery | None = None,
                       today: date | None = None) -> OrganizationPage:
    """One page of the organizations the actor manages, filtered and sorted."""
    require(actor, Action.TERMS_VIEW)
    query = query or OrganizationQuery()
    size = max(1, min(MAX_PAGE_SIZE, int(query.page_size)))
    conditions = _conditions(actor, query)
    total = int(session.execute(select(func.count()).select_from(Organization).where(*conditions)).scalar_one())
    page_count = max(1, -(-total // size))
    page = max(1, min(int(query.page), page_count))
    statement = _ordered(_select_rows().where(*conditions), query).offset((page - 1) * size).limit(size)
    return OrganizationPage(_rows_of(session, statement, today or date.today()), total, page, page_count)


def iter_organizations(session: Session, actor: Actor, query: OrganizationQuery | None,
                       today: date | None = None, chunk: int = 2000) -> Iterator[OrganizationRow]:
    """Every organization of the view (or all the actor manages, query None), in its order:
    for exports."""
    require(actor, Action.TERMS_VIEW)
    query = query or OrganizationQuery()
    statement = _ordered(_select_rows().where(*_conditions(actor, query)), query)
    offset = 0
    while True:
        rows = _rows_of(session, statement.offset(offset).limit(chunk), today or date.today())
        yield from rows
        if len(rows) < chunk:
            return
        offset += chunk


@dataclass(frozen=True)
class TermsChange:
    """What a terms change did: how many organizations changed, to what, and from when."""

    changed: int
    days: int | None  # None: back to the default terms
    effective_from: date


def set_terms(session: Session, actor: Actor, organization_ids: list[int], value: object,
              today: date | None = None) -> TermsChange:
    """Set the terms of one or many organizations: a whole number of days, or "default".
    Invoices generated from the first day of next month use them; nothing issued changes.
    All or nothing: one organization out of scope refuses the whole change."""
    require(actor, Action.TERMS_EDIT)
    if not organization_ids:
        raise FieldErrors({"organizations": "Choose at least one organization"})
    if value is None or str(value).strip().lower() == "default":
        days = None
    else:
        try:
            days = parse_terms(value)
        except TermsError as exc:
            raise FieldErrors({"payment_terms_days": str(exc)}) from None
    wanted = {int(i) for i in organization_ids}
    require_managed(session, actor, list(wanted))
    current: dict[int, int | None] = dict(session.execute(
        select(col(Organization.id), col(Organization.payment_terms_days))
        .where(col(Organization.id).in_(wanted))).all())
    changed = [i for i, before in current.items() if before != days]
    starts = effective_from(today or date.today())
    if not changed:
        return TermsChange(0, days, starts)
    now = utcnow()
    session.execute(update(Organization).where(col(Organization.id).in_(changed)).values(
        payment_terms_days=days, updated_at=now, updated_by_id=actor.user_id))
    session.execute(insert(PaymentTermsChange), [
        {"organization_id": i, "days": days, "previous_days": current[i], "effective_from": starts,
         "changed_at": now, "changed_by_id": actor.user_id} for i in changed])
    audit.record_many(session, actor, "organization.terms", "organization", [
        (i, {"payment_terms_days": current[i]}, {"payment_terms_days": days, "effective_from": starts})
        for i in changed])
    return TermsChange(len(changed), days, starts)


@dataclass
class TermsChangeRow:
    effective_from: date
    days: str
    previous_days: str
    changed_at: datetime
    changed_by: str


def terms_history(session: Session, actor: Actor, organization_id: int) -> list[TermsChangeRow]:
    """Every change of the organization's terms, newest first."""
    require(actor, Action.TERMS_VIEW)
    require_managed(session, actor, [organization_id])
    label = lambda days: "Default" if days is None else f"{days} days"  # noqa: E731
    rows = session.execute(
        select(PaymentTermsChange, col(User.full_name))
        .outerjoin(User, col(User.id) == PaymentTermsChange.changed_by_id)
        .where(col(PaymentTermsChange.organization_id) == organization_id)
        .order_by(col(PaymentTermsChange.id).desc())).all()
    return [TermsChangeRow(c.effective_from, label(c.days), label(c.previous_days), c.changed_at, who or "")
            for c, who in rows]


def terms_for(session: Session, organization_ids: set[int], day: date) -> dict[int, int]:
    """The terms each organization's invoices generated on `day` carry."""
    if not organization_ids:
        return {}
    changes: dict[int, list[tuple[date, int | None, int | None]]] = {i: [] for i in organization_ids}
    for org_id, starts, days, previous in session.execute(
            select(col(PaymentTermsChange.organization_id), col(PaymentTermsChange.effective_from),
                   col(PaymentTermsChange.days), col(PaymentTermsChange.previous_days))
            .where(col(PaymentTermsChange.organization_id).in_(organization_ids))
            .order_by(col(PaymentTermsChange.id))):
        changes[org_id].append((starts, days, previous))
    configured: dict[int, int | None] = dict(session.execute(
        select(col(Organization.id), col(Organization.payment_terms_days))
        .where(col(Organization.id).in_(organization_ids))).all())
    return {i: terms_on(day, changes[i], configured.get(i), default_terms()) for i in organization_ids}


def create_organization(session: Session, actor: Actor, name: str, tier: str, country: str,
                        parent_id: int | None = None, erp_id: str | None = None,
                        billing_email: str | None = None) -> Organization:
    """A new organization under one the actor belongs to (or anywhere, for the system); it
    starts on the default terms."""
    require(actor, Action.TERMS_EDIT)
    parent_id = parent_id if parent_id is not None else actor.organization_id
    errors = {}
    if not name.strip():
        errors["name"] = "Give the organization's name"
    if len(country.strip()) != 2:
        errors["country"] = "A two-letter country code, e.g. DE"
    # Only the system places an organization below another than the actor's own; any other
    # parent is read as missing, before it is read at all: the answer never tells of it.
    placeable = parent_id is not None and ("system" in actor.roles or parent_id == actor.organization_id)
    parent = session.get(Organization, parent_id) if placeable else None
    if parent_id is not None and parent is None:
        errors["parent_id"] = f"No organization {parent_id}"
    elif tier == OrganizationTier.DISTRIBUTOR.value:
        if parent is not None:
            errors["tier"] = "A distributor is at the top of the hierarchy"
    elif parent is None or tier not in CHILD_TIERS.get(parent.tier, set()):
        allowed = ", ".join(TIER_LABELS[t] for t in sorted(CHILD_TIERS.get(parent.tier, set()))) if parent else ""
        errors["tier"] = (f"Below {parent.name} can come: {allowed or 'nothing'}" if parent
                          else "Choose the organization it belongs to")
    if errors:
        raise FieldErrors(errors)
    if "system" not in actor.roles and (parent is None or parent.id != actor.organization_id):
        raise PermissionDenied("You may add organizations only below your own")
    org = Organization(name=name.strip(), tier=tier, parent_id=parent_id, country=country.strip().upper(),
                       erp_id=erp_id or None, billing_email=billing_email or None, updated_by_id=actor.user_id)
    session.add(org)
    session.flush()
    audit.record(session, actor, "organization.create", "organization", org.id, after=org)
    return org


def set_reminders_stopped(session: Session, actor: Actor, organization_id: int, stopped: bool) -> None:
    """The "stop reminders" switch of an organization: none of its invoices is reminded."""
    require(actor, Action.COLLECTION_MANAGE)
    org, = require_managed(session, actor, [organization_id])
    if org.reminders_stopped == stopped:
        return
    session.execute(update(Organization).where(col(Organization.id) == org.id).values(
        reminders_stopped=stopped, updated_at=utcnow()))
    audit.record(session, actor, "organization.reminders", "organization", org.id,
                 before={"reminders_stopped": not stopped}, after={"reminders_stopped": stopped})


@dataclass
class BillingSettings:
    billing_email: str | None = None
    billing_address: str | None = None
    collection_method: str | None = None
    consolidates_monthly: bool = False
    wants_einvoice: bool = False


def billing_settings(session: Session, actor: Actor, organization_id: int) -> BillingSettings:
    require(actor, Action.TERMS_VIEW)
    org, = require_managed(session, actor, [organization_id])
    return BillingSettings(org.billing_email, org.billing_address, org.collection_method, org.consolidates_monthly,
                           org.wants_einvoice)


def update_billing(session: Session, actor: Actor, organization_id: int, values: BillingSettings) -> Organization:
    """Where a customer's invoices and reminders go, how it pays, and whether its invoices
    are consolidated monthly or carry e-invoice XML."""
    require(actor, Action.COLLECTION_MANAGE)
    org, = require_managed(session, actor, [organization_id])
    errors = {}
    email = (values.billing_email or "").strip() or None
    if email is not None:
        try:
            email = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            errors["billing_email"] = str(exc)
    method = values.collection_method or None
    if method is not None and method not in CHARGEABLE:
        errors["collection_method"] = "A credit card, an ACH mandate, or nothing (the customer pays by transfer)"
    address = (values.billing_address or "").strip() or None
    if address is not None and len(address) > 500:
        errors["billing_address"] = "At most 500 characters"
    if errors:
        raise FieldErrors(errors)
    before = audit.snapshot(org)
    org.billing_email, org.billing_address, org.collection_method = email, address, method
    org.consolidates_monthly, org.wants_einvoice = bool(values.consolidates_monthly), bool(values.wants_einvoice)
    org.updated_at, org.updated_by_id = utcnow(), actor.user_id
    session.add(org)
    session.flush()
    audit.record(session, actor, "organization.billing", "organization", org.id, before=before, after=org)
    return org


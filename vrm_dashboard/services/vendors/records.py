"""Vendors: the paged list with its totals, the vendor card, and add / edit / deactivate."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select as core_select
from sqlalchemy.orm import Mapped
from sqlmodel import Session, col, select

from vrm_dashboard.db import tenancy
from vrm_dashboard.db.models import (
    Invoice,
    Notification,
    Payout,
    PayoutStatus,
    Role,
    User,
    UserRole,
    Vendor,
    VendorBalance,
    VendorContact,
    stored_id,
    utcnow,
)
from vrm_dashboard.domain.permissions import Action, RoleName
from vrm_dashboard.domain.vendor_rules import (
    ActivityStatus,
    CleanVendor,
    FieldErrors,
    VendorInput,
    mask,
    validate_vendor,
)
from vrm_dashboard.services.invoices import rollup as invoice_rollup
from vrm_dashboard.services.platform import audit, settings as app_settings
from vrm_dashboard.services.platform.actors import Actor, require
from vrm_dashboard.services.platform.errors import NotFound

MAX_PAGE_SIZE = 100
SORTABLE: dict[str, Mapped[object]] = {
    "name": col(Vendor.name),
    "vendor_code": col(Vendor.vendor_code),
    "payment_method": col(Vendor.payment_method),
    "payment_source": col(Vendor.payment_source),
    "activity_status": col(Vendor.activity_status),
    "country": col(Vendor.country),
    "created_at": col(Vendor.created_at),
}
UPCOMING_DAYS = 14
BANK_FIELDS = ("iban", "bic", "account_number", "routing_number", "paypal_email")


@dataclass
class VendorQuery:
    search: str = ""
    activity_status: str = ""
    payment_method: str = ""
    payment_source: str = ""
    country: str = ""
    sort: str = "name"
    descending: bool = False
    page: int = 1
    page_size: int = 25


@dataclass
class VendorRow:
    id: int
    vendor_code: str
    name: str
    country: str
    currency: str
    payment_method: str
    payment_source: str
    activity_status: str


@dataclass
class MethodTotal:
    payment_method: str
    currency: str
    vendor_count: int
    invoice_count: int
    invoiced_minor: int
    paid_minor: int
    open_minor: int


@dataclass
class UpcomingPayout:
    payout_id: int
    vendor_id: int
    vendor_code: str
    vendor_name: str
    pay_date: date
    amount_minor: int
    currency: str
    status: str


@dataclass
class VendorPage:
    rows: list[VendorRow]
    total_rows: int
    page: int
    page_count: int
    totals: list[MethodTotal] = field(default_factory=list)
    upcoming: list[UpcomingPayout] = field(default_factory=list)


def _filters(query: VendorQuery) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    term = query.search.strip()
    if term:
        pattern = f"%{term.lower()}%"
        conditions.append(
            or_(func.lower(Vendor.name).like(pattern), func.lower(Vendor.vendor_code).like(pattern))
        )
    if query.activity_status:
        conditions.append(col(Vendor.activity_status) == query.activity_status)
    if query.payment_method:
        conditions.append(col(Vendor.payment_method) == query.payment_method)
    if query.payment_source:
        conditions.append(col(Vendor.payment_source) == query.payment_source)
    if query.country:
        conditions.append(col(Vendor.country) == query.country.upper())
    return conditions


def list_vendors(session: Session, actor: Actor, query: VendorQuery, today: date | None = None) -> VendorPage:
    """One page of vendors, with totals by payment method and upcoming payouts for the filter."""
    require(actor, Action.VENDOR_VIEW)
    conditions = _filters(query)
    page_size = max(1, min(query.page_size, MAX_PAGE_SIZE))
    total_rows = session.exec(select(func.count()).select_from(Vendor).where(*conditions)).one()
    page_count = max(1, -(-total_rows // page_size))
    page = max(1, min(query.page, page_count))
    sort_column = SORTABLE.get(query.sort, col(Vendor.name))
    order: list[ColumnElement[Any]] = [sort_column.desc() if query.descending else sort_column.asc(),
                                       col(Vendor.id).asc()]
    vendors = session.exec(
        select(Vendor).where(*conditions).order_by(*order)
        .offset((page - 1) * page_size).limit(page_size)
    ).all()
    rows = [
        VendorRow(
            id=stored_id(v), vendor_code=v.vendor_code, name=v.name, country=v.country,
            currency=v.currency, payment_method=v.payment_method,
            payment_source=v.payment_source, activity_status=v.activity_status,
        )
        for v in vendors
    ]
    return VendorPage(
        rows=rows,
        total_rows=total_rows,
        page=page,
        page_count=page_count,
        totals=totals_by_payment_method(session, conditions),
        upcoming=upcoming_payouts(session, conditions, today or date.today()),
    )


def totals_by_payment_method(session: Session, conditions: list[ColumnElement[bool]]) -> list[MethodTotal]:
    """Invoiced, paid and open amounts per payment method and currency, from the balances."""
    b = VendorBalance
    # SQLAlchemy's select (SQLModel's is typed for at most four columns), so execute, not exec:
    # the rows are the same.
    result = session.execute(
        core_select(
            col(Vendor.payment_method), col(b.currency), func.count(func.distinct(col(Vendor.id))),
            func.sum(col(b.invoice_count)), func.sum(col(b.invoiced_minor)), func.sum(col(b.paid_minor)),
            func.sum(col(b.open_minor)),
        )
        .join(b, col(b.vendor_id) == Vendor.id)
        .where(*conditions)
        .group_by(Vendor.payment_method, b.currency)
        .order_by(Vendor.payment_method, b.currency)
    ).all()
    return [
        MethodTotal(method, currency, int(vendors), int(count or 0), int(invoiced or 0),
                    int(paid or 0), int(open_ or 0))
        for method, currency, vendors, count, invoiced, paid, open_ in result
    ]


def upcoming_payouts(session: Session, conditions: list[ColumnElement[bool]], today: date,
                     limit: int = 10) -> list[UpcomingPayout]:
    """The soonest payouts still to be paid in the next two weeks."""
    found: list[UpcomingPayout] = []
    # One index-ordered scan per waiting status, merged here: a single query over both
    # statuses would sort every waiting payout in the window just to keep ten.
    for status in (PayoutStatus.PAYOUT_APPROVAL.value, PayoutStatus.AWAITING_PAYOUT.value):
        result = session.exec(
            select(Payout, Vendor.vendor_code, Vendor.name)
            .join(Vendor, col(Vendor.id) == Payout.vendor_id)
            .where(
                Payout.status == status,
                Payout.pay_date >= today,
                Payout.pay_date <= today + timedelta(days=UPCOMING_DAYS),
                *conditions,
            )
            .order_by(col(Payout.pay_date), col(Payout.id))
            .limit(limit)
        ).all()
        found.extend(
            UpcomingPayout(stored_id(p), p.vendor_id, code, name, p.pay_date, p.amount_minor, p.currency, p.status)
            for p, code, name in result
        )
    found.sort(key=lambda u: (u.pay_date, u.payout_id))
    return found[:limit]


def get_vendor(session: Session, vendor_id: int) -> Vendor:
    vendor = session.get(Vendor, vendor_id)
    if vendor is None:
        raise NotFound(f"No vendor with id {vendor_id}")
    return vendor


def _check_unique_code(session: Session, code: str, own_id: int | None = None) -> None:
    clash = session.exec(select(Vendor).where(Vendor.vendor_code == code)).first()
    if clash is not None and clash.id != own_id:
        raise FieldErrors({"vendor_code": f"Vendor ID {code} is already used by {clash.name}"})


def vendor_columns(clean: CleanVendor) -> dict:
    """The cleaned vendor as column values (enums stored by value)."""
    return {k: (v.value if hasattr(v, "value") else v) for k, v in asdict(clean).items()}


def create_vendor(session: Session, actor: Actor, data: VendorInput) -> Vendor:
    """Validate and add a vendor; nothing is written when any field is bad."""
    require(actor, Action.VENDOR_CREATE)
    clean = validate_vendor(data)
    _check_unique_code(session, clean.vendor_code)
    vendor = Vendor(**vendor_columns(clean))
    session.add(vendor)
    session.flush()
    audit.record(session, actor, "vendor.create", "vendor", vendor.id, after=vendor)
    return vendor


def update_vendor(session: Session, actor: Actor, vendor_id: int, data: VendorInput) -> Vendor:
    """Validate and save changes; a change of bank details is time-stamped for fraud checks."""
    require(actor, Action.VENDOR_UPDATE)
    return save_vendor(session, actor, get_vendor(session, vendor_id), data)


def save_vendor(session: Session, actor: Actor, vendor: Vendor, data: VendorInput,
                also: dict | None = None) -> Vendor:
    """Validate and save a vendor the caller has authorized (staff editing it, or the vendor
    itself on its profile); `also` holds checked columns outside VendorInput (the address).
    One audit entry covers the change."""
    clean = validate_vendor(data)
    _check_unique_code(session, clean.vendor_code, own_id=vendor.id)
    before = audit.snapshot(vendor)
    for key, value in {**vendor_columns(clean), **(also or {})}.items():
        setattr(vendor, key, value)
    after = audit.snapshot(vendor)
    if before == after:
        return vendor
    if any(before[f] != after[f] for f in BANK_FIELDS):
        vendor.bank_details_changed_at = utcnow()
        # A vendor still onboarding gives its first account: the reviewer checks it anyway.
        if vendor.activity_status != ActivityStatus.ONBOARDING.value:
            _tell_admins_bank_details_changed(session, actor, vendor)
    vendor.updated_at = utcnow()
    session.add(vendor)
    session.flush()
    audit.record(session, actor, "vendor.update", "vendor", vendor.id, before=before, after=vendor)
    return vendor


def _tell_admins_bank_details_changed(session: Session, actor: Actor, vendor: Vendor) -> None:
    """Fraud control: admins hear of every change of payout account, and its payouts wait."""
    owner = tenancy.owner(vendor)
    hours = int(app_settings.get(session, app_settings.COOLING_OFF_HOURS, owner))
    # The admins of the vendor's payer only: users are not scoped by the session, so the
    # condition is here (accounts in no organization are the root organization's).
    of_payer = col(User.organization_id) == owner
    if owner == tenancy.root_organization_id(session):
        of_payer = or_(of_payer, col(User.organization_id).is_(None))
    admins = session.exec(select(User.id).join(UserRole, col(UserRole.user_id) == User.id)
                          .join(Role, col(Role.id) == UserRole.role_id)
                          .where(Role.name == RoleName.ADMIN.value, User.is_active, of_payer)).all()
    for admin_id in admins:
        session.add(Notification(
            owner_id=owner, user_id=admin_id, subject=f"Bank details changed: {vendor.vendor_code} {vendor.name}",
            body=(f"{actor.label} changed the payout account of {vendor.name}. Its payouts are held for "
                  f"{hours} hours; check the change with the vendor through a known contact.")))


def deactivate_vendor(session: Session, actor: Actor, vendor_id: int) -> Vendor:
    require(actor, Action.VENDOR_DEACTIVATE)
    vendor = get_vendor(session, vendor_id)
    if vendor.activity_status == ActivityStatus.INACTIVE.value:
        return vendor
    before = audit.snapshot(vendor)
    vendor.activity_status = ActivityStatus.INACTIVE.value
    vendor.updated_at = utcnow()
    session.add(vendor)
    audit.record(session, actor, "vendor.deactivate", "vendor", vendor.id, before=before, after=vendor)
    return vendor


def vendor_input_of(vendor: Vendor) -> VendorInput:
    """The vendor as form input, for editing."""
    return VendorInput(**{
        k: (getattr(vendor, k) or "") for k in VendorInput.__dataclass_fields__
    })


@dataclass
class VendorCard:
    vendor: Vendor
    payment_details: dict[str, str]
    contacts: list[VendorContact]
    invoices: list[Invoice]
    payouts: list[Payout]
    balances: list[invoice_rollup.Balance]
    history: list


def vendor_card(session: Session, actor: Actor, vendor_id: int) -> VendorCard:
    """Everything about one vendor; bank details masked unless the actor may see them, in its
    details and in its history alike."""
    require(actor, Action.VENDOR_VIEW)
    vendor = get_vendor(session, vendor_id)
    reveal = actor.can(Action.VENDOR_VIEW_BANK_DETAILS)
    details = {
        f: (getattr(vendor, f) if reveal else mask(getattr(vendor, f)))
        for f in BANK_FIELDS if getattr(vendor, f)
    }
    return VendorCard(
        vendor=vendor,
        payment_details=details,
        contacts=list(session.exec(select(VendorContact).where(VendorContact.vendor_id == vendor_id)).all()),
        invoices=list(session.exec(
            select(Invoice).where(Invoice.vendor_id == vendor_id)
            .order_by(col(Invoice.issue_date).desc(), col(Invoice.id).desc()).limit(20)
        ).all()),
        payouts=list(session.exec(
            select(Payout).where(Payout.vendor_id == vendor_id)
            .order_by(col(Payout.pay_date).desc(), col(Payout.id).desc()).limit(20)
        ).all()),
        balances=invoice_rollup.vendor_balances(session, vendor_id),
        # Masked on reading as well: entries written before the log masked bank details hold them whole.
        history=[audit.as_seen_by(entry, actor) for entry in audit.history(session, "vendor", vendor_id)],
    )

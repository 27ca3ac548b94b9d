"""The embeddable vendor widget: a vendor's balance and payout status for a partner site's
iframe, opened with a signed, expiring link instead of a sign-in.

Links need vendor.widget: staff make them for any vendor, a vendor's own account only for
itself. Each link is a row (VendorWidgetLink) named by its signed token, so the vendor and
staff see the links made and revoke one. A link opens its vendor's figures and nothing else,
and only while it is neither expired nor revoked, the vendor is active (not inactive, on
hold or still onboarding) and the account that made it is active: a deactivated staff
member's or vendor user's links stop with the account (and work again if it is reactivated)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from html import escape

from sqlalchemy import select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from vrm_dashboard.config import settings
from vrm_dashboard.db import tenancy
from vrm_dashboard.db.models import Payout, User, Vendor, VendorWidgetLink, stored_id, utcnow
from vrm_dashboard.domain.payout_rules import PAYOUT_STATUS_LABELS
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.domain.vendor_rules import ACTIVITY_LABELS, ActivityStatus
from vrm_dashboard.services.invoices import rollup as invoice_rollup
from vrm_dashboard.services.platform import audit, signed_tokens
from vrm_dashboard.services.platform.actors import Actor, require
from vrm_dashboard.services.platform.errors import Conflict, FieldErrors, NotAuthenticated, NotFound, PermissionDenied
from vrm_dashboard.services.vendors import onboarding as vendor_onboarding

# The token names a link row. Tokens made before links were rows (purpose "widget") named a
# vendor and open nothing now.
PURPOSE = "widget-link"
MIN_HOURS, MAX_HOURS = 1, 30 * 24
NOT_AVAILABLE = "This widget is not available now"


@dataclass(frozen=True)
class WidgetLink:
    """A signed link to a vendor's widget, and the frame a partner site pastes."""

    token: str
    expires_at: datetime
    id: int

    @property
    def url(self) -> str:
        return f"{settings().public_url}/api/v1/widget/{self.token}"

    @property
    def iframe(self) -> str:
        return f'<iframe src="{escape(self.url)}" width="360" height="300" style="border:0"></iframe>'


def _vendor_for(session: Session, actor: Actor, vendor_id: int | None, making: bool = False) -> Vendor:
    """The vendor whose links `actor` may make, see and revoke: a vendor's own account only
    its own (making one only while approved and active, seeing and revoking its links
    always); staff with vendor.widget any."""
    require(actor, Action.VENDOR_WIDGET)
    vendor_side = actor.vendor_id is not None or (actor.can(Action.PORTAL_USE) and not actor.can(Action.VENDOR_VIEW))
    if vendor_side:
        if actor.vendor_id is None:
            raise PermissionDenied("Your account is not linked to a vendor")
        if actor.vendor_id != vendor_id:
            raise PermissionDenied("A vendor may embed only its own figures")
        return (vendor_onboarding.require_approved if making else vendor_onboarding.own_vendor)(session, actor)
    # Staff see the figures a link shows only if they may see the vendor at all.
    require(actor, Action.VENDOR_VIEW)
    vendor = session.get(Vendor, vendor_id) if vendor_id is not None else None
    if vendor is None:
        raise NotFound(f"No vendor {vendor_id}")
    return vendor


def _usable(vendor: Vendor) -> bool:
    return vendor.activity_status == ActivityStatus.ACTIVE.value


def make_link(session: Session, actor: Actor, vendor_id: int | None, hours: int = 24) -> WidgetLink:
    """A new link, valid `hours` (1 hour to 30 days), for an active vendor."""
    vendor = _vendor_for(session, actor, vendor_id, making=True)
    if not MIN_HOURS <= hours <= MAX_HOURS:
        raise FieldErrors({"hours": "A widget link lasts from 1 hour to 30 days"})
    lifetime = timedelta(hours=hours)
    if not _usable(vendor):
        status = next((label for s, label in ACTIVITY_LABELS.items() if s.value == vendor.activity_status),
                      vendor.activity_status)
        raise Conflict(f"{vendor.name} is {status.lower()}: its widget works only while it is active")
    now = utcnow()
    # The row's expiry is the token's, to the second (a token carries whole seconds).
    expires = datetime.fromtimestamp(int((now + lifetime).timestamp()), now.tzinfo)
    link = VendorWidgetLink(vendor_id=stored_id(vendor), created_by_id=actor.user_id, created_at=now,
                            expires_at=expires)
    session.add(link)
    session.flush()
    token = signed_tokens.make(PURPOSE, [str(link.id)], lifetime, now)
    audit.record(session, actor, "vendor.widget_link", "vendor", vendor.id,
                 after={"link": link.id, "expires_at": expires})
    return WidgetLink(token, expires, stored_id(link))


@dataclass
class WidgetLinkRow:
    """A link as its vendor and staff see it (never its token). `state` is active, expired,
    revoked, or suspended: unexpired and not revoked, but its maker's account is deactivated."""

    id: int
    created_at: datetime
    created_by: str
    expires_at: datetime
    revoked_at: datetime | None
    revoked_by: str
    state: str


def _state(link: VendorWidgetLink, now: datetime, maker_active: bool) -> str:
    if link.revoked_at is not None:
        return "revoked"
    if _aware(link.expires_at) <= now:
        return "expired"
    return "active" if maker_active else "suspended"


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; they are UTC like every time we store.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=utcnow().tzinfo)


def _rows(session: Session, vendor_id: int, link_id: int | None = None, limit: int = 100) -> list[WidgetLinkRow]:
    maker, revoker = aliased(User), aliased(User)
    query = (select(VendorWidgetLink, col(maker.email), col(maker.is_active), col(revoker.email))
             .outerjoin(maker, col(maker.id) == VendorWidgetLink.created_by_id)
             .outerjoin(revoker, col(revoker.id) == VendorWidgetLink.revoked_by_id)
             .where(col(VendorWidgetLink.vendor_id) == vendor_id))
    if link_id is not None:
        query = query.where(col(VendorWidgetLink.id) == link_id)
    now = utcnow()
    return [WidgetLinkRow(stored_id(link), link.created_at, made_by or "", link.expires_at, link.revoked_at,
                          revoked_by or "", _state(link, now, bool(maker_active)))
            for link, made_by, maker_active, revoked_by in session.execute(
                query.order_by(col(VendorWidgetLink.id).desc()).limit(limit)).all()]


def list_links(session: Session, actor: Actor, vendor_id: int | None) -> list[WidgetLinkRow]:
    """The vendor's links, newest first."""
    return _rows(session, stored_id(_vendor_for(session, actor, vendor_id)))


def revoke_link(session: Session, actor: Actor, vendor_id: int | None, link_id: int) -> WidgetLinkRow:
    """Stop one link at once (a partner's frame then says it was revoked)."""
    vendor = _vendor_for(session, actor, vendor_id)
    link = session.get(VendorWidgetLink, link_id)
    if link is None or link.vendor_id != vendor.id:
        raise NotFound("No such widget link")
    if link.revoked_at is not None:
        raise Conflict("This widget link is revoked already")
    link.revoked_at, link.revoked_by_id = utcnow(), actor.user_id
    session.add(link)
    session.flush()
    audit.record(session, actor, "vendor.widget_link_revoke", "vendor", vendor.id,
                 before={"link": link.id, "revoked_at": None}, after={"link": link.id, "revoked_at": link.revoked_at})
    return _rows(session, stored_id(vendor), stored_id(link))[0]


@dataclass
class WidgetPayout:
    pay_date: date
    amount_minor: int
    currency: str
    status: str


@dataclass
class WidgetData:
    vendor_name: str
    vendor_code: str
    balances: list[invoice_rollup.Balance]
    payouts: list[WidgetPayout]
    expires_at: datetime


def _open_link(session: Session, token: str) -> tuple[VendorWidgetLink, Vendor]:
    """The link and vendor behind a token, or NotAuthenticated saying why it opens nothing."""
    try:
        _purpose, _expires, fields = signed_tokens.read(token, {PURPOSE})
        (link_id,) = fields
        # The signed link is its own authority: the vendor it names decides the scope.
        with tenancy.looking_past_scope(session):
            link = session.get(VendorWidgetLink, int(link_id))
            vendor = session.get(Vendor, link.vendor_id) if link is not None else None
    except signed_tokens.ExpiredToken:
        raise NotAuthenticated("This widget link has expired") from None
    except (signed_tokens.BadToken, ValueError):
        raise NotAuthenticated("This widget link is not valid") from None
    if link is None:
        raise NotAuthenticated("This widget link is not valid")
    if link.revoked_at is not None:
        raise NotAuthenticated("This widget link was revoked")
    if _aware(link.expires_at) <= utcnow():
        raise NotAuthenticated("This widget link has expired")
    if vendor is None or not _usable(vendor) or not _maker_active(session, link):
        # The partner site's visitors learn only that it is unavailable, not whose account ended.
        raise NotAuthenticated(NOT_AVAILABLE)
    tenancy.scope_to(session, tenancy.Scope.of(tenancy.owner(vendor)))
    return link, vendor


def _maker_active(session: Session, link: VendorWidgetLink) -> bool:
    """Whether the account that made the link is active. A link made by no account (none
    does so) opens nothing: every working link has someone answerable behind it."""
    maker = session.get(User, link.created_by_id) if link.created_by_id is not None else None
    return maker is not None and maker.is_active


def widget_data(session: Session, token: str, limit: int = 5) -> WidgetData:
    link, vendor = _open_link(session, token)
    payouts = session.execute(select(col(Payout.pay_date), col(Payout.amount_minor), col(Payout.currency),
                                     col(Payout.status))
                              .where(col(Payout.vendor_id) == vendor.id)
                              .order_by(col(Payout.pay_date).desc(), col(Payout.id).desc()).limit(limit)).all()
    return WidgetData(vendor.name, vendor.vendor_code, invoice_rollup.vendor_balances(session, stored_id(vendor)),
                      [WidgetPayout(d, a, c, PAYOUT_STATUS_LABELS.get(s, s)) for d, a, c, s in payouts],
                      _aware(link.expires_at))

"""The embeddable vendor widget: a vendor's balance and payout status for a partner site's
iframe, opened with a signed, expiring token instead of a sign-in.

The vendor makes tokens for itself (portal), staff for any vendor they may see; the token
names the vendor, so it opens that vendor's figures and nothing else."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from html import escape

from sqlalchemy import select
from sqlmodel import Session, col

from vrm_dashboard.config import settings
from vrm_dashboard.db.models import Payout, Vendor, stored_id
from vrm_dashboard.domain.payout_rules import PAYOUT_STATUS_LABELS
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.invoices import rollup as invoice_rollup
from vrm_dashboard.services.platform import audit, signed_tokens
from vrm_dashboard.services.platform.actors import Actor, require
from vrm_dashboard.services.platform.errors import FieldErrors, NotAuthenticated, NotFound, PermissionDenied
from vrm_dashboard.services.vendors import onboarding as vendor_onboarding

PURPOSE = "widget"
MAX_LIFETIME = timedelta(days=30)


@dataclass(frozen=True)
class WidgetLink:
    """A signed link to a vendor's widget, and the frame a partner site pastes."""

    token: str
    expires_at: datetime

    @property
    def url(self) -> str:
        return f"{settings().public_url}/api/v1/widget/{self.token}"

    @property
    def iframe(self) -> str:
        return f'<iframe src="{escape(self.url)}" width="360" height="300" style="border:0"></iframe>'


def make_link(session: Session, actor: Actor, vendor_id: int | None, hours: int = 24) -> WidgetLink:
    if actor.can(Action.PORTAL_USE) and not actor.can(Action.VENDOR_VIEW):
        if actor.vendor_id is None:
            raise PermissionDenied("Your account is not linked to a vendor")
        if actor.vendor_id != vendor_id:
            raise PermissionDenied("A vendor may embed only its own figures")
        vendor_onboarding.require_approved(session, actor)
    else:
        require(actor, Action.VENDOR_VIEW)
    if session.get(Vendor, vendor_id) is None:
        raise NotFound(f"No vendor {vendor_id}")
    lifetime = timedelta(hours=hours)
    if not timedelta(hours=1) <= lifetime <= MAX_LIFETIME:
        raise FieldErrors({"hours": "A widget link lasts from 1 hour to 30 days"})
    token = signed_tokens.make(PURPOSE, [str(vendor_id)], lifetime)
    _purpose, expires, _fields = signed_tokens.read(token, {PURPOSE})
    audit.record(session, actor, "vendor.widget_link", "vendor", vendor_id, after={"expires_at": expires})
    return WidgetLink(token, expires)


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


def widget_data(session: Session, token: str, limit: int = 5) -> WidgetData:
    try:
        _purpose, expires, (vendor_id,) = signed_tokens.read(token, {PURPOSE})
    except signed_tokens.ExpiredToken:
        raise NotAuthenticated("This widget link has expired") from None
    except (signed_tokens.BadToken, ValueError):
        raise NotAuthenticated("This widget link is not valid") from None
    vendor = session.get(Vendor, int(vendor_id))
    if vendor is None:
        raise NotFound("No such vendor")
    payouts = session.execute(select(col(Payout.pay_date), col(Payout.amount_minor), col(Payout.currency),
                                     col(Payout.status))
                              .where(col(Payout.vendor_id) == vendor.id)
                              .order_by(col(Payout.pay_date).desc(), col(Payout.id).desc()).limit(limit)).all()
    return WidgetData(vendor.name, vendor.vendor_code, invoice_rollup.vendor_balances(session, stored_id(vendor)),
                      [WidgetPayout(d, a, c, PAYOUT_STATUS_LABELS.get(s, s)) for d, a, c, s in payouts], expires)

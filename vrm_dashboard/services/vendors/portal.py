"""The vendor's own area: only ever the vendor the signed-in user belongs to."""
from __future__ import annotations

from sqlmodel import Session, col, select

from vrm_dashboard.db.models import Notification, PaymentTransaction
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.platform.actors import Actor, require
from vrm_dashboard.services.platform.errors import PermissionDenied
from vrm_dashboard.services.vendors import records as vendors


def own_vendor_card(session: Session, actor: Actor) -> vendors.VendorCard:
    require(actor, Action.PORTAL_USE)
    if actor.vendor_id is None:
        raise PermissionDenied("Your account is not linked to a vendor")
    card = vendors.vendor_card(
        session,
        # The vendor sees its own record, bank details included, through the same card.
        Actor(actor.user_id, actor.email, actor.full_name, actor.roles,
              actor.actions | {Action.VENDOR_VIEW.value, Action.VENDOR_VIEW_BANK_DETAILS.value},
              actor.vendor_id, actor.organization_id),
        actor.vendor_id,
    )
    card.history = []
    return card


def own_notifications(session: Session, actor: Actor, limit: int = 20) -> list[Notification]:
    """What the team told this vendor (rejections and the like), newest first."""
    require(actor, Action.PORTAL_USE)
    if actor.vendor_id is None:
        raise PermissionDenied("Your account is not linked to a vendor")
    return list(session.exec(
        select(Notification).where(Notification.vendor_id == actor.vendor_id)
        .order_by(col(Notification.id).desc()).limit(limit)
    ).all())


def own_payments(session: Session, actor: Actor, limit: int = 20) -> list[PaymentTransaction]:
    """The transfers paid to this vendor, newest first, each with its remittance advice."""
    require(actor, Action.PORTAL_USE)
    if actor.vendor_id is None:
        raise PermissionDenied("Your account is not linked to a vendor")
    return list(session.exec(
        select(PaymentTransaction).where(PaymentTransaction.vendor_id == actor.vendor_id,
                                         PaymentTransaction.status == "paid")
        .order_by(col(PaymentTransaction.paid_at).desc(), col(PaymentTransaction.id).desc()).limit(limit)
    ).all())

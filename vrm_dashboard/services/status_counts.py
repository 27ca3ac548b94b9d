"""Counts and amounts per status and currency, summed in SQL, for the pipeline screens."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, select

from vrm_dashboard.db.models import EmailDelivery, Invoice, Payout
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.actors import Actor, require


@dataclass
class StatusTotal:
    status: str
    currency: str
    count: int
    amount_minor: int


def invoice_totals(session: Session, actor: Actor) -> list[StatusTotal]:
    require(actor, Action.INVOICE_VIEW)
    rows = session.exec(
        select(Invoice.status, Invoice.currency, func.count(), func.sum(Invoice.total_minor))
        .group_by(Invoice.status, Invoice.currency).order_by(Invoice.status, Invoice.currency)
    ).all()
    return [StatusTotal(s, c, int(n), int(a or 0)) for s, c, n, a in rows]


def payout_totals(session: Session, actor: Actor) -> list[StatusTotal]:
    require(actor, Action.PAYOUT_VIEW)
    rows = session.exec(
        select(Payout.status, Payout.currency, func.count(), func.sum(Payout.amount_minor))
        .group_by(Payout.status, Payout.currency).order_by(Payout.status, Payout.currency)
    ).all()
    return [StatusTotal(s, c, int(n), int(a or 0)) for s, c, n, a in rows]


def delivery_totals(session: Session, actor: Actor) -> list[StatusTotal]:
    require(actor, Action.DISTRIBUTION_VIEW)
    rows = session.exec(
        select(EmailDelivery.status, func.count()).group_by(EmailDelivery.status)
    ).all()
    return [StatusTotal(s, "", int(n), 0) for s, n in rows]

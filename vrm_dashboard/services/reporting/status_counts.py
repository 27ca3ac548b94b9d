"""Counts and amounts per status and currency, summed in SQL, for the pipeline screens."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import SQLColumnExpression, func
from sqlmodel import Session, select


@dataclass
class StatusTotal:
    status: str
    currency: str
    count: int
    amount_minor: int


def _by_status(session: Session, status: SQLColumnExpression[str], currency: SQLColumnExpression[str],
               amount: SQLColumnExpression[int]) -> list[StatusTotal]:
    rows = session.exec(
        select(status, currency, func.count(), func.sum(amount))
        .group_by(status, currency).order_by(status, currency)
    ).all()
    return [StatusTotal(s, c, int(n), int(a or 0)) for s, c, n, a in rows]

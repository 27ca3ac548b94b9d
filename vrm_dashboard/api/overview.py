"""The managers' overview over the API, and how many open pages are listening live."""
from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlmodel import Session

from vrm_dashboard.api.dependencies import current_actor, db_session
from vrm_dashboard.live.overview import listening
from vrm_dashboard.services.platform.actors import Actor
from vrm_dashboard.services.reporting import overview

router = APIRouter(tags=["overview"])


@router.get("/overview")
def get_overview(actor: Actor = Depends(current_actor), session: Session = Depends(db_session)) -> dict:
    figures = overview.overview(session, actor)
    listeners, computations = listening()
    return {
        "computed_at": figures.computed_at.isoformat(),
        "payouts": [vars(g) for g in figures.payout_groups],
        "paid_this_month": {"count": figures.paid_this_month_count, "amounts_minor": figures.paid_this_month},
        "upcoming": [{"pay_date": d.isoformat(), "currency": c, "payouts": n, "amount_minor": a}
                     for d, c, n, a in figures.upcoming],
        "aging": [{**vars(r), "total": r.total} for r in figures.aging.totals],
        # Pages of this backend listening live, and how often the figures were computed for them.
        "live": {"listeners": listeners, "computations": computations},
    }

"""Status summaries for the invoice, payout and distribution screens."""
from __future__ import annotations

import reflex as rx

from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services import status_counts
from vrm_dashboard.ui import formatting as fmt
from vrm_dashboard.ui.states.session import SessionState

_SOURCES = {
    "distribution": (Action.DISTRIBUTION_VIEW, status_counts.delivery_totals),
}


class PipelineState(SessionState):
    summary: list[dict[str, str]] = []

    def _load(self, kind: str):  # type: ignore[no-untyped-def]
        action, source = _SOURCES[kind]
        actor = self._enter_page(action)
        if actor is None:
            return None if self.denied else rx.redirect("/login")
        with self._acting(read_only=True) as (session, actor):
            totals = source(session, actor)
        self.summary = [
            {"status": fmt.status_label(t.status), "currency": t.currency, "count": f"{t.count:,}",
             "amount": fmt.money(t.amount_minor, t.currency) if t.currency else ""}
            for t in totals
        ]
        return None

    @rx.event
    def load_distribution(self):  # type: ignore[no-untyped-def]
        return self._load("distribution")

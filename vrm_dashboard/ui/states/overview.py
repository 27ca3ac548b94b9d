"""The managers' overview, live: each open page listens to the one hub of this backend and
shows the figures it computed, within a second of any committed change. A page's listener
ends itself when its browser disconnects, leaves the page, or loses the permission."""
from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
import reflex as rx
from reflex.utils import prerequisites

from vrm_dashboard.db.engine import session_scope
from vrm_dashboard.db.tenancy import NOBODY, Scope, scope_of
from vrm_dashboard.domain.money import format_money, to_major_string
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.live.overview import hub_for
from vrm_dashboard.services.identity import auth
from vrm_dashboard.services.platform.actors import Actor
from vrm_dashboard.services.receivables import aging
from vrm_dashboard.services.reporting import overview
from vrm_dashboard.ui import formatting as fmt
from vrm_dashboard.ui.states.rows import AgingRow
from vrm_dashboard.ui.states.session import SessionState, page_load

# A listener wakes at least this often to see whether its browser is still there.
CHECK_SECONDS = 5.0
ROUTE = "/overview"


@dataclass
class OverviewCard:
    """A headline figure of the overview: how many, and the amounts per currency."""

    key: str = ""
    label: str = ""
    count: str = ""
    amounts: str = ""


@dataclass
class InvoiceTotal:
    """The invoices in one status and currency: how many, and their amount."""

    status: str = ""
    currency: str = ""
    count: str = ""
    amount: str = ""


@dataclass
class UpcomingTotal:
    """The payouts due on one day in one currency: how many, and their amount."""

    date: str = ""
    currency: str = ""
    count: str = ""
    amount: str = ""


def _amounts(amounts: dict[str, int]) -> str:
    return " · ".join(format_money(v, c) for c, v in sorted(amounts.items())) or "—"


def _connected(token: str) -> bool:
    # Reflex's own accessor for the running app (this module is imported while it is built).
    namespace = prerequisites.get_app().app.event_namespace
    return namespace is not None and token in namespace.token_to_sid


def _bar(title: str, series: dict[str, list[tuple[str, str]]], stacked: bool = False) -> go.Figure:
    figure = go.Figure()
    for name, points in series.items():
        figure.add_trace(go.Bar(name=name, x=[x for x, _ in points], y=[y for _, y in points]))
    figure.update_layout(title=title, barmode="stack" if stacked else "group", height=280,
                         margin=dict(l=40, r=20, t=40, b=40), xaxis=dict(type="category"), legend=dict(orientation="h"))
    return figure


def _figures_of(o: overview.Overview) -> dict[str, tuple[object, object]]:
    per_currency: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for day, currency, amount in o.paid_by_day:
        per_currency[currency].append((day.isoformat(), to_major_string(amount, currency)))
    rails: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for rail, currency, _count, amount in o.by_rail:
        rails[currency].append((rail, to_major_string(amount, currency)))
    statuses = {"Payouts": [(g.label, str(g.count)) for g in o.payout_groups]}
    rates = {"Success %": [(r.period.isoformat(), f"{r.success_rate:.1f}") for r in o.distribution
                           if r.success_rate is not None]}
    charts = {"paid_over_time": ("Paid per day (last 30 days)", dict(per_currency)),
              "by_method": ("Paid by payment method (30 days)", dict(rails)),
              "by_status": ("Payouts by status", statuses),
              "distribution_rate": ("Invoice e-mail success rate %", rates)}
    return {name: (repr(series), _bar(title, series)) for name, (title, series) in charts.items()}


_DISPLAYS: dict[int, dict[str, tuple[object, object]]] = {}


def display_of(version: int, o: overview.Overview) -> dict[str, tuple[object, object]]:
    """What the page shows, shaped once per version of the figures for every open page:
    var name -> (a key that changes with the value, the value)."""
    if version not in _DISPLAYS:
        if len(_DISPLAYS) >= 4:
            _DISPLAYS.pop(min(_DISPLAYS))
        _DISPLAYS[version] = _shaped(o)
    return _DISPLAYS[version]


def _shaped(o: overview.Overview) -> dict[str, tuple[object, object]]:
    plain = {
        "cards": [
            OverviewCard(key="pending", label="Pending invoices", count=f"{o.pending_count:,}",
                         amounts=_amounts(o.pending_amounts)),
            *[OverviewCard(key=g.key, label=f"Payouts {g.label.lower()}", count=f"{g.count:,}",
                           amounts=_amounts(g.amounts_minor)) for g in o.payout_groups if g.key != "paid"],
            OverviewCard(key="paid_month", label="Paid this month", count=f"{o.paid_this_month_count:,}",
                         amounts=_amounts(o.paid_this_month)),
        ],
        "invoice_rows": [InvoiceTotal(status=fmt.status_label(t.status), currency=t.currency, count=f"{t.count:,}",
                                      amount=fmt.money(t.amount_minor, t.currency)) for t in o.invoice_totals],
        "upcoming_rows": [UpcomingTotal(date=d.isoformat(), currency=c, count=str(n), amount=fmt.money(a, c))
                          for d, c, n, a in o.upcoming],
        "aging_rows": [AgingRow(currency=r.currency,
                                **{k: fmt.money(r.buckets[k], r.currency) for k in aging.BUCKET_KEYS},
                                total=fmt.money(r.total, r.currency)) for r in o.aging.totals],
        "updated_at": o.computed_at.astimezone().strftime("%H:%M:%S"),
    }
    return {**{name: (repr(value), value) for name, value in plain.items()}, **_figures_of(o)}


class OverviewState(SessionState):
    cards: list[OverviewCard] = []
    invoice_rows: list[InvoiceTotal] = []
    upcoming_rows: list[UpcomingTotal] = []
    aging_rows: list[AgingRow] = []
    updated_at: str = ""
    paid_over_time: go.Figure = go.Figure()
    by_method: go.Figure = go.Figure()
    by_status: go.Figure = go.Figure()
    distribution_rate: go.Figure = go.Figure()
    _listening: bool = False
    # The key of each var as last shown (see display_of).
    _shown: dict[str, object] = {}

    @rx.event
    @page_load
    def load(self, actor: Actor) -> Any:
        return OverviewState.listen

    def _still_allowed(self) -> bool:
        with session_scope(read_only=True) as session:
            actor = auth.actor_for_token(session, self.token)
        return actor is not None and actor.can(Action.PAYOUT_VIEW)

    def _viewers_scope(self) -> Scope:
        """Whose figures this page shows: its signed-in user's organizations, if they may see
        them at all (a listen event can be sent without the page's load, which checks)."""
        with session_scope(read_only=True) as session:
            actor = auth.actor_for_token(session, self.token)
            if actor is None or not actor.can(Action.PAYOUT_VIEW):
                return NOBODY
            return scope_of(session) or NOBODY

    @rx.event(background=True)
    async def listen(self):  # type: ignore[no-untyped-def]
        async with self:
            if self._listening:
                return
            self._listening = True
            client = self.router.session.client_token
        scope = await asyncio.to_thread(self._viewers_scope)
        if scope == NOBODY:
            async with self:
                self._listening = False
            return
        hub = hub_for(scope)
        version, figures = await hub.subscribe()
        try:
            async with self:
                self._shown = {}
                self._show(version, figures)
            while True:
                news = await hub.next(version, timeout=CHECK_SECONDS)
                if not _connected(client):
                    return
                if news is None:
                    async with self:
                        here = self.router.url.path.rstrip("/") == ROUTE
                    if not here:
                        return
                    continue
                # A revoked permission ends the listening at the next change.
                if not await asyncio.to_thread(self._still_allowed):
                    return
                version, figures = news
                # One trip through the state per change: every open page makes it.
                async with self:
                    if self.router.url.path.rstrip("/") != ROUTE:
                        return
                    self._show(version, figures)
        finally:
            hub.unsubscribe()
            async with self:
                self._listening = False

    def _show(self, version: int, o: overview.Overview) -> None:
        """Copy the shared display; only what changed is set, so only that travels to the
        browser (a chart redrawn for nothing costs every open page)."""
        for name, (key, value) in display_of(version, o).items():
            if self._shown.get(name) != key:
                setattr(self, name, value)
                self._shown[name] = key

"""Customer Invoices: what the user's organization bills (outgoing) and is billed (incoming),
with terms, posting and due dates and payment methods; the bulk "Collect Payment"; the
reminder switch per invoice; and the AR aging report with its chart."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import plotly.graph_objects as go
import reflex as rx

from vrm_dashboard.domain.collection_rules import PAYMENT_METHOD_LABELS, CustomerPaymentMethod
from vrm_dashboard.domain.money import format_money, to_major_string
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.platform.actors import Actor
from vrm_dashboard.services.receivables import (
    aging,
    collection,
    queries as receivable_queries,
    records as receivables,
)
from vrm_dashboard.ui import formatting as fmt
from vrm_dashboard.ui.states.list_controls import ListControlsMixin
from vrm_dashboard.ui.states.paged_selection import PagedSelectionMixin
from vrm_dashboard.ui.states.rows import AgingRow
from vrm_dashboard.ui.states.session import SessionState, page_load

FILTER_FIELDS = ("search", "status", "payment_method", "due_from", "due_to", "posted_from", "posted_to", "terms")
METHOD_OPTIONS = [(m.value, label) for m, label in PAYMENT_METHOD_LABELS.items()]


@dataclass
class ReceivableRow:
    """One customer invoice on the Customer Invoices list."""

    id: str = ""
    number: str = ""
    organization: str = ""
    issue_date: str = ""
    posting_date: str = ""
    terms: str = ""
    due_date: str = ""
    method: str = ""
    amount: str = ""
    status: str = ""
    overdue: bool = False
    # Whether payment reminders go out for it.
    reminders: bool = True


def _method_label(value: str) -> str:
    try:
        return PAYMENT_METHOD_LABELS[CustomerPaymentMethod(value)]
    except ValueError:
        return value


def _amounts(amounts: dict[str, int]) -> str:
    return " · ".join(format_money(v, c) for c, v in sorted(amounts.items())) or "—"


def _aging_chart(report: aging.AgingReport) -> go.Figure:
    figure = go.Figure()
    for key in aging.BUCKET_KEYS:
        figure.add_trace(go.Bar(name=aging.BUCKET_LABELS[key], x=[t.currency for t in report.totals],
                                y=[to_major_string(t.buckets[key], t.currency) for t in report.totals]))
    figure.update_layout(barmode="stack", height=280, margin=dict(l=40, r=20, t=20, b=40),
                         xaxis=dict(type="category", title="Currency"), yaxis=dict(title="Open amount"),
                         legend=dict(orientation="h"))
    return figure


class ReceivablesState(ListControlsMixin, PagedSelectionMixin, SessionState):
    direction: str = receivable_queries.OUTGOING
    filters: dict[str, str] = {k: "" for k in FILTER_FIELDS}
    rows: list[ReceivableRow] = []
    overdue_only: bool = False
    sort: str = "due_date"
    descending: bool = False
    page_count: int = 1
    total_rows: int = 0
    open_amounts: str = ""
    error: str = ""
    message: str = ""
    can_collect: bool = False
    # The Collect Payment dialog and its summary.
    collect_open: bool = False
    collect_by: str = "due_date"
    collect_on: str = ""
    collect_summary: list[str] = []
    aging_rows: list[AgingRow] = []
    aging_figure: go.Figure = go.Figure()

    def _query(self) -> receivable_queries.ReceivableQuery:
        f = self.filters
        return receivable_queries.ReceivableQuery(
            direction=self.direction, search=f["search"], status=f["status"], payment_method=f["payment_method"],
            overdue_only=self.overdue_only, due_from=f["due_from"], due_to=f["due_to"], posted_from=f["posted_from"],
            posted_to=f["posted_to"], terms=f["terms"], sort=self.sort,
            descending=self.descending, page=self.page, page_size=25)

    @rx.event
    @page_load
    def load(self, actor: Actor) -> Any:
        self.can_collect = actor.can(Action.COLLECTION_MANAGE)
        self.message = self.error = ""
        self._refresh()
        self._refresh_aging()
        return None

    def _refresh(self) -> None:
        result, refused = self._outcome_of(
            lambda session, actor: receivable_queries.list_receivables(session, actor, self._query()), read_only=True)
        if result is None:
            self.error = refused
            return
        self.page, self.page_count, self.total_rows = result.page, result.page_count, result.total_rows
        self.open_amounts = _amounts(result.open_amounts)
        self.rows = [
            ReceivableRow(
                id=str(r.id), number=r.number, organization=r.organization, issue_date=fmt.day(r.issue_date),
                posting_date=fmt.day(r.posting_date),
                terms=f"{r.payment_terms_days} days" if r.payment_terms_days is not None else "",
                due_date=fmt.day(r.due_date), method=_method_label(r.payment_method),
                amount=fmt.money(r.total_minor, r.currency),
                status=f"Consolidated in {r.consolidated_into}" if r.consolidated_into else fmt.status_label(r.status),
                overdue=bool(r.overdue), reminders=not r.reminders_stopped)
            for r in result.rows
        ]

    @rx.event
    def set_direction(self, value: str | list[str]) -> None:
        value = value[0] if isinstance(value, list) and value else value
        self.direction = value if value in (receivable_queries.INCOMING, receivable_queries.OUTGOING) else self.direction
        self.page, self.selected = 1, []
        self._refresh()

    def _refresh_aging(self) -> None:
        """The aging report, read when the page opens and after a collection: sorting or
        paging the list does not change it."""
        report, refused = self._outcome_of(aging.aging_report, read_only=True)
        if report is None:
            self.error = refused
            return
        self.aging_rows = [
            AgingRow(organization=r.organization, currency=r.currency,
                     **{k: fmt.money(r.buckets[k], r.currency) for k in aging.BUCKET_KEYS},
                     total=fmt.money(r.total, r.currency))
            for r in [*report.rows, *report.totals]
        ]
        self.aging_figure = _aging_chart(report)

    def _filter_fields(self) -> tuple[str, ...]:
        return FILTER_FIELDS

    def _sortable(self) -> object:
        return receivable_queries.SORTABLE

    @rx.event
    def set_overdue_only(self, value: bool) -> None:
        self.overdue_only = bool(value)
        self.page = 1
        self._refresh()

    @rx.event
    def toggle_reminders(self, row_id: str) -> None:
        row = next((r for r in self.rows if r.id == row_id), None)
        if row is None:
            return
        stop, number = row.reminders, row.number

        def work(session, actor) -> str:  # type: ignore[no-untyped-def]
            receivables.set_reminders_stopped(session, actor, [int(row_id)], stop)
            return ""

        self.error = self._attempt(work)
        self.message = "" if self.error else f"Reminders {'stopped' if stop else 'resumed'} for {number}."
        self._refresh()

    @rx.event
    def open_collect(self) -> None:
        self.collect_open, self.collect_summary = True, []
        self.collect_by, self.collect_on = "due_date", date.today().isoformat()

    @rx.event
    def set_collect_open(self, value: bool) -> None:
        self.collect_open = value

    @rx.event
    def set_collect_by(self, value: str) -> None:
        self.collect_by = value

    @rx.event
    def set_collect_on(self, value: str) -> None:
        self.collect_on = value

    @rx.event
    def collect(self) -> None:
        """Collect every applicable invoice now, and show what was collected and what failed."""
        self.message = self.error = ""
        try:
            on = date.fromisoformat(self.collect_on) if self.collect_on else None
        except ValueError:
            self.collect_summary = ["Choose a date (YYYY-MM-DD)."]
            return
        summary, refused = self._outcome_of(
            lambda session, actor: collection.collect(session, actor, collection.Selection(self.collect_by, on)))
        if summary is None:
            self.collect_summary = [refused]
            return
        lines = [f"Collected {summary.collected} invoice{'s' if summary.collected != 1 else ''}: "
                 f"{_amounts(summary.collected_amounts)}",
                 f"Failed {summary.failed}: {_amounts(summary.failed_amounts)}"]
        lines += [f"{count} × {reason}" for reason, count in sorted(summary.reasons.items(), key=lambda i: -i[1])]
        if not summary.attempted:
            lines = ["Nothing to collect: no open invoice matches."]
        self.collect_summary = lines
        self._refresh()
        self._refresh_aging()

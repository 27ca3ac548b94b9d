"""Distribution: the report (chart and Excel), invoice deliveries with what held them, sending
again, and the dispute queue with re-issue. Every action is a thin call into the services."""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

import plotly.graph_objects as go
import reflex as rx

from vrm_dashboard.domain.distribution_rules import DELIVERY_LABELS, DeliveryStatus
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.distribution import (
    delivery_queries,
    dispatch as distribution,
    disputes,
    reports as distribution_reports,
)
from vrm_dashboard.services.platform.actors import Actor
from vrm_dashboard.services.platform.errors import FieldErrors, ServiceError
from vrm_dashboard.ui import formatting as fmt
from vrm_dashboard.ui.states.paged_selection import PagedSelectionMixin
from vrm_dashboard.ui.states.session import SessionState, page_load

STATUS_OPTIONS = [(s.value, label) for s, label in DELIVERY_LABELS.items()]
PERIOD_OPTIONS = [("day", "By day"), ("week", "By week"), ("month", "By month")]
CHART_SERIES = (("sent", "Sent"), ("delivered", "Delivered"), ("bounced", "Bounced"), ("failed", "Failed"),
                ("viewed", "Viewed"), ("paid", "Paid"))


@dataclass
class DeliveryRow:
    """One invoice e-mail: to whom, how it went, what held or failed it."""

    id: str = ""
    invoice_id: str = ""
    number: str = ""
    type: str = ""
    recipient: str = ""
    status: str = ""
    status_value: str = ""
    why: str = ""
    attempts: str = ""
    queued: str = ""
    sent: str = ""
    viewed: str = ""
    invoice_status: str = ""
    # Held, bounced or failed: a manager may send it again.
    can_resend: bool = False


@dataclass
class DeliveryCount:
    """How many invoice e-mails are in one delivery status."""

    label: str = ""
    count: str = ""


@dataclass
class DeliveryReportRow:
    """One period of the delivery report."""

    period: str = ""
    sent: str = ""
    delivered: str = ""
    bounced: str = ""
    failed: str = ""
    viewed: str = ""
    paid: str = ""
    rate: str = ""


@dataclass
class DisputeRow:
    """An open dispute a recipient raised about an invoice."""

    id: str = ""
    invoice_id: str = ""
    number: str = ""
    raised_by: str = ""
    reason: str = ""
    at: str = ""


@dataclass
class ReissueLine:
    """A line of the corrected invoice, as typed in the re-issue dialog."""

    description: str = ""
    quantity: str = "1"
    unit_price: str = "0.00"


_REISSUE_FIELDS = {f.name for f in fields(ReissueLine)}


def _chart(rows: list[distribution_reports.ReportRow]) -> go.Figure:
    figure = go.Figure()
    days = [r.period.isoformat() for r in rows]
    for key, label in CHART_SERIES:
        figure.add_trace(go.Bar(name=label, x=days, y=[getattr(r, key) for r in rows]))
    figure.add_trace(go.Scatter(name="Success rate %", x=days, y=[r.success_rate for r in rows], yaxis="y2",
                                mode="lines+markers"))
    # Periods are categories: a single day must not be drawn as a stretch of hours.
    figure.update_layout(barmode="group", height=320, margin=dict(l=40, r=40, t=20, b=40), xaxis=dict(type="category"),
                         yaxis=dict(title="Invoices"), legend=dict(orientation="h"),
                         yaxis2=dict(title="Success %", overlaying="y", side="right", range=[0, 100]))
    return figure


class DistributionState(PagedSelectionMixin, SessionState):
    status_filter: str = ""
    search: str = ""
    page_count: int = 1
    total_rows: int = 0
    rows: list[DeliveryRow] = []
    counts: list[DeliveryCount] = []
    can_manage: bool = False
    result: str = ""
    period: str = "day"
    report_rows: list[DeliveryReportRow] = []
    figure: go.Figure = go.Figure()
    addresses: dict[str, str] = {}
    dispute_rows: list[DisputeRow] = []
    answers: dict[str, str] = {}
    # The re-issue dialog.
    reissue_open: bool = False
    reissue_dispute: str = ""
    reissue_number: str = ""
    reissue_lines: list[ReissueLine] = []
    reissue_tax: str = "0"
    reissue_note: str = ""
    reissue_error: str = ""

    @rx.event
    @page_load
    def load(self, actor: Actor) -> Any:
        self.can_manage = actor.can(Action.DISTRIBUTION_MANAGE)
        self._refresh()
        return None

    def _refresh(self) -> None:
        try:
            with self._acting(read_only=True) as (session, actor):
                listing = delivery_queries.list_deliveries(session, actor, self.status_filter, self.search, self.page)
                report = distribution_reports.report(session, actor, self.period)
                open_disputes, _count = disputes.list_disputes(session, actor)
        except ServiceError as exc:
            self.result = str(exc)
            return
        self.page, self.page_count, self.total_rows = listing.page, listing.page_count, listing.total_rows
        self.rows = [self._row(r) for r in listing.rows]
        self.counts = [DeliveryCount(label=label, count=f"{listing.counts.get(s.value, 0):,}")
                       for s, label in DELIVERY_LABELS.items()]
        self.report_rows = [DeliveryReportRow(period=r.period.isoformat(), sent=str(r.sent), delivered=str(r.delivered),
                                              bounced=str(r.bounced), failed=str(r.failed), viewed=str(r.viewed),
                                              paid=str(r.paid),
                                              rate=f"{r.success_rate:.1f}%" if r.success_rate is not None else "—")
                            for r in reversed(report)]
        self.figure = _chart(report)
        self.dispute_rows = [DisputeRow(id=str(d.id), invoice_id=str(d.invoice_id), number=d.number,
                                        raised_by=d.raised_by, reason=d.reason, at=d.created_at)
                             for d in open_disputes]

    @staticmethod
    def _row(r: delivery_queries.DeliveryRow) -> DeliveryRow:
        return DeliveryRow(id=str(r.id), invoice_id=str(r.invoice_id), number=r.number,
                           type="Credit note" if r.document_type == "credit_note" else "Invoice",
                           recipient=r.recipient, status=DELIVERY_LABELS[DeliveryStatus(r.status)],
                           status_value=r.status, why=r.hold_reasons or r.last_error, attempts=str(r.attempts),
                           queued=r.created_at, sent=r.sent_at, viewed=r.viewed_at or "—",
                           invoice_status=fmt.status_label(r.invoice_status),
                           can_resend=r.status in ("held", "bounced", "failed"))

    @rx.event
    def set_status_filter(self, value: str) -> None:
        self.status_filter = "" if value == "all" else value
        self.page = 1
        self._refresh()

    @rx.event
    def set_search(self, value: str) -> None:
        self.search = value
        self.page = 1
        self._refresh()

    @rx.event
    def set_period(self, value: str) -> None:
        self.period = value if value in distribution_reports.PERIODS else "day"
        self._refresh()

    @rx.event
    def refresh(self) -> None:
        self._refresh()

    @rx.event
    def run_now(self) -> None:
        """Queue what is due and send it now, instead of waiting for the scheduler."""
        self._manage(distribution.send_now)

    @rx.event
    def set_address(self, delivery_id: str, value: str) -> None:
        self.addresses[delivery_id] = value

    def _manage(self, work) -> None:  # type: ignore[no-untyped-def]
        """Run `work(session, actor)` as a manager; its answer, or why not, becomes the result."""
        self.result = self._attempt(work, Action.DISTRIBUTION_MANAGE)
        self._refresh()

    @rx.event
    def send_again(self, delivery_id: str) -> None:
        def work(session, actor) -> str:  # type: ignore[no-untyped-def]
            delivery = distribution.send_again(session, actor, int(delivery_id), self.addresses.get(delivery_id) or None)
            return f"Queued again for {delivery.recipient}."
        self._manage(work)

    @rx.event
    def set_answer(self, dispute_id: str, value: str) -> None:
        self.answers[dispute_id] = value

    @rx.event
    def dismiss(self, dispute_id: str) -> None:
        def work(session, actor) -> str:  # type: ignore[no-untyped-def]
            disputes.dismiss(session, actor, int(dispute_id), self.answers.get(dispute_id, ""))
            return "Dispute answered; the invoice stands."
        self._manage(work)

    @rx.event
    def open_reissue(self, dispute_id: str) -> None:
        try:
            with self._acting(Action.DISTRIBUTION_MANAGE) as (session, actor):
                lines, rate = disputes.original_lines(session, actor, int(dispute_id))
        except ServiceError as exc:
            self.result = str(exc)
            return
        row = next((d for d in self.dispute_rows if d.id == dispute_id), None)
        self.reissue_dispute = dispute_id
        self.reissue_number = row.number if row is not None else ""
        self.reissue_lines = [ReissueLine(description=l.description, quantity=l.quantity, unit_price=l.unit_price)
                              for l in lines]
        self.reissue_tax, self.reissue_note, self.reissue_error = rate, "", ""
        self.reissue_open = True

    @rx.event
    def set_reissue_open(self, value: bool) -> None:
        self.reissue_open = value

    @rx.event
    def set_line(self, index: int, field: str, value: str) -> None:
        if field not in _REISSUE_FIELDS:
            return
        lines = list(self.reissue_lines)
        lines[int(index)] = replace(lines[int(index)], **{field: value})
        self.reissue_lines = lines

    @rx.event
    def add_line(self) -> None:
        self.reissue_lines = [*self.reissue_lines, ReissueLine()]

    @rx.event
    def set_reissue_tax(self, value: str) -> None:
        self.reissue_tax = value

    @rx.event
    def set_reissue_note(self, value: str) -> None:
        self.reissue_note = value

    @rx.event
    def reissue(self) -> None:
        lines = [disputes.CorrectedLine(l.description, l.quantity, l.unit_price)
                 for l in self.reissue_lines if l.description.strip()]
        try:
            with self._acting(Action.DISTRIBUTION_MANAGE) as (session, actor):
                credit, revised = disputes.reissue(session, actor, int(self.reissue_dispute), lines,
                                                   self.reissue_tax, self.reissue_note)
                numbers = (credit.number, revised.number)
        except FieldErrors as exc:
            self.reissue_error = "; ".join(exc.errors.values())
            return
        except ServiceError as exc:
            self.reissue_error = str(exc)
            return
        self.reissue_open = False
        self.result = f"Re-issued: credit note {numbers[0]} and corrected invoice {numbers[1]}, queued for sending."
        self._refresh()

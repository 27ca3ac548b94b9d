"""Smart Payouts: the payout list with totals per status and currency, approval, retry,
manual confirmation and remittance downloads. Every action is a thin call into the services."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import reflex as rx

from vrm_dashboard.domain.payout_rules import PAYOUT_STATUS_LABELS, RAIL_LABELS
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.payouts import (
    execution as payout_execution,
    queries as payout_queries,
    records as payouts,
)
from vrm_dashboard.services.platform.actors import Actor
from vrm_dashboard.services.platform.errors import ServiceError
from vrm_dashboard.ui import formatting as fmt
from vrm_dashboard.ui.states.paged_selection import PagedSelectionMixin
from vrm_dashboard.ui.states.rows import Refusal, StatusTotal
from vrm_dashboard.ui.states.session import SessionState, page_load

FILTER_FIELDS = ("status", "rail", "currency", "vendor")
_RAIL_TEXT = {rail.value: label for rail, label in RAIL_LABELS.items()}


@dataclass
class PayoutRow:
    """One payout on the Smart Payouts list, with what its confirmation cell offers."""

    id: str = ""
    invoice_id: str = ""
    invoice: str = ""
    vendor_code: str = ""
    vendor: str = ""
    method: str = ""
    due_date: str = ""
    pay_date: str = ""
    amount: str = ""
    currency: str = ""
    status: str = ""
    status_key: str = ""
    approver: str = ""
    payout_approver: str = ""
    reason: str = ""
    transaction_id: str = ""
    reference: str = ""
    # Paid through a transaction: the remittance advice can be downloaded.
    paid: bool = False
    # Waiting for someone to confirm the transfer by hand.
    confirmable: bool = False


class PayoutsState(PagedSelectionMixin, SessionState):
    filters: dict[str, str] = {k: "" for k in FILTER_FIELDS}
    rows: list[PayoutRow] = []
    page_count: int = 1
    total_rows: int = 0
    totals: list[StatusTotal] = []
    can_approve: bool = False
    can_manage: bool = False
    result: str = ""
    refused: list[Refusal] = []
    bank_references: dict[str, str] = {}
    totals_at: str = ""

    @rx.event
    @page_load
    def load(self, actor: Actor) -> Any:
        self.can_approve = actor.can(Action.PAYOUT_APPROVE)
        self.can_manage = actor.can(Action.PAYOUT_MANAGE)
        params = self.router.page.params
        if any(params.get(k) for k in FILTER_FIELDS):
            self.filters = {k: str(params.get(k, "")) for k in FILTER_FIELDS}
            self.page = 1
        self._refresh()
        return None

    def _refresh(self) -> None:
        query = payout_queries.PayoutQuery(**self.filters, page=self.page)
        try:
            with self._acting(read_only=True) as (session, actor):
                result = payout_queries.list_payouts(session, actor, query)
        except ServiceError as exc:
            self.result = str(exc)
            return
        self.page, self.page_count, self.total_rows = result.page, result.page_count, result.total_rows
        self.rows = [self._row(r) for r in result.rows]
        self._show_totals(result.totals)

    def _show_totals(self, totals: list[payout_queries.StatusTotal]) -> None:
        self.totals = [StatusTotal(key=g.key, label=g.label, count=f"{g.count:,}",
                                   amounts=" · ".join(fmt.money(v, c) for c, v in g.amounts_minor.items()) or "—")
                       for g in payout_queries.grouped(totals)]
        self.totals_at = datetime.now().strftime("%H:%M:%S")

    @rx.event
    def tick(self, _now: str = "") -> None:
        """The page's timer: totals follow what the scheduler and other people do."""
        if self.denied:
            return
        try:
            with self._acting(read_only=True) as (session, actor):
                totals = payout_queries.totals(session, actor)
        except ServiceError:
            return
        self._show_totals(totals)

    @staticmethod
    def _row(r: payout_queries.PayoutRow) -> PayoutRow:
        status = payout_queries.status_label(r.status)
        if r.held_until is not None:
            status = f"{status} (held until {fmt.day(r.held_until)}: bank details changed)"
        return PayoutRow(
            id=str(r.id), invoice_id=str(r.invoice_id), invoice=r.invoice_number,
            vendor_code=r.vendor_code, vendor=r.vendor_name,
            method=_RAIL_TEXT.get(r.rail, r.rail),
            due_date=fmt.day(r.due_date), pay_date=fmt.day(r.pay_date),
            amount=fmt.money(r.amount_minor, r.currency), currency=r.currency, status=status,
            status_key=r.status, approver=r.invoice_approver,
            payout_approver=r.payout_approver, reason=r.failure_reason,
            transaction_id=str(r.transaction_id or ""), reference=r.reference,
            paid=r.status == "paid" and bool(r.transaction_id),
            confirmable=bool(r.confirmable),
        )

    @rx.event
    def set_filter(self, name: str, value: str) -> None:
        if name in FILTER_FIELDS:
            self.filters[name] = "" if value == "all" else value
            self.page, self.selected = 1, []
            self._refresh()

    @rx.event
    def refresh(self) -> None:
        self._refresh()

    def _run(self, work) -> None:  # type: ignore[no-untyped-def]
        self.result = self._attempt(work)
        self.refused = []
        self._refresh()

    @rx.event
    def approve_selected(self) -> None:
        ids = [int(i) for i in self.selected]

        def work(session, actor) -> str:  # type: ignore[no-untyped-def]
            outcome = payouts.approve(session, actor, ids)
            self.selected = []
            return outcome.summary("payouts approved")
        self._run(work)

    @rx.event
    def retry_selected(self) -> None:
        ids = [int(i) for i in self.selected]

        def work(session, actor) -> str:  # type: ignore[no-untyped-def]
            moved = payouts.retry(session, actor, ids)
            self.selected = []
            return f"{moved} payouts sent back to the payout run."
        self._run(work)

    @rx.event
    def set_bank_reference(self, transaction_id: str, value: str) -> None:
        self.bank_references[transaction_id] = value

    @rx.event
    def mark_paid(self, transaction_id: str) -> None:
        reference = self.bank_references.get(transaction_id, "")

        def work(session, actor) -> str:  # type: ignore[no-untyped-def]
            payouts.mark_paid(session, actor, int(transaction_id), reference)
            return f"Payment recorded as paid ({reference.strip()})."
        self._run(work)

    @rx.event
    def run_now(self) -> None:
        """Run the payout job at once (what the scheduler does on its schedule)."""
        def work(session, actor) -> str:  # type: ignore[no-untyped-def]
            return f"Payout run: {payout_execution.run_now(session, actor).detail}."
        self._run(work)


STATUS_OPTIONS = list(PAYOUT_STATUS_LABELS.items())
RAIL_OPTIONS = [(r.value, label) for r, label in RAIL_LABELS.items()]

"""Pending Invoices: the filtered list with totals, column chooser, selection, bulk approve
and reject, and exports. Every action is a thin call into the services."""
from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import reflex as rx

from vrm_dashboard.db.engine import session_scope
from vrm_dashboard.domain.invoice_status import STATUS_LABELS
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.invoices import approvals, export as invoice_export, queries as invoice_queries
from vrm_dashboard.services.invoices.flags import FLAG_LABELS
from vrm_dashboard.services.platform import export_files
from vrm_dashboard.services.platform.actors import Actor
from vrm_dashboard.services.platform.errors import FieldErrors, ServiceError
from vrm_dashboard.ui import formatting as fmt
from vrm_dashboard.ui.states.list_controls import ListControlsMixin
from vrm_dashboard.ui.states.paged_selection import PagedSelectionMixin
from vrm_dashboard.ui.states.reject_dialog import RejectDialogMixin
from vrm_dashboard.ui.states.rows import Refusal, StatusTotal
from vrm_dashboard.ui.states.session import SessionState, page_load

COLUMNS: list[tuple[str, str]] = [
    ("number", "Invoice number"), ("kind", "Type"), ("vendor", "Vendor"), ("vendor_code", "Vendor ID"),
    ("amount", "Amount"), ("currency", "Currency"), ("issue_date", "Issue date"), ("due_date", "Due date"),
    ("status", "Status"), ("submitted_by", "Submitted by"), ("approvers", "Approver"), ("flags", "Flags"),
]
DEFAULT_COLUMNS = [key for key, _ in COLUMNS]
COLUMNS_PREFERENCE = "invoices.columns"
FILTER_FIELDS = ("search", "status", "vendor", "kind", "issued_from", "issued_to", "amount_min",
                 "amount_max", "payment_method", "flag")


@dataclass
class InvoiceRow:
    """One invoice on the Pending Invoices list; the fields are the COLUMNS keys, and its id."""

    id: str = ""
    number: str = ""
    kind: str = ""
    vendor: str = ""
    vendor_code: str = ""
    amount: str = ""
    currency: str = ""
    issue_date: str = ""
    due_date: str = ""
    status: str = ""
    submitted_by: str = ""
    approvers: str = ""
    flags: str = ""


class InvoicesState(RejectDialogMixin, ListControlsMixin, PagedSelectionMixin, SessionState):
    filters: dict[str, str] = {k: "" for k in FILTER_FIELDS}
    rows: list[InvoiceRow] = []
    filter_error: str = ""
    sort: str = "issue_date"
    descending: bool = True
    page_size: int = 25
    totals: list[StatusTotal] = []
    total_rows: int = 0
    page_count: int = 1
    visible_columns: list[str] = DEFAULT_COLUMNS
    can_approve: bool = False
    can_reject: bool = False
    result: str = ""
    refused: list[Refusal] = []
    reject_scope: str = "selected"
    exporting: bool = False
    export_progress: int = 0
    export_message: str = ""

    def _query(self, page: int | None = None) -> invoice_queries.InvoiceQuery:
        f = self.filters
        return invoice_queries.InvoiceQuery(
            search=f["search"], statuses=[f["status"]] if f["status"] else [], vendor=f["vendor"],
            kind=f["kind"], issued_from=f["issued_from"], issued_to=f["issued_to"],
            amount_min=f["amount_min"], amount_max=f["amount_max"], payment_method=f["payment_method"],
            flag=f["flag"], sort=self.sort, descending=self.descending,
            page=page or self.page, page_size=self.page_size,
        )

    @rx.event
    @page_load
    def load(self, actor: Actor) -> Any:
        self.can_approve = actor.can(Action.INVOICE_APPROVE)
        self.can_reject = actor.can(Action.INVOICE_REJECT)
        self._load_columns()
        # A link such as /invoices?vendor=V00042&status=pending opens that view.
        params = self.router.page.params
        if any(params.get(k) for k in FILTER_FIELDS):
            self.filters = {k: str(params.get(k, "")) for k in FILTER_FIELDS}
            self.page, self.selected, self.result = 1, [], ""
        self._refresh()
        return None

    def _refresh(self) -> None:
        try:
            with self._acting(read_only=True) as (session, actor):
                result = invoice_queries.list_invoices(session, actor, self._query())
        except FieldErrors as exc:
            self.filter_error = "; ".join(exc.errors.values())
            return
        except ServiceError as exc:
            self.filter_error = str(exc)
            return
        self.filter_error = ""
        self.page, self.page_count, self.total_rows = result.page, result.page_count, result.total_rows
        self.rows = [
            InvoiceRow(
                id=str(r.id), number=r.number,
                kind="Self-generated" if r.kind == "self_generated" else "Parsed",
                vendor=r.vendor_name, vendor_code=r.vendor_code,
                amount=fmt.money(r.total_minor, r.currency), currency=r.currency,
                issue_date=fmt.day(r.issue_date), due_date=fmt.day(r.due_date),
                status=fmt.status_label(r.status), submitted_by=r.submitted_by,
                approvers=", ".join(r.approvers), flags=", ".join(FLAG_LABELS[f] for f in r.flags),
            )
            for r in result.rows
        ]
        by_status: dict[str, list[str]] = defaultdict(list)
        counts: dict[str, int] = defaultdict(int)
        for t in result.totals:
            by_status[t.status].append(fmt.money(t.amount_minor, t.currency))
            counts[t.status] += t.count
        self.totals = [
            StatusTotal(key=status.value, label=label, count=f"{counts.get(status.value, 0):,}",
                        amounts=" · ".join(by_status.get(status.value, [])) or "—")
            for status, label in STATUS_LABELS.items()
        ]

    @rx.event
    def show_status(self, status: str) -> None:
        self._apply_filter("status", "" if self.filters["status"] == status else status)

    def _filter_fields(self) -> tuple[str, ...]:
        return FILTER_FIELDS

    def _sortable(self) -> object:
        return invoice_queries.SORTABLE

    def _columns(self) -> tuple[list[str], str]:
        return DEFAULT_COLUMNS, COLUMNS_PREFERENCE

    def _selection(self, scope: str) -> approvals.Selection:
        if scope == "filter":
            return approvals.Selection(query=self._query())
        return approvals.Selection(invoice_ids=[int(i) for i in self.selected])

    def _report(self, outcome: approvals.BulkResult, verb: str) -> None:
        self.result = outcome.summary(verb)
        self.refused = [Refusal(number=r.number, reason=r.reason) for r in outcome.refused]
        self.selected = []
        self._refresh()

    @rx.event
    def approve(self, scope: str) -> None:
        """Approve the ticked rows ("selected") or every invoice in the view ("filter")."""
        try:
            with self._acting() as (session, actor):
                outcome = approvals.approve(session, actor, self._selection(scope))
        except FieldErrors as exc:
            self.result, self.refused = "; ".join(exc.errors.values()), []
            return
        except ServiceError as exc:
            self.result, self.refused = str(exc), []
            return
        self._report(outcome, "approved")

    @rx.event
    def open_reject(self, scope: str) -> None:
        self.reject_scope = scope
        self._open_reject_dialog()

    @rx.event
    def reject(self) -> None:
        outcome = self._reject(self._selection(self.reject_scope))
        if outcome is not None:
            self._report(outcome, "rejected")

    @rx.event(background=True)
    async def export(self, fmt_name: str, scope: str):  # type: ignore[no-untyped-def]
        """Write the view (or everything) to a file in a worker thread, with progress."""
        async with self:
            if self.exporting:
                return
            self.exporting, self.export_progress, self.export_message = True, 0, ""
            query = None if scope == "all" else self._query()
            token = self.token
        progress = {"done": 0, "total": 1}

        def work() -> str:
            from vrm_dashboard.services.identity import auth

            with session_scope(read_only=True) as session:
                actor = auth.actor_for_token(session, token)
                if actor is None:
                    raise ServiceError("Your session has ended; please sign in again")
                path = export_files.new_path(actor, fmt_name)
                with open(path, "wb") as out:
                    rows = invoice_export.export_invoices(
                        session, actor, query, fmt_name, out,
                        lambda done, total: progress.update(done=done, total=max(total, 1)))
            return f"{path.name}|{rows}"

        task = asyncio.create_task(asyncio.to_thread(work))
        while not task.done():
            await asyncio.sleep(0.3)
            async with self:
                self.export_progress = min(100, progress["done"] * 100 // progress["total"])
        try:
            name, rows = task.result().split("|")
        except (ServiceError, FieldErrors, OSError) as exc:
            async with self:
                self.exporting, self.export_message = False, f"Export failed: {exc}"
            return
        except Exception:
            # Whatever else went wrong, the page must not stay "exporting" for good.
            async with self:
                self.exporting, self.export_message = False, "Export failed: an unexpected error (logged)"
            raise
        async with self:
            self.exporting, self.export_progress = False, 100
            self.export_message = f"Exported {int(rows):,} invoices."
        yield rx.download(url=f"/api/v1/exports/{name}")

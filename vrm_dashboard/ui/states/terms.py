"""Payment Terms: the organizations the user manages, terms edited in place or in bulk, each
organization's history of terms, and Excel exports. Every action is a thin call into the
services, which check the user's scope whatever the screen shows."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import reflex as rx

from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.platform import export_files
from vrm_dashboard.services.platform.actors import Actor
from vrm_dashboard.services.platform.errors import ServiceError
from vrm_dashboard.services.receivables import organizations, terms_export as organization_export
from vrm_dashboard.ui import formatting as fmt
from vrm_dashboard.ui.states.list_controls import ListControlsMixin
from vrm_dashboard.ui.states.paged_selection import PagedSelectionMixin
from vrm_dashboard.ui.states.session import SessionState, page_load

COLUMNS: list[tuple[str, str]] = [
    ("status", "Status"), ("name", "Organization"), ("erp_id", "ERP ID"), ("id", "Organization ID"),
    ("country", "Country"), ("tier", "Tier"), ("terms", "Payment Terms"), ("default", "Default Payment Terms"),
    ("updated_at", "Updated On"), ("updated_by", "Updated By"), ("reminders", "Reminders"),
]
DEFAULT_COLUMNS = [key for key, _ in COLUMNS]
COLUMNS_PREFERENCE = "terms.columns"
FILTER_FIELDS = ("search", "tier", "country", "uses_default", "status")
COLLECTION_OPTIONS = [("transfer", "Transfer (nothing to charge)"), ("credit_card", "Credit card"),
                      ("ach", "ACH direct debit")]
TIER_OPTIONS = [(k, v) for k, v in organizations.TIER_LABELS.items() if k != "distributor"]


@dataclass
class OrganizationRow:
    """One organization on the Payment Terms list, with the terms being typed into its cell."""

    id: str = ""
    status: str = ""
    name: str = ""
    erp_id: str = ""
    country: str = ""
    tier: str = ""
    # The saved terms in days, and what the terms cell holds now.
    days: str = ""
    draft: str = ""
    pending: str = ""
    default: str = ""
    updated_at: str = ""
    updated_by: str = ""
    # Whether payment reminders go out to it.
    reminders: bool = True


@dataclass
class TermsHistoryEntry:
    """One change of an organization's terms: in force from, before, after, when and by whom."""

    effective_from: str = ""
    was: str = ""
    now: str = ""
    at: str = ""
    by: str = ""


class TermsState(ListControlsMixin, PagedSelectionMixin, SessionState):
    filters: dict[str, str] = {k: "" for k in FILTER_FIELDS}
    rows: list[OrganizationRow] = []
    sort: str = "name"
    descending: bool = False
    page_size: int = 25
    page_count: int = 1
    total_rows: int = 0
    visible_columns: list[str] = DEFAULT_COLUMNS
    can_edit: bool = False
    can_collect: bool = False
    message: str = ""
    error: str = ""
    bulk_value: str = ""
    history_name: str = ""
    history: list[TermsHistoryEntry] = []
    # The chosen organization's billing settings, edited below its history.
    billing_id: str = ""
    billing: dict[str, str] = {}

    def _query(self) -> organizations.OrganizationQuery:
        f = self.filters
        return organizations.OrganizationQuery(
            search=f["search"], tier=f["tier"], country=f["country"], uses_default=f["uses_default"],
            status=f["status"], sort=self.sort, descending=self.descending, page=self.page, page_size=self.page_size)

    @rx.event
    @page_load
    def load(self, actor: Actor) -> Any:
        self.can_edit = actor.can(Action.TERMS_EDIT)
        self.can_collect = actor.can(Action.COLLECTION_MANAGE)
        self._load_columns()
        self.message = self.error = ""
        self.history, self.history_name = [], ""
        self._refresh()
        return None

    def _refresh(self) -> None:
        result, refused = self._outcome_of(
            lambda session, actor: organizations.list_organizations(session, actor, self._query()), read_only=True)
        if result is None:
            self.error = refused
            return
        self.page, self.page_count, self.total_rows = result.page, result.page_count, result.total_rows
        self.rows = [
            OrganizationRow(
                id=str(r.id), status="Active" if r.is_active else "Inactive", name=r.name, erp_id=r.erp_id,
                country=r.country, tier=organizations.TIER_LABELS.get(r.tier, r.tier),
                days=str(r.payment_terms_days), draft=str(r.payment_terms_days),
                pending=f"from {r.pending_from.isoformat()}" if r.pending_from else "",
                default="Yes" if r.uses_default else "No", updated_at=fmt.day(r.updated_at),
                updated_by=r.updated_by, reminders=not r.reminders_stopped)
            for r in result.rows
        ]

    def _filter_fields(self) -> tuple[str, ...]:
        return FILTER_FIELDS

    def _sortable(self) -> object:
        return organizations.SORTABLE

    def _columns(self) -> tuple[list[str], str]:
        return DEFAULT_COLUMNS, COLUMNS_PREFERENCE

    @rx.event
    def set_draft(self, row_id: str, value: str) -> None:
        self.rows = [replace(r, draft=value) if r.id == row_id else r for r in self.rows]

    def _outcome(self, work) -> None:  # type: ignore[no-untyped-def]
        """Run a change; its message, or the reason it was refused, and the page reloaded."""
        message, self.error = self._outcome_of(work)
        self.message = "" if message is None else message
        self._refresh()

    def _apply(self, ids: list[int], value: str, what: str) -> None:
        def work(session, actor) -> str:  # type: ignore[no-untyped-def]
            change = organizations.set_terms(session, actor, ids, value)
            if not change.changed:
                return f"{what}: no change."
            terms = "the default terms" if change.days is None else f"{change.days} days"
            return f"{what}: {terms} for invoices generated from {change.effective_from.isoformat()}."

        self._outcome(work)

    @rx.event
    def save_terms(self, row_id: str) -> None:
        """Save the edited cell (on Enter or leaving it); a refused value goes back to the saved one."""
        row = next((r for r in self.rows if r.id == row_id), None)
        if row is None or row.draft.strip() == row.days:
            return
        self._apply([int(row_id)], row.draft, row.name)

    @rx.event
    def key_in_terms(self, row_id: str, key: str) -> None:
        if key == "Enter":
            self.save_terms(row_id)
        elif key == "Escape":
            self.rows = [replace(r, draft=r.days) if r.id == row_id else r for r in self.rows]

    @rx.event
    def set_bulk_value(self, value: str) -> None:
        self.bulk_value = value

    @rx.event
    def apply_bulk(self, use_default: bool = False) -> None:
        if not self.selected:
            self.error, self.message = "Tick the organizations to change first.", ""
            return
        count = len(self.selected)
        self._apply([int(i) for i in self.selected], "default" if use_default else self.bulk_value,
                    f"{count} organization{'s' if count != 1 else ''}")
        if self.message:
            self.selected, self.bulk_value = [], ""

    @rx.event
    def show_history(self, row_id: str, name: str) -> None:
        """The organization's history of terms and its billing settings."""
        try:
            with self._acting(read_only=True) as (session, actor):
                changes = organizations.terms_history(session, actor, int(row_id))
                billing = organizations.billing_settings(session, actor, int(row_id))
        except ServiceError as exc:
            self.error = str(exc)
            return
        self.history_name, self.billing_id = name, row_id
        self.history = [TermsHistoryEntry(effective_from=c.effective_from.isoformat(), was=c.previous_days,
                                          now=c.days, at=fmt.day(c.changed_at), by=c.changed_by)
                        for c in changes]
        self.billing = {"billing_email": billing.billing_email or "", "billing_address": billing.billing_address or "",
                        "collection_method": billing.collection_method or "transfer",
                        "consolidates_monthly": "yes" if billing.consolidates_monthly else "no",
                        "wants_einvoice": "yes" if billing.wants_einvoice else "no"}

    @rx.event
    def set_billing_field(self, name: str, value: str | bool) -> None:
        if name in self.billing:
            self.billing[name] = ("yes" if value else "no") if isinstance(value, bool) else value

    @rx.event
    def save_billing(self) -> None:
        b = self.billing
        values = organizations.BillingSettings(
            b["billing_email"], b["billing_address"],
            None if b["collection_method"] == "transfer" else b["collection_method"],
            b["consolidates_monthly"] == "yes", b["wants_einvoice"] == "yes")

        def work(session, actor) -> str:  # type: ignore[no-untyped-def]
            organizations.update_billing(session, actor, int(self.billing_id), values)
            return f"Billing settings of {self.history_name} saved."

        self._outcome(work)

    @rx.event
    def toggle_reminders(self, row_id: str) -> None:
        row = next((r for r in self.rows if r.id == row_id), None)
        if row is None:
            return
        stop, name = row.reminders, row.name

        def work(session, actor) -> str:  # type: ignore[no-untyped-def]
            organizations.set_reminders_stopped(session, actor, int(row_id), stop)
            return f"Reminders {'stopped' if stop else 'resumed'} for {name}."

        self._outcome(work)

    @rx.event
    def export(self, scope: str):  # type: ignore[no-untyped-def]
        """The view as filtered and sorted ("view") or every organization ("all"), to Excel."""
        query = self._query() if scope == "view" else None
        try:
            with self._acting(read_only=True) as (session, actor):
                path = export_files.new_path(actor, "xlsx")
                with open(path, "wb") as out:
                    written = organization_export.export_organizations(session, actor, query, out)
        except ServiceError as exc:
            self.error = str(exc)
            return None
        self.message = f"Exported {written:,} organizations."
        return rx.download(url=f"/api/v1/exports/{path.name}")

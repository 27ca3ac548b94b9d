"""The audit log screen: search by user, action, object and date, page, export to Excel."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import reflex as rx

from vrm_dashboard.services.platform import audit, audit_queries, export_files
from vrm_dashboard.services.platform.actors import Actor
from vrm_dashboard.ui import formatting as fmt
from vrm_dashboard.ui.states.session import SessionState, page_load

FILTER_FIELDS = ("user", "action", "object_type", "object_id", "since", "until")


@dataclass
class AuditEntry:
    """One line of the audit log: who did what to which object, and the fields it changed."""

    at: str = ""
    who: str = ""
    action: str = ""
    object: str = ""
    object_id: str = ""
    changes: str = ""


def _changes(entry) -> str:  # type: ignore[no-untyped-def]
    parts = [f"{field}: {before!s:.40} → {after!s:.40}" for field, (before, after) in audit.changed_fields(entry).items()]
    text = "; ".join(parts)
    return text if len(text) <= 300 else text[:297] + "..."


class AuditLogState(SessionState):
    filters: dict[str, str] = {k: "" for k in FILTER_FIELDS}
    rows: list[AuditEntry] = []
    page: int = 1
    page_count: int = 1
    total_rows: int = 0
    error: str = ""
    message: str = ""

    def _query(self) -> audit_queries.AuditQuery:
        return audit_queries.AuditQuery(**self.filters, page=self.page)

    @rx.event
    @page_load
    def load(self, actor: Actor) -> Any:
        self._refresh()
        return None

    def _refresh(self) -> None:
        result, self.error = self._outcome_of(
            lambda session, actor: audit_queries.search(session, actor, self._query()), read_only=True)
        if result is None:
            return
        self.page, self.page_count, self.total_rows = result.page, result.page_count, result.total_rows
        self.rows = [AuditEntry(at=fmt.day(e.at), who=e.actor_label, action=e.action, object=e.object_type,
                                object_id=e.object_id, changes=_changes(e)) for e in result.rows]

    @rx.event
    def set_filter(self, name: str, value: str) -> None:
        if name in FILTER_FIELDS:
            self.filters[name] = value
            self.page = 1
            self._refresh()

    @rx.event
    def go_to_page(self, page: int) -> None:
        self.page = max(1, int(page))
        self._refresh()

    @rx.event
    def export(self):  # type: ignore[no-untyped-def]
        def work(session, actor):  # type: ignore[no-untyped-def]
            path = export_files.new_path(actor, "xlsx")
            with open(path, "wb") as out:
                return path, audit_queries.export_xlsx(session, actor, self._query(), out)

        done, self.error = self._outcome_of(work, read_only=True)
        if done is None:
            return None
        path, written = done
        self.message = f"Exported {written:,} entries."
        return rx.download(url=f"/api/v1/exports/{path.name}")

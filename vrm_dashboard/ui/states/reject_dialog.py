"""The reject-with-a-reason dialog, shared by the invoice list and the invoice page."""
from __future__ import annotations

import reflex as rx

from vrm_dashboard.services.invoices import approvals
from vrm_dashboard.services.platform.errors import FieldErrors, ServiceError


class RejectDialogMixin(rx.State, mixin=True):
    reject_open: bool = False
    reject_reason: str = ""
    reject_error: str = ""

    def _open_reject_dialog(self) -> None:
        self.reject_open, self.reject_reason, self.reject_error = True, "", ""

    @rx.event
    def close_reject(self) -> None:
        self.reject_open = False

    @rx.event
    def set_reject_reason(self, value: str) -> None:
        self.reject_reason = value

    def _reject(self, selection: approvals.Selection) -> approvals.BulkResult | None:
        """Reject the selection with the dialog's reason; None (and the dialog says why) when
        the service refused. The acting user comes from the session state this is mixed into."""
        try:
            with self._acting() as (session, actor):  # type: ignore[attr-defined]
                outcome = approvals.reject(session, actor, selection, self.reject_reason)
        except FieldErrors as exc:
            self.reject_error = "; ".join(exc.errors.values())
            return None
        except ServiceError as exc:
            self.reject_error = str(exc)
            return None
        self.reject_open = False
        return outcome

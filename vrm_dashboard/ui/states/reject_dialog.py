"""The reject-with-a-reason dialog, shared by the invoice list and the invoice page."""
from __future__ import annotations

import reflex as rx


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

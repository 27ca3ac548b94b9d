"""Paging and row selection, shared by the list screens (invoices, payouts)."""
from __future__ import annotations

import reflex as rx


class PagedSelectionMixin(rx.State, mixin=True):
    """A page of rows and the ticked ids. The screen's state declares `rows`, a list of its own
    row class (each row with an `id`), and brings `_refresh`, which reloads the page."""

    page: int = 1
    selected: list[str] = []

    @rx.event
    def go_to_page(self, page: int) -> None:
        self.page = max(1, int(page))
        self.selected = []
        self._refresh()

    @rx.event
    def toggle_row(self, row_id: str) -> None:
        self.selected = ([i for i in self.selected if i != row_id] if row_id in self.selected
                         else [*self.selected, row_id])

    @rx.event
    def toggle_page(self, checked: bool) -> None:
        self.selected = [r.id for r in self.rows] if checked else []

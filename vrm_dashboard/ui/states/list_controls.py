"""Filters, sort order and the column chooser, shared by the list screens.

The screen's state holds `filters`, `sort`, `descending`, `page` and `selected` (with
PagedSelectionMixin) and `visible_columns` if it has a chooser; it names its filter fields,
sortable columns and chooser columns through the methods below, and brings `_refresh`."""
from __future__ import annotations

import reflex as rx

from vrm_dashboard.services.platform import preferences


class ListControlsMixin(rx.State, mixin=True):
    def _filter_fields(self) -> tuple[str, ...]:
        raise NotImplementedError

    def _sortable(self) -> object:
        """A container of the column names the list may be sorted by."""
        raise NotImplementedError

    def _columns(self) -> tuple[list[str], str]:
        """Every column in order, and the preference key the user's choice is kept under."""
        raise NotImplementedError

    def _load_columns(self) -> None:
        """The columns this user chose last time on this screen (all of them at first)."""
        every, key = self._columns()
        with self._acting(read_only=True) as (session, actor):
            chosen = preferences.get(session, actor, key, every)
        self.visible_columns = [c for c in every if c in chosen]

    def _apply_filter(self, name: str, value: str) -> None:
        if name not in self._filter_fields():
            return
        self.filters[name] = "" if value == "all" else value
        self.page, self.selected = 1, []
        self._refresh()

    @rx.event
    def set_filter(self, name: str, value: str) -> None:
        self._apply_filter(name, value)

    @rx.event
    def clear_filters(self) -> None:
        self.filters = {k: "" for k in self._filter_fields()}
        self.page, self.selected = 1, []
        self._refresh()

    @rx.event
    def sort_by(self, column: str) -> None:
        """Sort by the column; asking for the same column again reverses the order."""
        if column not in self._sortable():
            return
        self.descending = not self.descending if self.sort == column else False
        self.sort = column
        self._refresh()

    @rx.event
    def toggle_column(self, column: str) -> None:
        every, key = self._columns()
        chosen = set(self.visible_columns) ^ {column}
        if column not in every or not chosen:
            return
        self.visible_columns = [c for c in every if c in chosen]
        with self._acting() as (session, actor):
            preferences.put(session, actor, key, self.visible_columns)

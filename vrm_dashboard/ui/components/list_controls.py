"""The pager and the column chooser under and above the list screens."""
from __future__ import annotations

import reflex as rx


def pager(state, *summary: rx.Var | str, testid: str | None = None) -> rx.Component:  # type: ignore[no-untyped-def]
    """Previous / "Page p of n · <summary>" / Next, for a state with page, page_count and go_to_page."""
    return rx.hstack(
        rx.button("Previous", size="1", variant="soft", disabled=state.page <= 1,
                  on_click=state.go_to_page(state.page - 1)),
        rx.text("Page ", state.page, " of ", state.page_count, " · ", *summary, size="2", data_testid=testid),
        rx.button("Next", size="1", variant="soft", disabled=state.page >= state.page_count,
                  on_click=state.go_to_page(state.page + 1)),
        align="center",
    )


def column_chooser(state, columns: list[tuple[str, str]], testid: str, item_prefix: str) -> rx.Component:  # type: ignore[no-untyped-def]
    """A popover of checkboxes over `state.visible_columns` (ListControlsMixin.toggle_column)."""
    return rx.popover.root(
        rx.popover.trigger(rx.button("Columns", variant="soft", data_testid=testid)),
        rx.popover.content(rx.vstack(*[
            rx.checkbox(label, checked=state.visible_columns.contains(key),
                        on_change=lambda _c, key=key: state.toggle_column(key), data_testid=f"{item_prefix}{key}")
            for key, label in columns], spacing="2")),
    )

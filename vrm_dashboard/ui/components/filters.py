"""Filter controls shared by the list screens."""
from __future__ import annotations

from typing import Callable

import reflex as rx


def filter_select(filters: rx.Var, set_filter: Callable, name: str, label: str,
                  options: list[tuple[str, str]], testid: str) -> rx.Component:
    """A labelled choice for `filters[name]`, with "All" for no filter."""
    return rx.hstack(
        rx.text(label, size="2"),
        rx.select.root(
            rx.select.trigger(data_testid=testid),
            rx.select.content(rx.select.item("All", value="all"),
                              *[rx.select.item(text, value=value) for value, text in options]),
            value=rx.cond(filters[name] == "", "all", filters[name]),
            on_change=lambda value: set_filter(name, value),
        ),
        align="center", spacing="1",
    )

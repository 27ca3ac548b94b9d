"""A column header that sorts its table: click once for ascending, again for descending."""
from typing import Any

import reflex as rx


def sort_label(state: Any, label: str, sort_key: str, testid: str | None = None) -> rx.Component:
    """The header's text with an arrow on the sorted column. `state` has `sort`, `descending`
    and the event `sort_by(key)`."""
    arrow = rx.cond(state.sort == sort_key, rx.cond(state.descending, " ↓", " ↑"), "")
    props = {"data_testid": testid} if testid else {}
    return rx.text(label, arrow, cursor="pointer", on_click=state.sort_by(sort_key), **props)

"""A labelled input with the message of its field underneath when the server refused it."""
from collections.abc import Callable
from typing import Any

import reflex as rx


def form_field(label: str, value: rx.Var, on_change: Callable[[str], Any], errors: rx.Var, field: str,
               testid: str, error_testid: str | None = None, area: bool = False, **props: Any) -> rx.Component:
    """`errors` is the state's field -> message dict, `field` this input's key in it; `props` go to the input (type,
    placeholder, name...)."""
    control = rx.text_area if area else rx.input
    error_props = {"data_testid": error_testid} if error_testid else {}
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        control(value=value, on_change=on_change, data_testid=testid, width="100%", **props),
        rx.cond(errors.contains(field), rx.text(errors[field], color_scheme="red", size="1", **error_props)),
        spacing="1", width="100%",
    )

"""A list of labelled facts read from one record of a state (a vendor, an invoice)."""
import reflex as rx


def fact_list(source: rx.Var, items: list[tuple[str, str]], testid_prefix: str | None = None) -> rx.Component:
    """`items` are (label, key) pairs; each value is `source[key]`."""
    return rx.data_list.root(*[
        rx.data_list.item(
            rx.data_list.label(label),
            rx.data_list.value(source[key], data_testid=f"{testid_prefix}-{key}") if testid_prefix
            else rx.data_list.value(source[key]))
        for label, key in items
    ])

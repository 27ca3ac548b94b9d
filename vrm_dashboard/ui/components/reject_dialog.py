"""The dialog that rejects invoices with a reason, on the list and on one invoice."""
from typing import Any

import reflex as rx


def reject_dialog(state: Any) -> rx.Component:
    """Asks for the reason (the vendor is told it); `state` has reject_reason, reject_error,
    reject_open and the events set_reject_reason, close_reject and reject."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Reject invoices"),
            rx.text("The vendor is told this reason.", size="2"),
            rx.text_area(value=state.reject_reason, on_change=state.set_reject_reason,
                         placeholder="What is wrong with the invoice?", data_testid="reject-reason"),
            rx.cond(state.reject_error != "", rx.text(state.reject_error, color_scheme="red", size="1",
                                                      data_testid="reject-error")),
            rx.hstack(
                rx.button("Cancel", variant="soft", color_scheme="gray", on_click=state.close_reject),
                rx.button("Reject", color_scheme="red", on_click=state.reject, data_testid="confirm-reject"),
                justify="end", spacing="3", margin_top="1em",
            ),
        ),
        open=state.reject_open,
        on_open_change=lambda _open: state.close_reject(),
    )

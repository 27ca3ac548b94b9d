"""The frame every signed-in page shares: navigation for the user's role, header, sign-out."""
from __future__ import annotations

import reflex as rx

from vrm_dashboard.ui.states.session import SessionState


def _nav_link(label: rx.Var, route: rx.Var) -> rx.Component:
    return rx.link(
        rx.text(label, size="3", weight="medium"),
        href=route,
        padding="0.5em 0.75em",
        border_radius="6px",
        width="100%",
        _hover={"background": rx.color("accent", 3)},
        data_testid="nav-link",
    )


def sidebar() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.image(src="/logo.svg", width="28px", height="28px", alt=""),
            rx.heading("VRM Dashboard", size="5"),
            align="center", padding="0.5em 0.75em",
        ),
        rx.foreach(
            SessionState.nav_labels,
            lambda label, i: _nav_link(label, SessionState.nav_routes[i]),
        ),
        rx.spacer(),
        rx.vstack(
            rx.text(SessionState.user_name, weight="bold", size="2", data_testid="user-name"),
            rx.text(SessionState.role_names, size="1", color_scheme="gray"),
            rx.button("Sign out", on_click=SessionState.sign_out, variant="soft", size="1",
                      data_testid="sign-out"),
            padding="0.75em",
            spacing="1",
        ),
        width="230px",
        min_width="230px",
        height="100vh",
        position="sticky",
        top="0",
        border_right=f"1px solid {rx.color('gray', 5)}",
        background=rx.color("gray", 2),
        spacing="1",
        padding_y="1em",
    )


def denied_panel() -> rx.Component:
    return rx.callout(SessionState.denied, icon="shield-alert", color_scheme="red",
                      data_testid="access-denied")


def page_frame(title: str, *content: rx.Component) -> rx.Component:
    return rx.hstack(
        sidebar(),
        rx.box(
            rx.heading(title, size="7", margin_bottom="0.75em"),
            rx.cond(SessionState.denied != "", denied_panel(), rx.fragment(*content)),
            padding="1.5em 2em",
            width="100%",
            overflow_x="auto",
        ),
        spacing="0",
        align="start",
        width="100%",
    )


def data_table(headers: list[str], rows: rx.Var, keys: list[str], testid: str) -> rx.Component:
    """A plain table over a list of rows already shaped by the state; `keys` name the fields shown."""
    return rx.table.root(
        rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
        rx.table.body(
            rx.foreach(rows, lambda row: rx.table.row(*[rx.table.cell(row[k]) for k in keys]))
        ),
        size="1",
        variant="surface",
        data_testid=testid,
    )

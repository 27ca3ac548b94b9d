"""Choose a password from an invitation or reset link."""
import reflex as rx

from vrm_dashboard.ui.states.welcome import WelcomeState as S


def welcome_page() -> rx.Component:
    return rx.center(rx.card(rx.cond(
        S.done,
        rx.vstack(rx.heading("Your password is set", size="5"),
                  rx.link("Sign in", href="/login", data_testid="welcome-sign-in"), spacing="3"),
        rx.form(rx.vstack(
            rx.heading("Choose your password", size="5"),
            rx.cond(S.email != "", rx.text("For ", S.email, size="2", data_testid="welcome-email")),
            rx.input(name="password", type="password", placeholder="New password (8 characters or more)",
                     width="100%", data_testid="welcome-password"),
            rx.input(name="again", type="password", placeholder="The same again", width="100%",
                     data_testid="welcome-again"),
            rx.cond(S.error != "", rx.callout(S.error, color_scheme="red", data_testid="welcome-error")),
            rx.button("Set password", type="submit", width="100%", data_testid="welcome-submit"),
            spacing="3", width="100%"), on_submit=S.submit, reset_on_submit=False),
    ), width="400px"), height="100vh", background=rx.color("gray", 2))

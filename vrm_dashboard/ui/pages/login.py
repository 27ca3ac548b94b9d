import reflex as rx

from vrm_dashboard.ui.states.login import LoginState


def login_page() -> rx.Component:
    return rx.center(
        rx.card(
            rx.form(
                rx.vstack(
                    rx.heading("Sign in to VRM Dashboard", size="6"),
                    rx.text("E-mail", size="2"),
                    rx.input(name="email", type="email", placeholder="you@company.com", max_length=254,
                             width="100%", data_testid="login-email"),
                    rx.text("Password", size="2"),
                    rx.input(name="password", type="password", width="100%", max_length=1024,
                             data_testid="login-password"),
                    rx.cond(
                        LoginState.error != "",
                        rx.callout(LoginState.error, icon="triangle-alert", color_scheme="red",
                                   data_testid="login-error"),
                    ),
                    rx.button("Sign in", type="submit", width="100%", data_testid="login-submit"),
                    rx.link("New vendor? Sign up", href="/signup", size="2", data_testid="signup-link"),
                    spacing="3",
                    width="100%",
                ),
                on_submit=LoginState.submit,
                reset_on_submit=False,
            ),
            width="380px",
        ),
        height="100vh",
        background=rx.color("gray", 2),
    )

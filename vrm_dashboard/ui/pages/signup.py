"""Become a vendor: the sign-up form."""
import reflex as rx

from vrm_dashboard.ui.states.signup import SignupState as S


def _input(name: str, placeholder: str, **props) -> rx.Component:  # type: ignore[no-untyped-def]
    return rx.vstack(
        rx.input(name=name, placeholder=placeholder, width="100%", data_testid=f"signup-{name}", **props),
        rx.cond(S.errors.contains(name), rx.text(S.errors[name], size="1", color_scheme="red")),
        spacing="1", width="100%")


def signup_page() -> rx.Component:
    return rx.center(rx.card(rx.cond(
        S.done,
        rx.vstack(rx.heading("Check your mailbox", size="5"),
                  rx.text("We sent a link to choose your password. Then sign in and complete your profile: "
                          "our team reviews it before your first invoice.", size="2", data_testid="signup-done"),
                  rx.link("Sign in", href="/login"), spacing="3"),
        rx.form(rx.vstack(
            rx.heading("Become a vendor", size="5"),
            # The same bounds as the server's (services.vendors.onboarding), so typing stops there.
            _input("company", "Company name", max_length=120),
            _input("contact_name", "Your name", max_length=120),
            _input("email", "Your work e-mail", type="email", max_length=254),
            rx.hstack(_input("country", "Country (DE, US, ...)", max_length=2),
                      _input("currency", "Currency (EUR, USD, ...)", max_length=3), width="100%"),
            rx.cond(S.error != "", rx.callout(S.error, color_scheme="red", data_testid="signup-error")),
            rx.button("Sign up", type="submit", width="100%", data_testid="signup-submit"),
            rx.link("I have an account: sign in", href="/login", size="2"),
            spacing="3", width="100%"), on_submit=S.submit, reset_on_submit=False),
    ), width="420px"), height="100vh", background=rx.color("gray", 2))

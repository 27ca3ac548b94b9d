"""`/`: a spinner while the signed-in user is sent to the first screen their role allows."""
import reflex as rx


def home_page() -> rx.Component:
    return rx.center(rx.spinner(), height="100vh")

"""The managers' overview: live totals of every pipeline, upcoming payouts, AR aging, charts."""
import reflex as rx

from vrm_dashboard.services.receivables.aging import BUCKET_KEYS, BUCKET_LABELS
from vrm_dashboard.ui.components.shell import data_table, page_frame
from vrm_dashboard.ui.states.overview import OverviewState as S


def _card(card: rx.Var) -> rx.Component:
    return rx.card(rx.vstack(
        rx.text(card.label, size="2", weight="bold"),
        rx.text(card.count, size="6", data_testid="overview-count"),
        rx.text(card.amounts, size="1", color_scheme="gray", data_testid="overview-amounts"),
        spacing="1"), width="230px", data_testid="overview-card-" + card.key)


def overview_page() -> rx.Component:
    return page_frame(
        "Overview",
        rx.vstack(
            rx.text("Live: figures update by themselves within seconds of any change. Last computed ",
                    S.updated_at, size="1", color_scheme="gray", data_testid="overview-updated"),
            rx.hstack(rx.foreach(S.cards, _card), wrap="wrap", spacing="3"),
            rx.grid(rx.plotly(data=S.paid_over_time), rx.plotly(data=S.by_method),
                    rx.plotly(data=S.by_status), rx.plotly(data=S.distribution_rate),
                    columns="2", spacing="3", width="100%"),
            rx.heading("Upcoming payouts (14 days)", size="4"),
            data_table(["Pay date", "Currency", "Payouts", "Amount"], S.upcoming_rows,
                       ["date", "currency", "count", "amount"], "overview-upcoming"),
            rx.heading("Invoices by status", size="4"),
            data_table(["Status", "Currency", "Invoices", "Amount"], S.invoice_rows,
                       ["status", "currency", "count", "amount"], "overview-invoices"),
            rx.heading("AR aging", size="4"),
            data_table(["Currency", *[BUCKET_LABELS[k] for k in BUCKET_KEYS], "Total"], S.aging_rows,
                       ["currency", *BUCKET_KEYS, "total"], "overview-aging"),
            spacing="4", width="100%"),
    )

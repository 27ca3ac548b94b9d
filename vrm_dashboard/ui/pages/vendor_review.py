"""Onboarding on the staff screens: the invite dialog and queue (Vendors), the review panel
(a vendor's card)."""
import reflex as rx

from vrm_dashboard.ui.components.shell import data_table
from vrm_dashboard.ui.states.vendor_review import OnboardingQueueState as Q, VendorReviewState as R


def _invite_input(name: str, placeholder: str) -> rx.Component:
    return rx.input(placeholder=placeholder, value=Q.invite_form[name], width="100%",
                    on_change=lambda value: Q.set_invite_field(name, value), data_testid=f"vendor-invite-{name}")


def invite_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(rx.button("Invite vendor", variant="soft", data_testid="invite-vendor")),
        rx.dialog.content(
            rx.dialog.title("Invite a vendor"),
            rx.dialog.description("The vendor gets a link (valid 7 days) to set a password and complete its "
                                  "profile; it stays Onboarding until you approve it.", size="2"),
            rx.vstack(_invite_input("name", "Company name"), _invite_input("contact_name", "Contact name"),
                      _invite_input("email", "Contact e-mail"),
                      rx.hstack(_invite_input("country", "Country (DE)"), _invite_input("currency", "Currency (EUR)"),
                                width="100%"),
                      rx.cond(Q.invite_message != "", rx.callout(rx.text(Q.invite_message, size="2", word_break="break-all",
                                                                          data_testid="vendor-invite-message"))),
                      rx.hstack(rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray")),
                                rx.button("Send invitation", on_click=Q.invite, data_testid="vendor-invite-send"),
                                justify="end", width="100%"),
                      spacing="3", padding_top="0.5em"),
        ),
        open=Q.invite_open, on_open_change=Q.set_invite_open,
    )


def _queue_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(row.name, href="/vendor?id=" + row.id)),
        *[rx.table.cell(getattr(row, k)) for k in ("vendor_code", "country", "source")],
        rx.table.cell(rx.badge(row.review)), rx.table.cell(row.submitted),
        data_testid="onboarding-row")


def onboarding_queue() -> rx.Component:
    return rx.cond(Q.queue.length() > 0, rx.vstack(
        rx.heading("Onboarding", size="4"),
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in (
                "Vendor", "Vendor ID", "Country", "Joined by", "Review", "Submitted")])),
            rx.table.body(rx.foreach(Q.queue, _queue_row)),
            size="1", variant="surface", width="100%", data_testid="onboarding-queue"),
        spacing="2", width="100%"))


def review_panel() -> rx.Component:
    return rx.cond(R.shown, rx.card(rx.vstack(
        rx.hstack(rx.heading("Onboarding review", size="4"), rx.badge(R.state_label, data_testid="card-review-state"),
                  rx.text(R.source, size="2", color_scheme="gray"), align="center"),
        rx.cond(R.note != "", rx.text("Asked of the vendor: ", R.note, size="2")),
        rx.cond(R.missing.length() > 0,
                rx.callout(rx.vstack(rx.text("Missing:", weight="bold", size="2"),
                                     rx.foreach(R.missing, lambda m: rx.text("• ", m.step, ": ", m.what, size="2",
                                                                             data_testid="card-missing-item")),
                                     spacing="1"), color_scheme="amber", icon="list-todo"),
                rx.cond(~R.approved, rx.callout("Nothing is missing.", color_scheme="green", icon="circle-check"))),
        rx.heading("Tax form", size="3"),
        rx.cond(R.tax.length() > 0, data_table(["", ""], R.tax, ["field", "value"], "card-tax"),
                rx.text("None signed yet.", size="2", color_scheme="gray")),
        rx.heading("Documents", size="3"),
        rx.table.root(
            rx.table.body(rx.foreach(R.documents, lambda d: rx.table.row(
                rx.table.cell(d.kind),
                rx.table.cell(rx.link(d.filename, href="/api/v1/vendor-documents/" + d.id, is_external=True,
                                      data_testid="card-document")),
                rx.table.cell(d.uploaded)))),
            size="1", variant="surface", width="100%"),
        rx.cond(~R.approved, rx.hstack(
            rx.button("Approve vendor", on_click=R.approve, color_scheme="green", data_testid="approve-vendor"),
            rx.input(placeholder="What should the vendor change?", value=R.change_note, on_change=R.set_change_note,
                     width="340px", data_testid="review-change-note"),
            rx.button("Request changes", variant="soft", on_click=R.request_changes, data_testid="request-changes"),
            align="center", wrap="wrap")),
        rx.cond(R.message != "", rx.text(R.message, size="2", data_testid="review-message")),
        spacing="3", width="100%"), width="100%"))

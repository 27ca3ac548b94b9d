"""The vendor's own portal."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

import reflex as rx

from vrm_dashboard.domain.invoice_status import VENDOR_PAYMENT_LABELS, vendor_payment_status
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.domain.vendor_rules import ActivityStatus
from vrm_dashboard.services.distribution import delivered_documents, disputes
from vrm_dashboard.services.intake import invoice_files as invoice_intake
from vrm_dashboard.services.platform.actors import Actor
from vrm_dashboard.services.platform.errors import FieldErrors, ServiceError
from vrm_dashboard.services.vendors import (
    onboarding as vendor_onboarding,
    own_invoices as vendor_invoices,
    portal,
    widget as vendor_widget,
)
from vrm_dashboard.ui import formatting as fmt
from vrm_dashboard.ui.states.session import SessionState, page_load
from vrm_dashboard.ui.uploads import file_name, read_within, upload_refusal, upload_size

log = logging.getLogger(__name__)

PAGE_SIZE = 20


@dataclass
class PortalVendor:
    """The signed-in vendor, as the portal's facts show it."""

    name: str = ""
    vendor_code: str = ""
    email: str = ""
    payment_method: str = ""
    status: str = ""


@dataclass
class PortalInvoice:
    """One of the vendor's own invoices, with its payment status."""

    id: str = ""
    number: str = ""
    your_number: str = ""
    issue_date: str = ""
    due_date: str = ""
    amount: str = ""
    status: str = ""


@dataclass
class PortalMessage:
    """A notification sent to the vendor."""

    at: str = ""
    subject: str = ""
    body: str = ""


@dataclass
class PortalPayment:
    """A payment made to the vendor, with its remittance advice."""

    id: str = ""
    reference: str = ""
    paid_at: str = ""
    amount: str = ""
    invoices: str = ""


@dataclass
class SentDocument:
    """An invoice or credit note e-mailed to the vendor."""

    invoice_id: str = ""
    number: str = ""
    type: str = ""
    amount: str = ""
    status: str = ""
    sent: str = ""
    viewed: str = ""
    disputed: bool = False


@dataclass
class PortalWidgetLink:
    """A widget link the vendor made, with whether it still works."""

    id: str = ""
    made: str = ""
    made_by: str = ""
    expires: str = ""
    state: str = ""
    active: bool = False


class PortalState(SessionState):
    vendor: PortalVendor = PortalVendor()
    invoices: list[PortalInvoice] = []
    notifications: list[PortalMessage] = []
    payments: list[PortalPayment] = []
    sent_documents: list[SentDocument] = []
    error: str = ""
    upload_results: list[str] = []
    dispute_open: bool = False
    dispute_invoice: str = ""
    dispute_number: str = ""
    dispute_reason: str = ""
    dispute_message: str = ""
    widget_iframe: str = ""
    widget_links: list[PortalWidgetLink] = []
    widget_message: str = ""
    onboarding: bool = False
    # My invoices: newest first, one page at a time, filtered on the server.
    invoice_filters: dict[str, str] = {"number": "", "issued_from": "", "issued_to": "", "payment_status": "all"}
    page: int = 1
    page_count: int = 1
    invoice_total: int = 0
    invoice_message: str = ""

    @rx.event
    async def upload_invoices(self, files: list[rx.UploadFile]):  # type: ignore[no-untyped-def]
        """A vendor sends its own invoices; the service makes them the vendor's whatever is asked."""
        refused = upload_refusal(self, Action.PORTAL_USE, also=vendor_onboarding.require_approved)
        if refused:
            self.upload_results = [f"{file_name(upload, 'invoice.pdf')}: {refused}" for upload in files]
            return PortalState.load
        results = []
        for upload in files:
            name = file_name(upload, "invoice.pdf")
            content = await read_within(upload, invoice_intake.MAX_FILE_BYTES)

            def receive(content: bytes | None = content, name: str = name,
                        size: int | None = upload_size(upload)) -> str:
                # Read before the unit of work that enters it begins, so that none is open (and
                # on SQLite no write lock held) while a document keeps its reader busy.
                received = (invoice_intake.read_invoice(content, name) if content is not None
                            else invoice_intake.too_large(name, size))
                with self._acting(Action.PORTAL_USE) as (session, actor):
                    return invoice_intake.take_invoice(session, actor, received, channel="portal").message

            try:
                # Reading a document can take seconds (a worker with a deadline): off the event loop.
                results.append(f"{name}: {await asyncio.to_thread(receive)}")
            except ServiceError as exc:
                results.append(f"{name}: {exc}")
            except Exception:  # noqa: BLE001 - one broken file must not stop the others
                log.exception("portal upload %s failed", name)
                results.append(f"{name}: the file could not be read")
        self.upload_results = results
        return PortalState.load

    @rx.event
    @page_load
    def load(self, actor: Actor) -> Any:
        try:
            with self._acting(read_only=True) as (session, actor):
                card = portal.own_vendor_card(session, actor)
                notes = portal.own_notifications(session, actor)
                paid = portal.own_payments(session, actor)
                sent = delivered_documents.own_documents(session, actor)
        except ServiceError as exc:
            self.error = str(exc)
            return None
        self.notifications = [PortalMessage(at=fmt.day(n.created_at), subject=n.subject, body=n.body) for n in notes]
        v = card.vendor
        self.vendor = PortalVendor(name=v.name, vendor_code=v.vendor_code, email=v.email,
                                   payment_method=fmt.method_label(v.payment_method),
                                   status=fmt.activity_label(v.activity_status))
        self.onboarding = v.activity_status == ActivityStatus.ONBOARDING.value
        self._load_widget_links()
        self._load_invoices()
        self.payments = [
            PortalPayment(id=str(t.id), reference=t.reference or "", paid_at=fmt.day(t.paid_at),
                          amount=fmt.money(t.target_amount_minor, t.target_currency), invoices=str(t.payout_count))
            for t in paid
        ]
        self.sent_documents = [
            SentDocument(invoice_id=str(d.invoice_id), number=d.number,
                         type="Credit note" if d.document_type == "credit_note" else "Invoice",
                         amount=fmt.money(d.total_minor, d.currency), status=fmt.status_label(d.status),
                         sent=d.sent_at, viewed="yes" if d.viewed else "no", disputed=bool(d.disputed))
            for d in sent
        ]
        return None

    def _load_invoices(self) -> None:
        f = self.invoice_filters
        try:
            query = vendor_invoices.VendorInvoiceQuery(
                number=f["number"], issued_from=date.fromisoformat(f["issued_from"]) if f["issued_from"] else None,
                issued_to=date.fromisoformat(f["issued_to"]) if f["issued_to"] else None,
                payment_status="" if f["payment_status"] == "all" else f["payment_status"], page=self.page,
                page_size=PAGE_SIZE)
        except ValueError:
            self.invoice_message = "Dates as YYYY-MM-DD"
            return
        found, refused = self._outcome_of(lambda s, a: vendor_invoices.own_invoices(s, a, query), read_only=True)
        if found is None:
            self.invoice_message = refused
            return
        self.invoice_message = ""
        self.page, self.invoice_total = found.page, found.total
        self.page_count = max(1, -(-found.total // found.page_size))
        self.invoices = [
            PortalInvoice(id=str(i.id), number=i.number, your_number=i.vendor_invoice_number or "",
                          issue_date=fmt.day(i.issue_date), due_date=fmt.day(i.due_date),
                          amount=fmt.money(i.total_minor, i.currency),
                          status=VENDOR_PAYMENT_LABELS[vendor_payment_status(i.status)])
            for i in found.rows
        ]

    @rx.event
    def set_invoice_filter(self, name: str, value: str) -> None:
        if name in self.invoice_filters:
            self.invoice_filters[name] = value
            self.page = 1
            self._load_invoices()

    @rx.event
    def clear_invoice_filters(self) -> None:
        self.invoice_filters = {"number": "", "issued_from": "", "issued_to": "", "payment_status": "all"}
        self.page = 1
        self._load_invoices()

    @rx.event
    def go_to_page(self, page: int) -> None:
        self.page = max(1, int(page))
        self._load_invoices()

    @rx.event
    def make_widget(self) -> None:
        """A link (30 days) for a partner site to show this vendor's balance and payouts."""
        made, refused = self._outcome_of(
            lambda session, actor: vendor_widget.make_link(session, actor, actor.vendor_id, hours=24 * 30).iframe,
            Action.VENDOR_WIDGET)
        self.widget_iframe, self.widget_message = made or "", refused
        self._load_widget_links()

    @rx.event
    def revoke_widget(self, link_id: str) -> None:
        """Stop one link: the partner's frame says it was revoked from the next view on."""
        if not (str(link_id).isascii() and str(link_id).isdigit() and len(str(link_id)) <= 18):
            self.widget_message = "No such widget link"
            return
        revoked, refused = self._outcome_of(
            lambda session, actor: vendor_widget.revoke_link(session, actor, actor.vendor_id, int(link_id)),
            Action.VENDOR_WIDGET)
        self.widget_message = refused or f"The link made {fmt.day(revoked.created_at)} no longer works."
        self.widget_iframe = ""
        self._load_widget_links()

    def _load_widget_links(self) -> None:
        if self.onboarding:  # no links before approval
            self.widget_links = []
            return
        found, _refused = self._outcome_of(
            lambda session, actor: vendor_widget.list_links(session, actor, actor.vendor_id), read_only=True)
        self.widget_links = [
            PortalWidgetLink(id=str(link.id), made=fmt.day(link.created_at), made_by=link.created_by,
                             expires=fmt.day(link.expires_at), state=link.state.capitalize(),
                             active=link.state in ("active", "suspended"))
            for link in found or []]

    @rx.event
    def open_dispute(self, invoice_id: str, number: str) -> None:
        self.dispute_invoice, self.dispute_number = invoice_id, number
        self.dispute_reason, self.dispute_message, self.dispute_open = "", "", True

    @rx.event
    def set_dispute_open(self, value: bool) -> None:
        self.dispute_open = value

    @rx.event
    def set_dispute_reason(self, value: str) -> None:
        self.dispute_reason = value

    @rx.event
    def submit_dispute(self):  # type: ignore[no-untyped-def]
        try:
            with self._acting(Action.PORTAL_USE) as (session, actor):
                disputes.dispute_from_portal(session, actor, int(self.dispute_invoice), self.dispute_reason)
        except FieldErrors as exc:
            self.dispute_message = "; ".join(exc.errors.values())
            return None
        except ServiceError as exc:
            self.dispute_message = str(exc)
            return None
        self.dispute_open = False
        self.upload_results = [f"Thank you: your report on {self.dispute_number} went to our finance team."]
        return PortalState.load

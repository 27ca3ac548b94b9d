"""The Vendor Management dashboard: one page of vendors, totals from SQL, add and edit."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

import reflex as rx

from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.domain.vendor_rules import VendorInput
from vrm_dashboard.services.platform.actors import Actor
from vrm_dashboard.services.platform.errors import FieldErrors, ServiceError
from vrm_dashboard.services.vendors import records as vendor_service
from vrm_dashboard.ui import formatting as fmt
from vrm_dashboard.ui.states.session import SessionState, page_load

FORM_FIELDS = [f.name for f in fields(VendorInput)]


def _blank_form() -> dict[str, str]:
    return {k: str(v) for k, v in asdict(VendorInput()).items()}


@dataclass
class VendorRow:
    """One vendor on the Vendor Management list."""

    id: str = ""
    vendor_code: str = ""
    name: str = ""
    country: str = ""
    currency: str = ""
    payment_method: str = ""
    payment_source: str = ""
    activity_status: str = ""


@dataclass
class MethodTotal:
    """The vendors paid by one payment method in one currency: how many, invoiced, paid and open."""

    payment_method: str = ""
    currency: str = ""
    vendors: str = ""
    invoices: str = ""
    invoiced: str = ""
    paid: str = ""
    open: str = ""


@dataclass
class UpcomingPayout:
    """A payout due in the next days, with its vendor."""

    vendor_id: str = ""
    vendor: str = ""
    pay_date: str = ""
    amount: str = ""
    status: str = ""


class VendorsState(SessionState):
    search: str = ""
    activity_status: str = ""
    payment_method: str = ""
    payment_source: str = ""
    sort: str = "name"
    descending: bool = False
    page: int = 1
    page_size: int = 25
    rows: list[VendorRow] = []
    totals: list[MethodTotal] = []
    upcoming: list[UpcomingPayout] = []
    total_rows: int = 0
    page_count: int = 1
    can_create: bool = False
    can_edit: bool = False
    message: str = ""

    confirm_id: str = ""
    confirm_name: str = ""

    form_open: bool = False
    editing_id: int = 0
    form: dict[str, str] = _blank_form()
    form_errors: dict[str, str] = {}

    @rx.event
    @page_load
    def load(self, actor: Actor) -> Any:
        self.can_create = actor.can(Action.VENDOR_CREATE)
        self.can_edit = actor.can(Action.VENDOR_UPDATE)
        return self._refresh()

    def _refresh(self):  # type: ignore[no-untyped-def]
        query = vendor_service.VendorQuery(
            search=self.search, activity_status=self.activity_status,
            payment_method=self.payment_method, payment_source=self.payment_source,
            sort=self.sort, descending=self.descending, page=self.page, page_size=self.page_size,
        )
        try:
            with self._acting(read_only=True) as (session, actor):
                result = vendor_service.list_vendors(session, actor, query)
        except ServiceError as exc:
            self.message = str(exc)
            return None
        self.page, self.page_count, self.total_rows = result.page, result.page_count, result.total_rows
        self.rows = [
            VendorRow(
                id=str(r.id), vendor_code=r.vendor_code, name=r.name,
                country=r.country, currency=r.currency,
                payment_method=fmt.method_label(r.payment_method),
                payment_source=r.payment_source,
                activity_status=fmt.activity_label(r.activity_status),
            )
            for r in result.rows
        ]
        self.totals = [
            MethodTotal(
                payment_method=fmt.method_label(t.payment_method), currency=t.currency,
                vendors=str(t.vendor_count), invoices=f"{t.invoice_count:,}",
                invoiced=fmt.money(t.invoiced_minor, t.currency),
                paid=fmt.money(t.paid_minor, t.currency),
                open=fmt.money(t.open_minor, t.currency),
            )
            for t in result.totals
        ]
        self.upcoming = [
            UpcomingPayout(
                vendor_id=str(u.vendor_id), vendor=f"{u.vendor_name} ({u.vendor_code})",
                pay_date=fmt.day(u.pay_date), amount=fmt.money(u.amount_minor, u.currency),
                status=fmt.status_label(u.status),
            )
            for u in result.upcoming
        ]
        return None

    @rx.event
    def set_search(self, value: str):  # type: ignore[no-untyped-def]
        self.search, self.page = value, 1
        return self._refresh()

    @rx.event
    def set_filter(self, name: str, value: str):  # type: ignore[no-untyped-def]
        if name not in ("activity_status", "payment_method", "payment_source"):
            return None
        setattr(self, name, "" if value == "all" else value)
        self.page = 1
        return self._refresh()

    @rx.event
    def sort_by(self, column: str):  # type: ignore[no-untyped-def]
        if column not in vendor_service.SORTABLE:
            return None
        self.descending = not self.descending if self.sort == column else False
        self.sort = column
        return self._refresh()

    @rx.event
    def go_to_page(self, page: int):  # type: ignore[no-untyped-def]
        self.page = max(1, int(page))
        return self._refresh()

    @rx.event
    def open_new(self) -> None:
        self.editing_id, self.form, self.form_errors, self.form_open = 0, _blank_form(), {}, True

    @rx.event
    def open_edit(self, vendor_id: str):  # type: ignore[no-untyped-def]
        try:
            with self._acting(Action.VENDOR_UPDATE, read_only=True) as (session, _actor):
                vendor = vendor_service.get_vendor(session, int(vendor_id))
                data = vendor_service.vendor_input_of(vendor)
        except (ServiceError, ValueError) as exc:
            self.message = str(exc)
            return None
        self.editing_id = int(vendor_id)
        self.form = {k: str(v) for k, v in asdict(data).items()}
        self.form_errors, self.form_open = {}, True
        return None

    @rx.event
    def close_form(self) -> None:
        self.form_open = False

    @rx.event
    def set_field(self, name: str, value: str) -> None:
        if name in FORM_FIELDS:
            self.form[name] = value

    @rx.event
    def save_vendor(self, form: dict | None = None):  # type: ignore[no-untyped-def]
        """Add or edit a vendor. The service checks permission and every field."""
        values = {**self.form, **{k: str(v) for k, v in (form or {}).items() if k in FORM_FIELDS}}
        data = VendorInput(**{k: values.get(k, "") for k in FORM_FIELDS})
        try:
            with self._acting() as (session, actor):
                if self.editing_id:
                    vendor = vendor_service.update_vendor(session, actor, self.editing_id, data)
                else:
                    vendor = vendor_service.create_vendor(session, actor, data)
                saved = f"Saved vendor {vendor.name} ({vendor.vendor_code})."
        except FieldErrors as exc:
            self.form = values
            self.form_errors = exc.errors
            return None
        except ServiceError as exc:
            self.form_errors = {"form": str(exc)}
            return None
        self.form_open, self.form_errors, self.message = False, {}, saved
        return self._refresh()

    @rx.event
    def ask_deactivate(self, vendor_id: str, name: str) -> None:
        self.confirm_id, self.confirm_name = vendor_id, name

    @rx.event
    def cancel_deactivate(self) -> None:
        self.confirm_id = ""

    @rx.event
    def deactivate(self, vendor_id: str):  # type: ignore[no-untyped-def]
        self.confirm_id = ""
        try:
            with self._acting() as (session, actor):
                vendor = vendor_service.deactivate_vendor(session, actor, int(vendor_id))
                self.message = f"Deactivated {vendor.name}."
        except (ServiceError, ValueError) as exc:
            self.message = str(exc)
            return None
        return self._refresh()

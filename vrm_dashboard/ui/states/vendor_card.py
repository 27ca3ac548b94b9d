"""One vendor: details, contacts, masked payment details, invoices, payouts, history."""
from __future__ import annotations

import reflex as rx

from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services import audit
from vrm_dashboard.services import vendors as vendor_service
from vrm_dashboard.services.errors import ServiceError
from vrm_dashboard.ui import formatting as fmt
from vrm_dashboard.ui.states.session import SessionState


class VendorCardState(SessionState):
    vendor: dict[str, str] = {}
    payment_details: list[dict[str, str]] = []
    contacts: list[dict[str, str]] = []
    balances: list[dict[str, str]] = []
    invoices: list[dict[str, str]] = []
    payouts: list[dict[str, str]] = []
    history: list[dict[str, str]] = []
    error: str = ""

    @rx.event
    def load(self):  # type: ignore[no-untyped-def]
        actor = self._enter_page(Action.VENDOR_VIEW)
        if actor is None:
            return None if self.denied else rx.redirect("/login")
        try:
            vendor_id = int(self.router.page.params.get("id", "0"))
            with self._acting(read_only=True) as (session, actor):
                card = vendor_service.vendor_card(session, actor, vendor_id)
        except (ServiceError, ValueError) as exc:
            self.error = str(exc)
            self.vendor = {}
            return None
        v = card.vendor
        self.error = ""
        self.vendor = {
            "id": str(v.id), "vendor_code": v.vendor_code, "name": v.name, "legal_name": v.legal_name,
            "email": v.email, "country": v.country, "currency": v.currency,
            "payment_method": fmt.method_label(v.payment_method), "payment_source": v.payment_source,
            "activity_status": fmt.activity_label(v.activity_status),
            "tax_id": v.tax_id or "", "vat_id": v.vat_id or "",
        }
        self.payment_details = [{"field": k.replace("_", " ").upper() if len(k) <= 4 else k.replace("_", " ").capitalize(), "value": val}
                                for k, val in card.payment_details.items()]
        self.contacts = [{"name": c.name, "email": c.email, "role": c.role} for c in card.contacts]
        self.balances = [
            {"currency": b.currency, "invoices": str(b.invoice_count),
             "invoiced": fmt.money(b.invoiced_minor, b.currency), "paid": fmt.money(b.paid_minor, b.currency),
             "open": fmt.money(b.open_minor, b.currency)}
            for b in card.balances
        ]
        self.invoices = [
            {"number": i.number, "issue_date": fmt.day(i.issue_date), "due_date": fmt.day(i.due_date),
             "amount": fmt.money(i.total_minor, i.currency), "status": fmt.status_label(i.status)}
            for i in card.invoices
        ]
        self.payouts = [
            {"pay_date": fmt.day(p.pay_date), "amount": fmt.money(p.amount_minor, p.currency),
             "rail": fmt.method_label(p.rail), "status": fmt.status_label(p.status)}
            for p in card.payouts
        ]
        self.history = [
            {"at": fmt.day(h.at), "who": h.actor_label, "action": h.action,
             "changes": "; ".join(f"{k}: {b!r} → {a!r}" for k, (b, a) in audit.changed_fields(h).items()
                                  if k not in ("updated_at", "created_at"))[:300]}
            for h in card.history
        ]
        return None

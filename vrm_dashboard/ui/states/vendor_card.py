"""One vendor: details, contacts, masked payment details, invoices, payouts, history."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import reflex as rx

from vrm_dashboard.domain.money import to_major_string
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.platform import audit
from vrm_dashboard.services.platform.actors import Actor
from vrm_dashboard.services.platform.errors import FieldErrors, ServiceError
from vrm_dashboard.services.vendors import rate_rules, records as vendor_service
from vrm_dashboard.ui import formatting as fmt
from vrm_dashboard.ui.states.rows import FieldValue, HistoryEntry
from vrm_dashboard.ui.states.session import SessionState, page_load


@dataclass
class VendorDetails:
    """The vendor a card is about, as its facts show it."""

    id: str = ""
    vendor_code: str = ""
    name: str = ""
    legal_name: str = ""
    email: str = ""
    country: str = ""
    currency: str = ""
    payment_method: str = ""
    payment_source: str = ""
    activity_status: str = ""
    tax_id: str = ""
    vat_id: str = ""


@dataclass
class ContactRow:
    """A person to talk to at the vendor."""

    name: str = ""
    email: str = ""
    role: str = ""


@dataclass
class BalanceRow:
    """What the vendor invoiced, was paid and is still owed, in one currency."""

    currency: str = ""
    invoices: str = ""
    invoiced: str = ""
    paid: str = ""
    open: str = ""


@dataclass
class CardInvoice:
    """One of the vendor's recent invoices."""

    number: str = ""
    issue_date: str = ""
    due_date: str = ""
    amount: str = ""
    status: str = ""


@dataclass
class CardPayout:
    """One of the vendor's payouts."""

    pay_date: str = ""
    amount: str = ""
    rail: str = ""
    status: str = ""


@dataclass
class RateRuleRow:
    """What one activity type earns the vendor: a rate per unit and/or a share of revenue."""

    activity_type: str = ""
    per_unit_rate: str = ""
    revenue_share_percent: str = ""


class VendorCardState(SessionState):
    vendor: VendorDetails = VendorDetails()
    payment_details: list[FieldValue] = []
    contacts: list[ContactRow] = []
    balances: list[BalanceRow] = []
    invoices: list[CardInvoice] = []
    payouts: list[CardPayout] = []
    history: list[HistoryEntry] = []
    error: str = ""
    can_edit_rates: bool = False
    rate_card: dict[str, str] = {"currency": "", "flat_fee": "0", "minimum_payout": "0"}
    rate_rules: list[RateRuleRow] = []
    new_rule: dict[str, str] = {"activity_type": "", "per_unit_rate": "", "revenue_share_percent": ""}
    rates_message: str = ""

    def _load_rates(self, vendor_id: int) -> None:
        with self._acting(read_only=True) as (session, actor):
            card, rules = rate_rules.rates_of(session, actor, vendor_id)
        self.rate_card = {
            "currency": card.currency if card else self.vendor.currency,
            "flat_fee": to_major_string(card.flat_fee_minor, card.currency) if card else "0",
            "minimum_payout": to_major_string(card.minimum_payout_minor, card.currency) if card else "0",
        }
        self.rate_rules = [
            RateRuleRow(
                activity_type=r.activity_type,
                per_unit_rate="" if r.per_unit_rate is None else f"{r.per_unit_rate.normalize():f}",
                revenue_share_percent=("" if r.revenue_share_percent is None
                                       else f"{r.revenue_share_percent.normalize():f}"))
            for r in rules
        ]

    @rx.event
    def set_rate_card_field(self, name: str, value: str) -> None:
        if name in self.rate_card:
            self.rate_card[name] = value

    @rx.event
    def set_new_rule_field(self, name: str, value: str) -> None:
        if name in self.new_rule:
            self.new_rule[name] = value

    def _save(self, work, done: str) -> None:  # type: ignore[no-untyped-def]
        vendor_id = int(self.vendor.id or 0)
        try:
            with self._acting(Action.VENDOR_UPDATE) as (session, actor):
                work(session, actor, vendor_id)
        except FieldErrors as exc:
            self.rates_message = "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in exc.errors.items())
            return
        except ServiceError as exc:
            self.rates_message = str(exc)
            return
        self.rates_message = done
        self._load_rates(vendor_id)

    @rx.event
    def save_rate_card(self) -> None:
        c = self.rate_card
        self._save(lambda s, a, v: rate_rules.set_rate_card(s, a, v, c["currency"], c["flat_fee"], c["minimum_payout"]),
                   "Rate card saved.")

    @rx.event
    def save_rule(self) -> None:
        r = self.new_rule
        self._save(lambda s, a, v: rate_rules.set_rate_rule(s, a, v, r["activity_type"], r["per_unit_rate"] or None,
                                                            r["revenue_share_percent"] or None), "Rate rule saved.")
        if self.rates_message == "Rate rule saved.":
            self.new_rule = {"activity_type": "", "per_unit_rate": "", "revenue_share_percent": ""}

    @rx.event
    @page_load
    def load(self, actor: Actor) -> Any:
        try:
            vendor_id = int(self.router.page.params.get("id", "0"))
            with self._acting(read_only=True) as (session, actor):
                card = vendor_service.vendor_card(session, actor, vendor_id)
        except (ServiceError, ValueError) as exc:
            self.error = str(exc)
            self.vendor = VendorDetails()
            return None
        v = card.vendor
        self.error = ""
        self.vendor = VendorDetails(
            id=str(v.id), vendor_code=v.vendor_code, name=v.name, legal_name=v.legal_name,
            email=v.email, country=v.country, currency=v.currency,
            payment_method=fmt.method_label(v.payment_method), payment_source=v.payment_source,
            activity_status=fmt.activity_label(v.activity_status),
            tax_id=v.tax_id or "", vat_id=v.vat_id or "",
        )
        self.payment_details = [
            FieldValue(field=k.replace("_", " ").upper() if len(k) <= 4 else k.replace("_", " ").capitalize(),
                       value=val)
            for k, val in card.payment_details.items()
        ]
        self.contacts = [ContactRow(name=c.name, email=c.email, role=c.role) for c in card.contacts]
        self.balances = [
            BalanceRow(currency=b.currency, invoices=str(b.invoice_count),
                       invoiced=fmt.money(b.invoiced_minor, b.currency), paid=fmt.money(b.paid_minor, b.currency),
                       open=fmt.money(b.open_minor, b.currency))
            for b in card.balances
        ]
        self.invoices = [
            CardInvoice(number=i.number, issue_date=fmt.day(i.issue_date), due_date=fmt.day(i.due_date),
                        amount=fmt.money(i.total_minor, i.currency), status=fmt.status_label(i.status))
            for i in card.invoices
        ]
        self.payouts = [
            CardPayout(pay_date=fmt.day(p.pay_date), amount=fmt.money(p.amount_minor, p.currency),
                       rail=fmt.method_label(p.rail), status=fmt.status_label(p.status))
            for p in card.payouts
        ]
        self.history = [
            HistoryEntry(at=fmt.day(h.at), who=h.actor_label, action=h.action,
                         changes="; ".join(f"{k}: {b!r} → {a!r}" for k, (b, a) in audit.changed_fields(h).items()
                                           if k not in ("updated_at", "created_at"))[:300])
            for h in card.history
        ]
        self.can_edit_rates = actor.can(Action.VENDOR_UPDATE)
        self.rates_message = ""
        self._load_rates(v.id)
        return None

"""The screens of the product and the permission each needs to be seen."""
from __future__ import annotations

from dataclasses import dataclass

from vrm_dashboard.domain.permissions import Action


@dataclass(frozen=True)
class Screen:
    label: str
    route: str
    action: Action
    icon: str


SCREENS = (
    Screen("Vendors", "/vendors", Action.VENDOR_VIEW, "users"),
    Screen("Overview", "/overview", Action.PAYOUT_VIEW, "layout-dashboard"),
    Screen("Pending Invoices", "/invoices", Action.INVOICE_VIEW, "file-text"),
    Screen("Intake", "/intake", Action.INTAKE_IMPORT, "inbox"),
    Screen("Smart Payouts", "/payouts", Action.PAYOUT_VIEW, "banknote"),
    Screen("Distribution", "/distribution", Action.DISTRIBUTION_VIEW, "send"),
    Screen("Customer Invoices", "/receivables", Action.INVOICE_VIEW, "receipt"),
    Screen("Payment Terms", "/terms", Action.TERMS_VIEW, "calendar-clock"),
    Screen("Audit Log", "/audit", Action.AUDIT_VIEW, "scroll-text"),
    Screen("Settings", "/settings", Action.SETTINGS_VIEW, "settings"),
    Screen("My Portal", "/portal", Action.PORTAL_USE, "store"),
    Screen("My Profile", "/profile", Action.PORTAL_USE, "id-card"),
)


def screens_for(actions: frozenset[str]) -> list[Screen]:
    return [s for s in SCREENS if s.action.value in actions]


def home_route(actions: frozenset[str]) -> str:
    allowed = screens_for(actions)
    return allowed[0].route if allowed else "/login"

"""Every screen of the product, one row each: its route, title, page, what loads it, the
permission it needs and its place in the navigation. The app adds its pages from this table,
the navigation lists its rows, and the page-load guard checks the permission it names."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import reflex as rx
from reflex.event import EventHandler

from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.ui import screen_access
from vrm_dashboard.ui.pages.audit_log import audit_log_page
from vrm_dashboard.ui.pages.distribution import distribution_page
from vrm_dashboard.ui.pages.home import home_page
from vrm_dashboard.ui.pages.intake import intake_page
from vrm_dashboard.ui.pages.invoice_detail import invoice_detail_page
from vrm_dashboard.ui.pages.invoices import invoices_page
from vrm_dashboard.ui.pages.login import login_page
from vrm_dashboard.ui.pages.overview import overview_page
from vrm_dashboard.ui.pages.payouts import payouts_page
from vrm_dashboard.ui.pages.portal import portal_page
from vrm_dashboard.ui.pages.receivables import receivables_page
from vrm_dashboard.ui.pages.settings import settings_page
from vrm_dashboard.ui.pages.signup import signup_page
from vrm_dashboard.ui.pages.terms import terms_page
from vrm_dashboard.ui.pages.vendor_card import vendor_card_page
from vrm_dashboard.ui.pages.vendor_profile import vendor_profile_page
from vrm_dashboard.ui.pages.vendors import vendors_page
from vrm_dashboard.ui.pages.welcome import welcome_page
from vrm_dashboard.ui.states.audit_log import AuditLogState
from vrm_dashboard.ui.states.branding import BrandingState
from vrm_dashboard.ui.states.controls import ControlsState
from vrm_dashboard.ui.states.directory import PortalState
from vrm_dashboard.ui.states.distribution import DistributionState
from vrm_dashboard.ui.states.intake import IntakeState
from vrm_dashboard.ui.states.invoice_detail import InvoiceDetailState
from vrm_dashboard.ui.states.invoices import InvoicesState
from vrm_dashboard.ui.states.mail_servers import MailServersState
from vrm_dashboard.ui.states.overview import OverviewState
from vrm_dashboard.ui.states.payouts import PayoutsState
from vrm_dashboard.ui.states.receivables import ReceivablesState
from vrm_dashboard.ui.states.reconciliation import ReconciliationState
from vrm_dashboard.ui.states.session import SessionState
from vrm_dashboard.ui.states.settings import SettingsState
from vrm_dashboard.ui.states.terms import TermsState
from vrm_dashboard.ui.states.vendor_card import VendorCardState
from vrm_dashboard.ui.states.vendor_profile import VendorProfileState
from vrm_dashboard.ui.states.vendor_review import OnboardingQueueState, VendorReviewState
from vrm_dashboard.ui.states.vendors import VendorsState
from vrm_dashboard.ui.states.welcome import WelcomeState

APP_NAME = "VRM Dashboard"


@dataclass(frozen=True)
class Route:
    path: str
    title: str
    page: Callable[[], rx.Component]
    on_load: tuple[EventHandler, ...] = ()
    # None: open to anyone (sign-in, sign-up, choosing a password).
    permission: Action | None = None
    # The label in the navigation; None for screens reached from another (a vendor's card).
    nav: str | None = None

    @property
    def page_title(self) -> str:
        return self.title if self.title == APP_NAME else f"{self.title} · {APP_NAME}"


# In navigation order: a user lands on the first screen their role allows.
ROUTES: tuple[Route, ...] = (
    Route("/vendors", "Vendors", vendors_page, (VendorsState.load, OnboardingQueueState.load),
          Action.VENDOR_VIEW, nav="Vendors"),
    Route("/overview", "Overview", overview_page, (OverviewState.load,), Action.PAYOUT_VIEW, nav="Overview"),
    Route("/invoices", "Pending Invoices", invoices_page, (InvoicesState.load,), Action.INVOICE_VIEW,
          nav="Pending Invoices"),
    Route("/intake", "Intake", intake_page, (IntakeState.load,), Action.INTAKE_IMPORT, nav="Intake"),
    Route("/payouts", "Smart Payouts", payouts_page, (PayoutsState.load, ReconciliationState.load),
          Action.PAYOUT_VIEW, nav="Smart Payouts"),
    Route("/distribution", "Distribution", distribution_page, (DistributionState.load,), Action.DISTRIBUTION_VIEW,
          nav="Distribution"),
    Route("/receivables", "Customer Invoices", receivables_page, (ReceivablesState.load,), Action.INVOICE_VIEW,
          nav="Customer Invoices"),
    Route("/terms", "Payment Terms", terms_page, (TermsState.load,), Action.TERMS_VIEW, nav="Payment Terms"),
    Route("/audit", "Audit Log", audit_log_page, (AuditLogState.load,), Action.AUDIT_VIEW, nav="Audit Log"),
    Route("/settings", "Settings", settings_page,
          (SettingsState.load, BrandingState.load, ControlsState.load, MailServersState.load),
          Action.SETTINGS_VIEW, nav="Settings"),
    Route("/portal", "My Portal", portal_page, (PortalState.load,), Action.PORTAL_USE, nav="My Portal"),
    Route("/profile", "My Profile", vendor_profile_page, (VendorProfileState.load,), Action.PORTAL_USE,
          nav="My Profile"),
    Route("/vendor", "Vendor", vendor_card_page, (VendorCardState.load, VendorReviewState.load), Action.VENDOR_VIEW),
    Route("/invoice", "Invoice", invoice_detail_page, (InvoiceDetailState.load,), Action.INVOICE_VIEW),
    Route("/", APP_NAME, home_page, (SessionState.go_home,)),
    Route("/login", "Sign in", login_page),
    Route("/welcome", "Choose your password", welcome_page, (WelcomeState.load,)),
    Route("/signup", "Become a vendor", signup_page),
)


def add_pages(app: rx.App) -> None:
    for route in ROUTES:
        app.add_page(route.page, route=route.path, title=route.page_title, on_load=list(route.on_load) or None)


screen_access.install(
    screens=[screen_access.Screen(r.nav, r.path, r.permission) for r in ROUTES if r.nav and r.permission],
    required={handler.fn: r.permission for r in ROUTES if r.permission for handler in r.on_load},
)

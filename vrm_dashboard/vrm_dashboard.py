"""The Reflex app: pages are routes, states are thin callers of the services."""
import reflex as rx

from vrm_dashboard.api.app import build_api
from vrm_dashboard.config import settings
from vrm_dashboard.ui.pages import screens
from vrm_dashboard.ui.pages.intake import intake_page
from vrm_dashboard.ui.pages.invoices import invoice_detail_page, invoices_page
from vrm_dashboard.ui.pages.login import login_page
from vrm_dashboard.ui.pages.distribution import distribution_page
from vrm_dashboard.ui.pages.audit_log import audit_log_page
from vrm_dashboard.ui.pages.welcome import welcome_page
from vrm_dashboard.ui.pages.signup import signup_page
from vrm_dashboard.ui.pages.vendor_profile import vendor_profile_page
from vrm_dashboard.ui.pages.overview import overview_page
from vrm_dashboard.ui.pages.payouts import payouts_page
from vrm_dashboard.ui.pages.receivables import receivables_page
from vrm_dashboard.ui.pages.terms import terms_page
from vrm_dashboard.ui.pages.vendors import vendors_page
from vrm_dashboard.ui.states.branding import BrandingState
from vrm_dashboard.ui.states.directory import PortalState
from vrm_dashboard.ui.states.terms import TermsState
from vrm_dashboard.ui.states.overview import OverviewState
from vrm_dashboard.ui.states.audit_log import AuditLogState
from vrm_dashboard.ui.states.welcome import WelcomeState
from vrm_dashboard.ui.states.vendor_profile import VendorProfileState
from vrm_dashboard.ui.states.receivables import ReceivablesState
from vrm_dashboard.ui.states.intake import IntakeState
from vrm_dashboard.ui.states.invoice_detail import InvoiceDetailState
from vrm_dashboard.ui.states.invoices import InvoicesState
from vrm_dashboard.ui.states.payouts import PayoutsState
from vrm_dashboard.ui.states.distribution import DistributionState
from vrm_dashboard.ui.states.reconciliation import ReconciliationState
from vrm_dashboard.ui.states.session import SessionState
from vrm_dashboard.ui.states.settings import SettingsState
from vrm_dashboard.ui.states.controls import ControlsState
from vrm_dashboard.ui.states.mail_servers import MailServersState
from vrm_dashboard.ui.states.vendor_card import VendorCardState
from vrm_dashboard.ui.states.vendors import VendorsState
from vrm_dashboard.ui.states.vendor_review import OnboardingQueueState, VendorReviewState

settings()  # a bad setting stops start-up here, naming the setting

app = rx.App(api_transformer=build_api())


def _home() -> rx.Component:
    return rx.center(rx.spinner(), height="100vh")


app.add_page(_home, route="/", title="VRM Dashboard", on_load=SessionState.go_home)
app.add_page(login_page, route="/login", title="Sign in · VRM Dashboard")
app.add_page(welcome_page, route="/welcome", title="Choose your password · VRM Dashboard", on_load=WelcomeState.load)
app.add_page(overview_page, route="/overview", title="Overview · VRM Dashboard", on_load=OverviewState.load)
app.add_page(vendors_page, route="/vendors", title="Vendors · VRM Dashboard", on_load=[VendorsState.load, OnboardingQueueState.load])
app.add_page(screens.vendor_card_page, route="/vendor", title="Vendor · VRM Dashboard", on_load=[VendorCardState.load, VendorReviewState.load])
app.add_page(invoices_page, route="/invoices", title="Pending Invoices · VRM Dashboard", on_load=InvoicesState.load)
app.add_page(intake_page, route="/intake", title="Intake · VRM Dashboard", on_load=IntakeState.load)
app.add_page(invoice_detail_page, route="/invoice", title="Invoice · VRM Dashboard", on_load=InvoiceDetailState.load)
app.add_page(payouts_page, route="/payouts", title="Smart Payouts · VRM Dashboard", on_load=[PayoutsState.load, ReconciliationState.load])
app.add_page(distribution_page, route="/distribution", title="Distribution · VRM Dashboard", on_load=DistributionState.load)
app.add_page(terms_page, route="/terms", title="Payment Terms · VRM Dashboard", on_load=TermsState.load)
app.add_page(receivables_page, route="/receivables", title="Customer Invoices · VRM Dashboard", on_load=ReceivablesState.load)
app.add_page(audit_log_page, route="/audit", title="Audit Log · VRM Dashboard", on_load=AuditLogState.load)
app.add_page(screens.settings_page, route="/settings", title="Settings · VRM Dashboard", on_load=[SettingsState.load, BrandingState.load, ControlsState.load, MailServersState.load])
app.add_page(signup_page, route="/signup", title="Become a vendor · VRM Dashboard")
app.add_page(vendor_profile_page, route="/profile", title="My Profile · VRM Dashboard", on_load=VendorProfileState.load)
app.add_page(screens.portal_page, route="/portal", title="My Portal · VRM Dashboard", on_load=PortalState.load)

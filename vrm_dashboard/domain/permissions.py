"""Every action the product guards, and the roles it ships with.

The catalogue lives here; which role may do what is data in the database (seeded from
DEFAULT_GRANTS) so a platform admin can change it without a release. Grants are the
installation's, not one organization's: an organization admin runs its users, not the roles.
"""
from __future__ import annotations

from enum import Enum


class Action(str, Enum):
    VENDOR_VIEW = "vendor.view"
    VENDOR_CREATE = "vendor.create"
    VENDOR_UPDATE = "vendor.update"
    VENDOR_DEACTIVATE = "vendor.deactivate"
    VENDOR_VIEW_BANK_DETAILS = "vendor.view_bank_details"
    VENDOR_REVIEW = "vendor.review"
    VENDOR_WIDGET = "vendor.widget"
    INVOICE_VIEW = "invoice.view"
    INVOICE_EDIT = "invoice.edit"
    INVOICE_APPROVE = "invoice.approve"
    INVOICE_REJECT = "invoice.reject"
    INTAKE_IMPORT = "intake.import"
    PAYOUT_VIEW = "payout.view"
    PAYOUT_APPROVE = "payout.approve"
    PAYOUT_MANAGE = "payout.manage"
    DISTRIBUTION_VIEW = "distribution.view"
    DISTRIBUTION_MANAGE = "distribution.manage"
    TERMS_VIEW = "terms.view"
    TERMS_EDIT = "terms.edit"
    COLLECTION_MANAGE = "collection.manage"
    SETTINGS_VIEW = "settings.view"
    USER_MANAGE = "user.manage"
    ROLE_MANAGE = "role.manage"
    AUDIT_VIEW = "audit.view"
    API_KEY_MANAGE = "api_key.manage"
    PORTAL_USE = "portal.use"
    PLATFORM_MANAGE = "platform.manage"


ACTION_DESCRIPTIONS: dict[Action, str] = {
    Action.VENDOR_VIEW: "See vendors and their dashboard",
    Action.VENDOR_CREATE: "Add vendors",
    Action.VENDOR_UPDATE: "Edit vendors",
    Action.VENDOR_DEACTIVATE: "Deactivate vendors",
    Action.VENDOR_VIEW_BANK_DETAILS: "See vendors' payment details unmasked",
    Action.VENDOR_REVIEW: "Review onboarding vendors, their tax forms and documents, and approve them",
    Action.VENDOR_WIDGET: "Make, list and revoke widget links (a vendor: for itself only)",
    Action.INVOICE_VIEW: "See invoices",
    Action.INVOICE_EDIT: "Edit invoices",
    Action.INVOICE_APPROVE: "Approve invoices",
    Action.INVOICE_REJECT: "Reject invoices",
    Action.INTAKE_IMPORT: "Import activity data, vendors and invoice files",
    Action.PAYOUT_VIEW: "See payouts",
    Action.PAYOUT_APPROVE: "Approve payouts",
    Action.PAYOUT_MANAGE: "Retry failed payouts, record manual payments, import bank statements and rates",
    Action.DISTRIBUTION_VIEW: "See invoice distribution",
    Action.DISTRIBUTION_MANAGE: "Send invoices again, answer disputes and re-issue corrected invoices",
    Action.TERMS_VIEW: "See payment terms",
    Action.TERMS_EDIT: "Edit payment terms",
    Action.COLLECTION_MANAGE: "Collect customer payments, change posting dates, consolidate and stop reminders",
    Action.SETTINGS_VIEW: "Open the settings",
    Action.USER_MANAGE: ("Invite, deactivate and edit the users of one's own organization "
                         "(with platform.manage: of every organization, and move them between them)"),
    Action.ROLE_MANAGE: ("Change settings: branding, approval controls, connection tests "
                         "(with platform.manage: also roles and permissions)"),
    Action.AUDIT_VIEW: "Read the audit log",
    Action.API_KEY_MANAGE: "Create API keys",
    Action.PORTAL_USE: "Use the vendor portal",
    Action.PLATFORM_MANAGE: "Run the whole installation: every organization, roles and installation settings",
}


class RoleName(str, Enum):
    PLATFORM_ADMIN = "platform_admin"
    ADMIN = "admin"
    FINANCE_MANAGER = "finance_manager"
    APPROVER = "approver"
    VIEWER = "viewer"
    VENDOR = "vendor"


ROLE_DESCRIPTIONS: dict[RoleName, str] = {
    RoleName.PLATFORM_ADMIN: "The whole installation: every organization, roles and installation settings",
    RoleName.ADMIN: "Everything in its own organization, including its users and settings",
    RoleName.FINANCE_MANAGER: "Runs vendors, invoices, payouts, distribution and terms",
    RoleName.APPROVER: "Reviews and approves or rejects invoices and payouts",
    RoleName.VIEWER: "Reads dashboards; changes nothing",
    RoleName.VENDOR: "A vendor's own portal: its profile, invoices and payouts",
}

_READ = {
    Action.VENDOR_VIEW,
    Action.INVOICE_VIEW,
    Action.PAYOUT_VIEW,
    Action.DISTRIBUTION_VIEW,
    Action.TERMS_VIEW,
}

DEFAULT_GRANTS: dict[RoleName, frozenset[Action]] = {
    RoleName.PLATFORM_ADMIN: frozenset(a for a in Action if a is not Action.PORTAL_USE),
    # An organization's admin. What reaches past the organization (other organizations' users,
    # role grants, which are global rows, installation settings) takes platform.manage, which
    # the services check besides user.manage and role.manage.
    RoleName.ADMIN: frozenset(a for a in Action if a not in (Action.PORTAL_USE, Action.PLATFORM_MANAGE)),
    RoleName.FINANCE_MANAGER: frozenset(
        _READ
        | {
            Action.VENDOR_CREATE,
            Action.VENDOR_UPDATE,
            Action.VENDOR_DEACTIVATE,
            Action.VENDOR_VIEW_BANK_DETAILS,
            Action.VENDOR_REVIEW,
            Action.VENDOR_WIDGET,
            Action.INVOICE_EDIT,
            Action.INVOICE_APPROVE,
            Action.INVOICE_REJECT,
            Action.INTAKE_IMPORT,
            Action.PAYOUT_APPROVE,
            Action.PAYOUT_MANAGE,
            Action.DISTRIBUTION_MANAGE,
            Action.TERMS_EDIT,
            Action.COLLECTION_MANAGE,
            Action.AUDIT_VIEW,
            Action.API_KEY_MANAGE,
        }
    ),
    RoleName.APPROVER: frozenset(
        _READ | {Action.INVOICE_APPROVE, Action.INVOICE_REJECT, Action.PAYOUT_APPROVE}
    ),
    RoleName.VIEWER: frozenset(_READ),
    # A vendor links only its own figures (services.vendors.widget checks whose they are).
    RoleName.VENDOR: frozenset({Action.PORTAL_USE, Action.VENDOR_WIDGET}),
}

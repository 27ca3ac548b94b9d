"""Every table, imported in one place so metadata and migrations see them all."""
from vrm_dashboard.db.models._base import stored_id, table_of, utcnow
from vrm_dashboard.db.models.approvals import (
    AppSetting,
    InvoiceApproval,
    InvoiceFlag,
    InvoiceRollup,
    Notification,
    OrganizationSetting,
    UserPreference,
)
from vrm_dashboard.db.models.collection import CollectionAttempt, PaymentReminder, PaymentTermsChange
from vrm_dashboard.db.models.distribution import DisputeStatus, InvoiceDispute
from vrm_dashboard.db.models.documents import EmailDelivery, StoredDocument
from vrm_dashboard.db.models.intake import (
    ActivityRecord,
    ActivitySource,
    Intake,
    InvoiceExtraction,
    RateCard,
    RateRule,
    VendorReadingHint,
)
from vrm_dashboard.db.models.invoices import DocumentType, Invoice, InvoiceKind, InvoiceLine
from vrm_dashboard.db.models.operations import AuditEntry, JobRun
from vrm_dashboard.db.models.organizations import Organization, OrganizationTier
from vrm_dashboard.db.models.payouts import (
    BankStatement,
    ExchangeRate,
    PaymentFile,
    PaymentTransaction,
    Payout,
    PayoutApproval,
    PayoutStatus,
    StatementLine,
    TransactionStatus,
)
from vrm_dashboard.db.models.people import (
    ApiKey,
    LoginSession,
    Permission,
    Role,
    RolePermission,
    ThrottleEvent,
    User,
    UserRole,
)
from vrm_dashboard.db.models.vendors import (
    Vendor,
    VendorBalance,
    VendorContact,
    VendorDocument,
    VendorOnboarding,
    VendorTaxForm,
    VendorWidgetLink,
)

__all__ = [
    "table_of", "ActivityRecord", "ActivitySource", "Intake", "InvoiceExtraction", "RateCard", "RateRule", "VendorReadingHint",
    "ApiKey", "AppSetting", "OrganizationSetting", "CollectionAttempt", "PaymentReminder", "PaymentTermsChange", "AuditEntry", "InvoiceApproval", "InvoiceFlag", "InvoiceRollup",
    "Notification", "UserPreference", "DisputeStatus", "DocumentType", "EmailDelivery", "InvoiceDispute", "Invoice", "InvoiceKind", "InvoiceLine",
    "JobRun", "LoginSession", "BankStatement", "ExchangeRate", "PaymentFile", "PayoutApproval",
    "StatementLine", "Organization", "OrganizationTier", "PaymentTransaction",
    "Payout", "PayoutStatus", "Permission", "Role", "RolePermission", "StoredDocument",
    "TransactionStatus", "User", "UserRole", "Vendor", "VendorBalance", "VendorContact", "VendorDocument", "VendorOnboarding", "VendorTaxForm",
    "ThrottleEvent", "VendorWidgetLink",
    "stored_id", "utcnow",
]

"""Realistic demo data in every status and currency, fast enough for a million invoices."""
from __future__ import annotations

import gc
import json
import random
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Iterator

from schwifty import IBAN
from sqlalchemy import String, and_, case, cast, func, insert, literal, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from vrm_dashboard.db.bulk import bulk_load, driver_value, indexes_deferred, insert_rows
from vrm_dashboard.db.models import Invoice, InvoiceLine, Organization, PaymentTransaction, Payout, Vendor
from vrm_dashboard.domain.invoice_status import InvoiceStatus as S
from vrm_dashboard.domain.money import exponent
from vrm_dashboard.domain.permissions import RoleName
from vrm_dashboard.domain.vendor_rules import PAYMENT_SOURCES
from vrm_dashboard.services.distribution import dispatch as distribution
from vrm_dashboard.services.identity import access_control
from vrm_dashboard.services.identity.users import add_user, find_by_email
from vrm_dashboard.services.invoices import flags as invoice_flags, rollup as invoice_rollup
from vrm_dashboard.services.payouts.records import rail_of_method_column
from vrm_dashboard.services.platform.actors import Actor
from vrm_dashboard.services.receivables import records as receivables


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    password: str
    # Staff belong to the distributor (1); the seller's admin to Seller 1 (7).
    organization_id: int | None = 1


DEMO_LOGINS = (
    # Runs the whole installation: every organization, roles, mail servers.
    DemoLogin(RoleName.PLATFORM_ADMIN.value, "platform@vrm.example", "platform-demo-2026"),
    # Northwind's own admin: its users and settings only.
    DemoLogin(RoleName.ADMIN.value, "admin@vrm.example", "admin-demo-2026"),
    DemoLogin(RoleName.FINANCE_MANAGER.value, "finance@vrm.example", "finance-demo-2026"),
    DemoLogin(RoleName.APPROVER.value, "approver@vrm.example", "approver-demo-2026"),
    DemoLogin(RoleName.VIEWER.value, "viewer@vrm.example", "viewer-demo-2026"),
    DemoLogin(RoleName.VENDOR.value, "vendor@vrm.example", "vendor-demo-2026", None),
)
# A finance manager of a seller: manages only that seller's end customers.
SELLER_LOGIN = DemoLogin(RoleName.FINANCE_MANAGER.value, "seller@vrm.example", "seller-demo-2026", 7)
ALL_DEMO_LOGINS = (*DEMO_LOGINS, SELLER_LOGIN)

# (country, currency, payment method): the mix a European/US payables team sees.
_PROFILES = (
    ("DE", "EUR", "sepa"), ("DE", "EUR", "sepa"), ("FR", "EUR", "sepa"), ("NL", "EUR", "sepa"),
    ("ES", "EUR", "sepa"), ("US", "USD", "ach"), ("US", "USD", "ach"), ("US", "USD", "paypal"),
    ("GB", "GBP", "wire"), ("JP", "JPY", "wire"), ("BH", "BHD", "wire"), ("CA", "CAD", "paypal"),
    ("DE", "EUR", "manual"),
)
_SAMPLE_IBANS = {
    "FR": "FR1420041010050500013M02606", "NL": "NL91ABNA0417164300",
    "ES": "ES9121000418450200051332", "GB": "GB29NWBK60161331926819",
    "BH": "BH67BMAG00001299123456",
}
_ROUTING = ("011000015", "021000021", "026009593", "121000358", "111000025")
_FIRST = ("Blue", "North", "Bright", "Silver", "Urban", "Green", "Rapid", "Prime", "Nova",
          "Alpine", "Coastal", "Golden", "Lunar", "Metro", "Pixel", "Quantum", "Red", "Solar")
_SECOND = ("Media", "Publishing", "Creators", "Studios", "Traffic", "Commerce", "Digital",
           "Partners", "Labs", "Network", "Sellers", "Reviews", "Deals", "Influence", "Works")
_SUFFIX = ("GmbH", "SAS", "B.V.", "S.L.", "LLC", "Inc.", "Ltd", "K.K.", "W.L.L.", "Corp.", "AG")
_LINES = ("Affiliate commissions", "Sponsored content", "Publisher revenue share",
          "Marketplace sales", "Creative services", "Lead generation", "Consulting hours")

# Status mix of a live book: most invoices paid, every status present.
_STATUS_WEIGHTS = (
    (S.DRAFT, 3), (S.DRAFT_VALID, 3), (S.PENDING, 12), (S.REJECTED, 3), (S.APPROVED, 8),
    (S.ARCHIVED, 3), (S.PROCESSING, 4), (S.FAILED, 2), (S.PAID, 62),
)
_PAYOUT_OF = {
    S.APPROVED: "awaiting_payout", S.PROCESSING: "processing", S.FAILED: "failed", S.PAID: "paid",
}
_TRANSACTION_OF = {S.PROCESSING: "processing", S.FAILED: "failed", S.PAID: "paid"}
_OLD = frozenset({S.PAID, S.ARCHIVED})
_VALUE = {s: s.value for s in S}


@dataclass
class SeedReport:
    organizations: int = 0
    vendors: int = 0
    invoices: int = 0
    invoice_lines: int = 0
    payouts: int = 0
    transactions: int = 0
    users: int = 0


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Millions of freshly made row tuples hold no cycles; scanning them repeatedly for
    cycles would cost more than making them."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _next_id(conn: Connection, model) -> int:  # type: ignore[no-untyped-def]
    return int(conn.execute(select(func.coalesce(func.max(model.id), 0))).scalar_one()) + 1


def _seed_organizations(conn: Connection, now: datetime) -> int:
    """Northwind (the root), its direct customers and sellers, and the sellers' end customers.
    A database fresh from its migrations holds only the root placeholder (id 1): it becomes
    Northwind."""
    existing = conn.execute(select(Organization.id)).scalars().all()
    if existing and existing != [1]:
        return 0
    at = driver_value(conn, now)
    if existing:
        conn.execute(update(Organization).where(Organization.id == 1).values(
            name="Northwind Distribution", tier="distributor", erp_id="ERP-1000", country="DE",
            billing_email="ap@northwind.example"))
    rows = [] if existing else [
        (1, "Northwind Distribution", "distributor", None, "ERP-1000", "DE", None, True, "ap@northwind.example", at, at)]
    for i in range(5):
        rows.append((2 + i, f"Direct Customer {i + 1}", "direct_customer", 1, f"ERP-20{i}", "DE", None, True, f"billing{i}@customer.example", at, at))
    for i in range(3):
        rows.append((7 + i, f"Seller {i + 1}", "seller", 1, f"ERP-30{i}", "US", 45 if i == 0 else None, True, f"ap{i}@seller.example", at, at))
    for i in range(6):
        rows.append((10 + i, f"End Customer {i + 1}", "end_customer", 7 + i % 3, f"ERP-40{i}", "US", None, True, f"ap{i}@end.example", at, at))
    # Most customers let us charge a card or a direct-debit mandate; the rest pay by transfer.
    methods = {2: "credit_card", 3: "credit_card", 4: "ach", 5: "credit_card", 10: "ach", 11: "credit_card", 13: "ach"}
    rows = [(*row, methods.get(row[0])) for row in rows]
    made = len(existing) + insert_rows(conn, "organization", ["id", "name", "tier", "parent_id", "erp_id", "country",
                       "payment_terms_days", "is_active", "billing_email", "created_at", "updated_at",
                       "collection_method"], rows)
    # Seller 1 pays its own vendors from its own account (Northwind from the installation's).
    insert_rows(conn, "organization_setting", ["owner_id", "key", "value", "updated_at"], [
        (SELLER_1, key, json.dumps(value), at) for key, value in SELLER_1_PAYER.items()])
    return made


SELLER_1_PAYER = {"payouts.payer_name": "Seller 1 Inc.", "payouts.payer_iban": "DE02100100100006820101",
                  "payouts.payer_bic": "PBNKDEFF", "payouts.ach_company_id": "1987654321",
                  "payouts.ach_origin_routing": "021000021"}


def _seed_receivables(session: Session, rng: random.Random, today: date) -> int:
    """Half a year of customer invoices for every customer, so terms, collection and aging
    have something to show; older ones mostly paid."""
    if session.execute(select(func.count()).select_from(Invoice).where(Invoice.organization_id.is_not(None))).scalar_one():
        return 0
    actor = Actor.system("seed")
    customers = session.execute(select(Organization).where(Organization.parent_id.is_not(None))
                                .order_by(Organization.id)).scalars().all()
    made = 0
    for org in customers:
        currency = "EUR" if org.country == "DE" else "USD"
        for months_ago in range(6, -1, -1):
            issued = today - timedelta(days=30 * months_ago + rng.randrange(0, 20))
            lines = [receivables.ChargeLine(rng.choice(("Licences", "Support plan", "Hardware", "Services")),
                                            Decimal(rng.randrange(1, 20)), rng.randrange(50, 900) * 100)]
            invoice = receivables.bill(session, actor, org.id, currency, lines, issued, Decimal(19 if currency == "EUR" else 0))
            if months_ago >= 3 and rng.random() < 0.7:
                invoice.status, invoice.payment_method = "paid", org.collection_method or "wire"
            made += 1
    return made


def _vendor_rows(conn: Connection, rng: random.Random, count: int, first_id: int, now: datetime):  # type: ignore[no-untyped-def]
    at = driver_value(conn, now)
    for n in range(count):
        vid = first_id + n
        country, currency, method = _PROFILES[rng.randrange(len(_PROFILES))]
        name = f"{rng.choice(_FIRST)} {rng.choice(_SECOND)} {vid}"
        iban = bic = account = routing = paypal = None
        if method in ("sepa", "manual") or (method == "wire" and country in _SAMPLE_IBANS):
            iban = (str(IBAN.generate("DE", bank_code="37040044", account_code=str(10_000_000 + vid)).compact)
                    if country == "DE" else _SAMPLE_IBANS.get(country, "DE89370400440532013000"))
        elif method == "wire":
            bic, account = "BOTKJPJT", f"{rng.randrange(10**7, 10**8)}"
        elif method == "ach":
            routing, account = rng.choice(_ROUTING), f"{rng.randrange(10**8, 10**10)}"
        else:
            paypal = f"payouts@vendor{vid}.example"
        status = rng.choices(("active", "onboarding", "on_hold", "inactive"), (80, 8, 5, 7))[0]
        yield (
            vid, f"V{vid:05d}", name, f"{name} {rng.choice(_SUFFIX)}", f"ap@vendor{vid}.example",
            country, currency, method, rng.choice(PAYMENT_SOURCES), iban, bic, account, routing,
            paypal, None, None, status, _payer_of(vid), at, at,
        )


# Two organizations pay vendors in the demo: Northwind (the distributor) and Seller 1, which
# pays every fifth vendor. Each sees only its own vendors, invoices and payouts.
SELLER_1 = 7


def _payer_of(vendor_id: int) -> int:
    return SELLER_1 if vendor_id % 5 == 0 else 1


_CONTACT_NAMES = ("Alex Moreau", "Sam Becker", "Kim Jansen", "Lee Garcia", "Noa Smith", "Yuki Sato")


def _contact_rows(rng: random.Random, count: int, first_id: int):  # type: ignore[no-untyped-def]
    for n in range(count):
        vid = first_id + n
        yield (vid, rng.choice(_CONTACT_NAMES), f"finance@vendor{vid}.example", "Accounts receivable",
               f"+49 30 {rng.randrange(1_000_000, 9_999_999)}")


_VENDOR_COLUMNS = ["id", "vendor_code", "name", "legal_name", "email", "country", "currency",
                   "payment_method", "payment_source", "iban", "bic", "account_number",
                   "routing_number", "paypal_email", "tax_id", "vat_id", "activity_status",
                   "owner_id", "created_at", "updated_at"]
_INVOICE_COLUMNS = ["id", "number", "kind", "vendor_id", "owner_id", "organization_id", "currency",
                    "subtotal_minor", "tax_minor", "total_minor", "issue_date", "posting_date",
                    "due_date", "payment_terms_days", "payment_method", "status", "created_at",
                    "updated_at", "source_amount_minor", "source_kind", "created_by_id"]


def seed(engine: Engine, vendors: int, invoices: int, seed: int = 1, today: date | None = None) -> SeedReport:
    """Add `vendors` vendors and `invoices` invoices (with lines, payouts and transactions)."""
    rng = random.Random(seed)
    today = today or date.today()
    now = datetime.now(timezone.utc)
    report = SeedReport()
    with Session(engine) as session:
        access_control.install_catalogue(session)
        session.commit()
    with engine.begin() as conn:
        report.organizations = _seed_organizations(conn, now)
    with Session(engine) as session:
        report.users = _seed_demo_users(session)
        _seed_receivables(session, rng, today)
        session.commit()
        uploader = find_by_email(session, "finance@vrm.example")
        uploader_id = uploader.id if uploader else None
    # Every reference below is to a row just read or written here.
    with bulk_load(engine) as conn:
        first_vendor = _next_id(conn, Vendor)
        report.vendors = insert_rows(conn, "vendor", _VENDOR_COLUMNS,
                                     _vendor_rows(conn, rng, vendors, first_vendor, now))
        insert_rows(conn, "vendor_contact", ["vendor_id", "name", "email", "role", "phone"],
                    _contact_rows(rng, vendors, first_vendor))
        vendor_info = conn.execute(select(Vendor.id, Vendor.currency, Vendor.payment_method, Vendor.owner_id)).all()
        if invoices and vendor_info:
            with indexes_deferred(conn, ["invoice", "invoice_line", "payout", "payment_transaction", "invoice_flag"]), \
                    _no_cycle_collection():
                _seed_invoices(conn, rng, invoices, vendor_info, today, now, report, uploader_id)
        if conn.dialect.name == "postgresql":
            for table in ("organization", "vendor", "invoice", "payout", "payment_transaction"):
                conn.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM \"{table}\"), 1))"
                ))
    with Session(engine) as session:
        invoice_rollup.refresh(session)
        invoice_flags.reconcile(session)
        _link_demo_vendor_user(session)
        # The demo's invoices are history: only what happens after seeding is e-mailed.
        distribution.record_distribution_start(session)
        session.commit()
    return report


def _seed_invoices(conn, rng, count, vendor_info, today, now, report, uploader_id) -> None:  # type: ignore[no-untyped-def]
    """Invoices are drawn in Python; their lines, payouts and transactions follow from them
    in SQL, which writes a million dependent rows far faster than binding them one by one."""
    first_invoice = _next_id(conn, Invoice)
    at = driver_value(conn, now)
    day_text = {d: driver_value(conn, today - timedelta(days=d)) for d in range(-120, 400)}
    statuses = [s for s, _ in _STATUS_WEIGHTS]
    weights = [w for _, w in _STATUS_WEIGHTS]
    random = rng.random
    scale = {c: 10 ** exponent(c) for c in {cur for _, cur, _, _ in vendor_info}}
    picks = rng.choices(statuses, weights, k=count)
    vendor_count = len(vendor_info)

    def rows():  # type: ignore[no-untyped-def]
        for n in range(count):
            iid = first_invoice + n
            vendor_id, currency, method, owner = vendor_info[int(random() * vendor_count)]
            status = picks[n]
            # Paid and archived invoices are older; drafts and pending ones are recent.
            age = 40 + int(random() * 325) if status in _OLD else int(random() * 45)
            unit = scale[currency]
            total = (50 + int(random() * 24_950)) * unit + int(random() * unit)
            subtotal = total * 100 // 119
            parsed = n % 3 == 0
            # Most invoices match their source; a few differ or have none, for the reconciliation flags.
            check = random()
            source = None if check < 0.04 else (total + unit * (1 + int(random() * 500)) if check < 0.07 else total)
            yield (
                iid, f"INV-{iid:08d}", "parsed" if parsed else "self_generated", vendor_id, owner, None,
                currency, subtotal, total - subtotal, total, day_text[age], day_text[age],
                day_text[age - 30], 30, method, _VALUE[status], at, at,
                source, None if source is None else ("purchase_order" if parsed else "activity"),
                uploader_id if parsed else None,
            )

    report.invoices = insert_rows(conn, "invoice", _INVOICE_COLUMNS, rows(), convert=False)
    new = Invoice.id >= first_invoice
    description = case(*[((Invoice.id % len(_LINES)) == i, literal(text)) for i, text in enumerate(_LINES)])
    conn.execute(insert(InvoiceLine).from_select(
        ["invoice_id", "position", "description", "quantity", "unit_price_minor", "amount_minor"],
        select(Invoice.id, literal(1), description, literal(1), Invoice.subtotal_minor, Invoice.subtotal_minor)
        .where(new),
    ))
    payout_status = case(*[(Invoice.status == s.value, literal(p)) for s, p in _PAYOUT_OF.items()])
    conn.execute(insert(Payout).from_select(
        ["invoice_id", "vendor_id", "amount_minor", "currency", "status", "rail", "pay_date",
         "idempotency_key", "created_at", "updated_at"],
        select(Invoice.id, Invoice.vendor_id, Invoice.total_minor, Invoice.currency, payout_status,
               rail_of_method_column(Invoice.payment_method), Invoice.due_date, literal("invoice-") + cast(Invoice.id, String),
               Invoice.created_at, Invoice.updated_at)
        .where(new, Invoice.status.in_([s.value for s in _PAYOUT_OF])),
    ))
    # Demo transfers pay one payout each and share its id, so linking them is one UPDATE.
    with_transaction = and_(Payout.invoice_id >= first_invoice, Payout.status.in_(list(_TRANSACTION_OF.values())))
    conn.execute(insert(PaymentTransaction).from_select(
        ["id", "vendor_id", "rail", "idempotency_key", "status", "source_currency", "source_amount_minor",
         "target_currency", "target_amount_minor", "reference", "created_at", "updated_at", "paid_at"],
        select(Payout.id, Payout.vendor_id, Payout.rail, literal("demo-") + cast(Payout.id, String), Payout.status,
               Payout.currency, Payout.amount_minor, Payout.currency, Payout.amount_minor,
               literal("TX-") + cast(Payout.id, String), Payout.created_at, Payout.updated_at,
               # A paid demo transfer was paid when it was last changed: its remittance advice has a date.
               case((Payout.status == "paid", Payout.updated_at), else_=None))
        .where(with_transaction),
    ))
    conn.execute(update(Payout).where(with_transaction).values(transaction_id=Payout.id))
    # Counted afterwards: drivers do not all report rows written by INSERT ... SELECT.
    count = lambda stmt: int(conn.execute(stmt).scalar_one())  # noqa: E731
    report.invoice_lines = count(select(func.count()).select_from(InvoiceLine).where(InvoiceLine.invoice_id >= first_invoice))
    report.payouts = count(select(func.count()).select_from(Payout).where(Payout.invoice_id >= first_invoice))
    report.transactions = count(select(func.count()).select_from(PaymentTransaction).join(
        Payout, Payout.transaction_id == PaymentTransaction.id).where(Payout.invoice_id >= first_invoice))


def _link_demo_vendor_user(session: Session) -> None:
    """The demo vendor login belongs to the first vendor (users are made before vendors)."""
    user = find_by_email(session, "vendor@vrm.example")
    first = session.execute(select(Vendor.id).order_by(Vendor.id).limit(1)).scalar()
    if user is not None and user.vendor_id is None and first is not None:
        user.vendor_id = first
        session.add(user)


def _seed_demo_users(session: Session) -> int:
    actor = Actor.system("seed")
    created = 0
    for login in ALL_DEMO_LOGINS:
        if find_by_email(session, login.email):
            continue
        name = "Demo Seller Admin" if login.organization_id == 7 else f"Demo {login.role.replace('_', ' ').title()}"
        add_user(session, actor, login.email, name, login.password, [login.role], organization_id=login.organization_id)
        created += 1
    return created


def is_empty(engine: Engine) -> bool:
    with engine.connect() as conn:
        return not conn.execute(select(func.count()).select_from(Vendor)).scalar_one()

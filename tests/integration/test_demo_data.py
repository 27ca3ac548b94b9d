"""Demo data covers every status and currency and agrees with its own rollup."""
from sqlalchemy import func
from sqlmodel import Session, select

from vrm_dashboard.db.models import Invoice, InvoiceRollup, Payout, User
from vrm_dashboard.demo.seeder import ALL_DEMO_LOGINS, seed
from vrm_dashboard.domain.invoice_status import InvoiceStatus
from vrm_dashboard.services.identity.auth import sign_in
from vrm_dashboard.services.invoices import rollup as invoice_rollup


def _rollup(session):
    return sorted(tuple(r) for r in session.exec(
        select(InvoiceRollup.vendor_id, InvoiceRollup.currency, InvoiceRollup.status,
               InvoiceRollup.invoice_count, InvoiceRollup.amount_minor)).all())


def test_seed_fills_every_status_and_currency_and_demo_logins_work(db):
    report = seed(db, vendors=60, invoices=3000, seed=7)
    assert (report.vendors, report.invoices) == (60, 3000)
    with Session(db) as session:
        statuses = set(session.exec(select(Invoice.status).distinct()).all())
        currencies = set(session.exec(select(Invoice.currency).distinct()).all())
        assert statuses == {s.value for s in InvoiceStatus}
        assert {"EUR", "USD", "GBP", "JPY", "BHD"} <= currencies
        assert session.exec(select(func.count()).select_from(Payout)).one() == report.payouts
        stored = _rollup(session)
        invoice_rollup.refresh(session)
        assert _rollup(session) == stored
        for login in ALL_DEMO_LOGINS:
            assert sign_in(session, login.email, login.password).actor.roles == {login.role}


def test_seeding_again_adds_rather_than_clashes(db):
    seed(db, vendors=5, invoices=50, seed=1)
    seed(db, vendors=5, invoices=50, seed=2)
    with Session(db) as session:
        assert session.exec(select(func.count()).select_from(Invoice).where(Invoice.vendor_id.is_not(None))).one() == 100
        # Customers' invoices are seeded once, with the organizations.
        assert session.exec(select(func.count()).select_from(Invoice).where(Invoice.organization_id.is_not(None))).one() == 14 * 7
        assert session.exec(select(func.count()).select_from(User)).one() == len(ALL_DEMO_LOGINS)


def test_the_bulk_load_gives_its_connection_back_with_foreign_keys_enforced(db):
    if db.dialect.name != "sqlite":
        return
    seed(db, vendors=3, invoices=10, seed=3)
    for _ in range(db.pool.size() + 1):
        with db.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1

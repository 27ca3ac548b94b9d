"""Small builders the tests share."""
from __future__ import annotations

from datetime import date

from sqlmodel import Session

from vrm_dashboard.db.models import Invoice
from vrm_dashboard.domain.vendor_rules import VendorInput
from vrm_dashboard.services.platform.actors import Actor, load_actor
from vrm_dashboard.services.identity.users import add_user

SYSTEM = Actor.system("tests")
# The invoices' due date: today at the earliest, so a payout waits for it (rather than being
# overdue and paid at once) whatever day the suite runs.
DUE_DAY = max(date(2026, 12, 1), date.today())


def make_user(session: Session, role: str, email: str | None = None, vendor_id: int | None = None) -> Actor:
    user = add_user(session, SYSTEM, email or f"{role}@test.example", f"Test {role}",
                    "correct-horse-battery", [role], vendor_id=vendor_id)
    session.commit()
    actor = load_actor(session, user.id)
    assert actor is not None
    return actor


def vendor_input(**overrides: str) -> VendorInput:
    values = dict(vendor_code="ACME-1", name="Acme Media", email="ap@acme.example", country="DE",
                  currency="EUR", payment_method="sepa", iban="DE89 3704 0044 0532 0130 00")
    values.update(overrides)
    return VendorInput(**values)


def make_invoice(session: Session, vendor_id: int, number: str, total_minor: int,
                 status: str = "pending", currency: str = "EUR") -> Invoice:
    invoice = Invoice(number=number, kind="parsed", vendor_id=vendor_id, currency=currency,
                      subtotal_minor=total_minor, tax_minor=0, total_minor=total_minor,
                      issue_date=date(2026, 11, 1), due_date=DUE_DAY, status=status)
    session.add(invoice)
    session.flush()
    return invoice

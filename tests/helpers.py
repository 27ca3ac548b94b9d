"""Small builders the tests share."""
from __future__ import annotations

import asyncio
import contextvars
import inspect
import os
import socket
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import reflex as rx
from sqlalchemy import Engine, func, select
from sqlmodel import Session, SQLModel

from vrm_dashboard import config
from vrm_dashboard.db import engine as engine_module
from vrm_dashboard.db.models import Invoice, Organization
from vrm_dashboard.domain.vendor_rules import VendorInput
from vrm_dashboard.services.identity import auth
from vrm_dashboard.services.identity.users import add_user
from vrm_dashboard.services.platform.actors import Actor, load_actor
from vrm_dashboard.services.vendors import rate_rules, records as vendor_service

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


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def ui_state(cls: type[rx.State], token: str = "") -> Any:
    """A page state as Reflex builds it for one browser, signed in with `token`."""
    root = rx.State(_reflex_internal_init=True)
    state = root.get_substate(cls.get_full_name().split(".")[1:])
    state.token = token
    return state


def signed_in_token(db: Engine, role: str, email: str | None = None) -> str:
    """A new user of `role`, signed in: its session token."""
    with Session(db) as session:
        make_user(session, role, email=email)
        token = auth.sign_in(session, email or f"{role}@test.example", "correct-horse-battery").token
        session.commit()
    return token


def call_handler(cls: type[rx.State], state: Any, name: str, *args: Any) -> Any:
    """Call an event handler as a crafted event from the browser would; an async one runs to
    its end, on a loop of its own in a worker thread (another loop may run in this thread:
    Playwright's, when the browser tests ran first)."""
    result = cls.event_handlers[name].fn(state, *args)
    if inspect.iscoroutine(result):
        with ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(contextvars.copy_context().run, asyncio.run, result).result()
    return result


def sign_in(page: Any, email: str, password: str) -> None:
    """Sign in through the browser's sign-in page."""
    page.goto("/login")
    page.get_by_test_id("login-email").fill(email)
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-submit").click()


def use_database(url: str) -> Engine:
    """Point the process (settings, engine) at this database, as a fresh start would."""
    os.environ["VRM_DATABASE_URL"] = url
    config.settings.cache_clear()
    engine_module.engine.cache_clear()
    return engine_module.engine()


def count_rows(session: Session, model: type[SQLModel]) -> int:
    """How many rows a table holds."""
    return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def finance_with_a_paid_per_click_vendor(session: Session) -> Actor:
    """A finance manager, and one vendor (ACME-1) earning EUR 0.01 a click: what activity imports need."""
    finance = make_user(session, "finance_manager")
    vendor = vendor_service.create_vendor(session, finance, vendor_input())
    rate_rules.set_rate_card(session, finance, vendor.id, "EUR")
    rate_rules.set_rate_rule(session, finance, vendor.id, "clicks", per_unit_rate="0.01")
    session.commit()
    return finance


def northwind_and_seller(session: Session) -> tuple[Organization, Organization]:
    """Two paying organizations: Northwind (a root distributor) and its Seller 1, flushed."""
    northwind = Organization(name="Northwind", tier="distributor", country="DE")
    session.add(northwind)
    session.flush()
    seller = Organization(name="Seller 1", tier="seller", country="DE", parent_id=northwind.id)
    session.add(seller)
    session.flush()
    return northwind, seller

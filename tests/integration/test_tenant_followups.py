"""Follow-ups of the review of organizations as tenants, under two organizations on both
databases: run reports and audit entries reach only the organization they are about, the
command line asks which organization a code of several means, and a record of another
organization (or another vendor) answers as a missing one.

Northwind is the root organization, Fabrikam a seller below it (tests/integration/
test_tenant_bulk_paths.world); a platform admin's home is Northwind.
"""
from __future__ import annotations

import io
import sys

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from tests.helpers import SYSTEM, make_invoice, vendor_input
from tests.integration.test_tenant_bulk_paths import PASSWORD, acting, world
from vrm_dashboard.cli import main as vrm
from vrm_dashboard.db.models import (
    ActivityRecord,
    AuditEntry,
    JobRun,
    PaymentTermsChange,
    PaymentTransaction,
    User,
    Vendor,
    utcnow,
)
from vrm_dashboard.domain.permissions import Action
from vrm_dashboard.services.identity import access_control, api_keys, user_admin
from vrm_dashboard.services.identity.users import add_user
from vrm_dashboard.services.intake import activity_import, connectors, log as intake_log
from vrm_dashboard.services.payouts import remittance
from vrm_dashboard.services.platform import audit_queries, documents, settings as app_settings
from vrm_dashboard.services.platform.actors import Actor, load_actor
from vrm_dashboard.services.platform.audit_queries import AuditQuery
from vrm_dashboard.services.platform.errors import FieldErrors, NotFound, ServiceError
from vrm_dashboard.services.platform.job_runs import run_recorded
from vrm_dashboard.services.receivables import organizations
from vrm_dashboard.services.vendors import rate_rules, records as vendor_service


def _platform_admin(db: Engine, organization_id: int) -> Actor:
    with Session(db) as session:
        user = add_user(session, SYSTEM, "root@northwind.example", "Root", PASSWORD, ["platform_admin"],
                        organization_id=organization_id)
        session.commit()
        actor = load_actor(session, user.id)
    assert actor is not None and actor.can(Action.PLATFORM_MANAGE)
    return actor


# --- 1. connector and mailbox run reports ----------------------------------------------------

def test_a_connectors_run_shows_each_organization_only_its_own_sources(db):
    w = world(db)
    for actor, name in ((w.north, "north-feed"), (w.fab, "fab-feed")):
        with acting(db, actor) as session:
            connectors.configure_source(session, actor, name, "http_json", {"url": "http://127.0.0.1:9/none"})
            session.commit()
    run_recorded(db, "sync_activity_sources", connectors.sync_all)
    with Session(db) as session:
        # The installation's mailbox failed: its report is the installation's own.
        session.add(JobRun(job="poll_invoice_mailbox", status="failed", errors=1, finished_at=utcnow(),
                           detail="LoginError: mailbox invoices@northwind.example refused"))
        session.commit()
    admin = _platform_admin(db, w.northwind.id)

    def seen(actor: Actor) -> list[intake_log.SyncRun]:
        with acting(db, actor) as session:
            return intake_log.recent_sync_runs(session, actor)

    [fab_run] = seen(w.fab)
    assert fab_run.job == "sync_activity_sources" and fab_run.errors == 1 and fab_run.status == "partly_failed"
    assert [p.split(":")[0] for p in fab_run.problems] == ["fab-feed"]
    assert "north-feed" not in fab_run.detail
    mailbox, north_run = seen(w.north)
    assert mailbox.job == "poll_invoice_mailbox" and "LoginError" in mailbox.problems[0]
    assert [p.split(":")[0] for p in north_run.problems] == ["north-feed"] and north_run.errors == 1
    _, every = seen(admin)
    assert sorted(p.split(":")[0] for p in every.problems) == ["fab-feed", "north-feed"] and every.errors == 2


# --- 2. whose audit entries ------------------------------------------------------------------

def _entries(db: Engine, actor: Actor, object_type: str) -> list[AuditEntry]:
    with acting(db, actor) as session:
        return audit_queries.search(session, actor, AuditQuery(object_type=object_type, page_size=200)).rows


def test_audit_entries_belong_to_the_organization_they_are_about_or_to_the_installation(db):
    w = world(db)
    admin = _platform_admin(db, w.northwind.id)
    with acting(db, admin) as session:
        # The platform admin (at home in Northwind) works on Fabrikam's admin's account ...
        user_admin.set_roles(session, admin, w.fab.user_id, ["admin", "viewer"])
        api_keys.create_api_key(session, admin, "fab's robot", user_id=w.fab.user_id)
        # ... and on the installation's own: a role grant, an installation-wide setting and the
        # installation's value of a business setting.
        access_control.set_grant(session, admin, "viewer", Action.AUDIT_VIEW, True)
        app_settings.put(session, admin, app_settings.MAX_RATE_AGE_DAYS, 3)
        app_settings.put(session, admin, app_settings.BRAND_NAME, "The installation")
        session.commit()
    with acting(db, w.fab) as session:
        app_settings.put(session, w.fab, app_settings.BRAND_NAME, "Fabrikam Trading")
        session.commit()

    fab_user = str(w.fab.user_id)
    assert [e.action for e in _entries(db, w.fab, "user") if e.object_id == fab_user] == ["user.roles", "user.create"]
    assert [e.action for e in _entries(db, w.fab, "api_key")] == ["api_key.create"]
    # Its own setting, and the payer account a platform admin set for it (world()), in its own log.
    assert sorted(e.object_id for e in _entries(db, w.fab, "setting")) == sorted(
        [app_settings.BRAND_NAME, app_settings.PAYER_IBAN, app_settings.PAYER_BIC])
    # Northwind's log holds nothing of Fabrikam's accounts, nor the installation's own entries.
    assert [e for e in _entries(db, w.north, "user") if e.object_id == fab_user] == []
    assert _entries(db, w.north, "api_key") == [] and _entries(db, w.north, "role") == []
    assert _entries(db, w.north, "setting") == []
    with Session(db) as session:
        unowned = session.execute(select(AuditEntry.action, AuditEntry.object_id)
                                  .where(AuditEntry.owner_id.is_(None))).all()
    assert sorted(unowned) == sorted([("role.grant", "viewer"), ("setting.update", app_settings.MAX_RATE_AGE_DAYS),
                                      ("setting.update", app_settings.BRAND_NAME)])
    # The platform admin reads them all.
    assert {e.action for e in _entries(db, admin, "role")} == {"role.grant"}
    assert len(_entries(db, admin, "setting")) == 5  # and Fabrikam's payer account, set in world()


# --- 3. the command line and codes of several organizations ----------------------------------

def _shared_vendor(db: Engine, actor: Actor, source: str | None) -> Vendor:
    """A vendor SHARED-1 paid per click (each organization may have one), and a source `source`."""
    with acting(db, actor) as session:
        vendor = vendor_service.create_vendor(session, actor, vendor_input(vendor_code="SHARED-1", name="Shared"))
        rate_rules.set_rate_card(session, actor, vendor.id, "EUR")
        rate_rules.set_rate_rule(session, actor, vendor.id, "clicks", per_unit_rate="0.01")
        if source:
            activity_import.save_mapping(session, actor, source, {})
        session.commit()
        return vendor


def _clicks_of(db: Engine, vendor: Vendor) -> int:
    with Session(db) as session:
        return int(session.execute(select(func.count()).select_from(ActivityRecord)
                                   .where(ActivityRecord.vendor_id == vendor.id)).scalar_one())


def test_the_command_line_asks_which_organization_a_vendor_id_or_source_of_several_means(
        db, tmp_path, monkeypatch, capsys):
    w = world(db)
    north_shared = _shared_vendor(db, w.north, "feed")
    fab_shared = _shared_vendor(db, w.fab, "feed")
    with acting(db, w.north) as session:
        activity_import.save_mapping(session, w.north, "north-feed", {})
        session.commit()

    def user_add(email: str, *more: str) -> int:
        monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
        return vrm(["user", "add", "--email", email, "--name", "V", "--role", "vendor", *more])

    assert user_add("v@shared.example", "--vendor-code", "SHARED-1") == 1
    assert "more than one organization" in capsys.readouterr().err
    assert user_add("v@shared.example", "--vendor-code", "SHARED-1", "--organization", str(w.fabrikam.id)) == 0
    # A vendor ID one organization alone uses needs no more than before.
    assert user_add("v@fab.example", "--vendor-code", "FAB-1") == 0
    with Session(db) as session:
        vendors = {u.email: u.vendor_id for u in session.execute(select(User)).scalars()}
    assert vendors["v@shared.example"] == fab_shared.id and vendors["v@fab.example"] == w.fab_vendor.id

    clicks = tmp_path / "clicks.csv"
    clicks.write_text("vendor,activity_type,date,quantity\nSHARED-1,clicks,2026-10-01,100\n")
    assert vrm(["import", "activity", str(clicks), "--source", "feed"]) == 1
    assert "more than one organization" in capsys.readouterr().err
    assert (_clicks_of(db, north_shared), _clicks_of(db, fab_shared)) == (0, 0)
    assert vrm(["import", "activity", str(clicks), "--source", "feed", "--organization", str(w.fabrikam.id)]) == 0
    assert (_clicks_of(db, north_shared), _clicks_of(db, fab_shared)) == (0, 1)
    # A source one organization alone keeps: its rows name that organization's vendors.
    assert vrm(["import", "activity", str(clicks), "--source", "north-feed"]) == 0
    assert (_clicks_of(db, north_shared), _clicks_of(db, fab_shared)) == (1, 1)


# --- 4. terms changes ------------------------------------------------------------------------

def test_a_terms_change_is_read_only_by_the_organization_that_sets_those_terms(db):
    w = world(db)
    with acting(db, w.north) as session:
        organizations.set_terms(session, w.north, [w.fabrikam.id], 45)
        session.commit()
    with acting(db, w.fab) as session:
        tailspin = organizations.create_organization(session, w.fab, "Tailspin", "end_customer", "DE")
        organizations.set_terms(session, w.fab, [tailspin.id], 14)
        session.commit()

    def changes(actor: Actor) -> list[tuple[int, int | None]]:
        with acting(db, actor) as session:
            return [(c.organization_id, c.days) for c in session.execute(select(PaymentTermsChange)).scalars()]

    # Fabrikam's terms are Northwind's to set and read; Tailspin's are Fabrikam's.
    assert changes(w.north) == [(w.fabrikam.id, 45)]
    assert changes(w.fab) == [(tailspin.id, 14)]


# --- 5. a new organization's parent ----------------------------------------------------------

def test_a_parent_of_another_organization_answers_as_a_missing_one(db):
    w = world(db)
    answers = []
    with acting(db, w.fab) as session:
        for parent_id in (w.northwind.id, 999_999):
            with pytest.raises((FieldErrors, ServiceError)) as refused:
                organizations.create_organization(session, w.fab, "Tailspin", "end_customer", "DE", parent_id)
            answers.append((type(refused.value), str(refused.value).replace(str(parent_id), "N")))
    assert answers[0] == answers[1] and "Northwind" not in answers[0][1]


# --- 6. another vendor's documents -----------------------------------------------------------

def test_another_vendors_transfer_or_invoice_answers_as_a_missing_one(db):
    w = world(db)
    with acting(db, w.fab) as session:
        other = vendor_service.create_vendor(session, w.fab, vendor_input(vendor_code="FAB-2", name="Other"))
        invoice = make_invoice(session, other.id, "FB-2", 5_000)
        invoice.document_id = documents.store(session, b"%PDF-1.4 other vendor", "fb-2.pdf", "application/pdf").id
        transfer = PaymentTransaction(vendor_id=other.id, status="submitted", source_currency="EUR",
                                      source_amount_minor=5_000, target_currency="EUR", target_amount_minor=5_000)
        session.add_all([invoice, transfer])
        session.commit()
        user = add_user(session, SYSTEM, "ap@fab-1.example", "FAB-1", PASSWORD, ["vendor"], vendor_id=w.fab_vendor.id)
        session.commit()
        portal = load_actor(session, user.id)
    assert portal is not None
    with acting(db, portal) as session:
        for missing, theirs in ((999_999, transfer.id),):
            with pytest.raises(NotFound) as gone:
                remittance.remittance_advice(session, portal, missing)
            with pytest.raises(NotFound) as hidden:
                remittance.remittance_advice(session, portal, theirs)
            assert str(hidden.value) == str(gone.value).replace(str(missing), str(theirs))
        with pytest.raises(NotFound) as gone:
            documents.invoice_original(session, portal, 999_999)
        with pytest.raises(NotFound) as hidden:
            documents.invoice_original(session, portal, invoice.id)
        assert str(hidden.value) == str(gone.value)
